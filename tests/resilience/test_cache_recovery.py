"""The cache at the service level: corrupt files and a full disk.

A corrupt cache is moved aside, reported once and rebuilt by a full sync (the
provider holds the truth; the outbox, a separate file, keeps the drafts). A full
disk fails the one change being saved with a clear error, leaves every file as it
was, and the service goes on working once there is space again.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest

from tests.resilience.conftest import Rig
from triage.store import storage
from triage.store.cache import CacheWriteError

BODY = "Hi Dana, the banners ship at 3pm. Alice"


def ids(service: object) -> list[str]:
    return [c.thread_id for c in list(service.queue_view())]  # type: ignore[attr-defined]


def damaged(path: Path, how: str) -> bytes:
    data = path.read_bytes()
    return {
        "garbage": b"\x00\xff\x1b[2J not json at all",
        "truncated": data[: len(data) // 2],
        "empty": b"",
        "not-tables": b'{"conversations": [1, 2, 3]}',
        "other-schema": data.replace(b'"schema":2', b'"schema":99'),
    }[how]


@pytest.mark.parametrize("how", ["garbage", "truncated", "empty", "not-tables", "other-schema"])
async def test_a_corrupt_cache_is_reported_once_and_rebuilt_by_a_full_sync(
    rig: Rig, how: str
) -> None:
    first = rig.open()
    await first.sync()
    expected = ids(first)
    first.save_draft(rig.demo.threads["breached-east"], BODY)
    bad = damaged(rig.cache_path, how)
    assert bad != rig.cache_path.read_bytes()
    rig.cache_path.write_bytes(bad)

    service = rig.open()  # the next start
    [report] = service.reports()
    assert str(rig.cache_path) in report and "rebuilding it from the provider" in report
    assert service.reports() == []  # told once
    [moved] = rig.cache_path.parent.glob("cache.json.corrupt-*")
    assert moved.read_bytes() == bad  # kept aside, not deleted
    assert [(d.status, d.body) for d in service.drafts()] == [("draft", BODY)]  # not in cache.json

    result = await service.sync()
    assert result.full and ids(service) == expected
    again = rig.open()
    assert again.reports() == [] and ids(again) == expected


@contextmanager
def disk_full(monkeypatch: pytest.MonkeyPatch, file_name: str) -> Iterator[list[str]]:
    """ENOSPC halfway through writing the temp file of `file_name` (the others are fine)."""
    real = storage._write_all
    hits: list[str] = []

    def write_all(fd: int, payload: bytes) -> None:
        target = os.readlink(f"/proc/self/fd/{fd}")
        if not Path(target).name.startswith(f".{file_name}.tmp-"):
            return real(fd, payload)
        hits.append(target)
        os.write(fd, payload[: len(payload) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as m:
        m.setattr(storage, "_write_all", write_all)
        yield hits


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.suffix == ".json"}


def assert_intact(directory: Path, before: dict[str, bytes]) -> None:
    assert snapshot(directory) == before
    assert [p.name for p in directory.iterdir() if ".tmp-" in p.name] == []
    for data in before.values():
        orjson.loads(data)


def escalated_on_server(rig: Rig, key: str) -> bool:
    emails = rig.demo.server.thread_emails(rig.demo.threads[key])
    return all(
        e.keywords.get("triage-escalated") for e in emails if "triage-note" not in e.keywords
    )


async def test_disk_full_during_escalate_is_a_clear_error_and_the_service_goes_on(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = rig.open()
    await service.sync()
    thread = rig.demo.threads["ok-central"]
    directory = rig.cache_path.parent
    before = snapshot(directory)
    with disk_full(monkeypatch, "outbox.json") as hits, pytest.raises(CacheWriteError) as err:
        await service.escalate(thread, "client threatens to leave")
    assert hits, "the fault was never injected"
    message = str(err.value)
    assert "No space left on device" in message and "previous version is kept" in message
    assert str(directory / "outbox.json") in message
    # Nothing queued, nothing changed: the user retries.
    assert_intact(directory, before)
    assert service.status().outbox_count == 0
    assert not escalated_on_server(rig, "ok-central")
    await service.escalate(thread, "client threatens to leave")
    assert escalated_on_server(rig, "ok-central")
    assert service.status().outbox_count == 0
    draft = await service.send_reply(service.save_draft(thread, BODY).id)
    assert draft.status == "sent"  # and the rest of the service still works


async def test_an_action_never_rewrites_the_conversations_file(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An action is durable in the small outbox file; the big file waits for the next sync,
    so a full disk there (or its cost at 50k conversations) never blocks an escalation."""
    service = rig.open()
    await service.sync()
    thread = rig.demo.threads["ok-central"]
    with disk_full(monkeypatch, "cache.json") as hits:
        await service.escalate(thread, "client threatens to leave")
    assert not hits
    assert escalated_on_server(rig, "ok-central")
    assert service.conversation(thread).escalated  # type: ignore[union-attr]  # shown at once
    await service.sync()
    cached = {c.thread_id: c for c in service.cache.conversations()}
    assert cached[thread].escalated  # confirmed by the provider


async def test_disk_full_before_a_send_sends_nothing_and_keeps_the_draft(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = rig.open()
    await service.sync()
    draft = service.save_draft(rig.demo.threads["breached-east"], BODY)
    with disk_full(monkeypatch, "outbox.json"), pytest.raises(CacheWriteError):
        await service.send_reply(draft.id)  # the Message-ID could not be recorded
    assert rig.demo.server.sent == []  # so nothing left
    assert [(d.status, d.body) for d in service.drafts()] == [("draft", BODY)]
    sent = await service.send_reply(draft.id)
    assert sent.status == "sent" and len(rig.demo.server.sent) == 1


@pytest.mark.parametrize("full", ["cache.json", "threads.json"])
async def test_disk_full_during_a_sync_keeps_the_queue_and_the_next_sync_catches_up(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, full: str
) -> None:
    service = rig.open()
    await service.sync()
    expected = ids(service)
    rig.demo.server.deliver(
        "Kyle Jensen", "kyle@prairiewind-outfitters.com", ["team@agency.example"],
        "Invoice question", "Is the March invoice final?", rig.clock.now(),
    )  # fmt: skip
    before = snapshot(rig.cache_path.parent)
    with disk_full(monkeypatch, full) as hits, pytest.raises(CacheWriteError):
        await service.sync()
    assert len(hits) == 1
    assert ids(service) == expected  # memory never holds what the disk does not
    if full == "cache.json":  # the thread references went first: they are only newer
        refs = orjson.loads(snapshot(rig.cache_path.parent).pop("threads.json"))
        assert len(refs["refs"]) == len(orjson.loads(before.pop("threads.json"))["refs"]) + 1
        before["threads.json"] = snapshot(rig.cache_path.parent)["threads.json"]
    assert_intact(rig.cache_path.parent, before)
    assert not service.status().syncing
    result = await service.sync()
    assert len(result.added) == 1 and len(ids(service)) == len(expected) + 1
    assert json.loads(rig.cache_path.read_bytes())  # valid JSON after all of it
