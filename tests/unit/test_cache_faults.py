"""The cache under write faults: full disk, file too big, I/O errors, a crash mid-save.

Faults are injected by monkeypatching the `os` functions the storage calls; the
previous file must stay intact and parseable, the error must say so plainly,
and the same Cache object must keep working once the fault is gone.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.builders import conversation, draft
from triage.clock import FrozenClock
from triage.store.cache import Cache, CacheWriteError, SyncState

CLOCK = FrozenClock(datetime(2026, 11, 26, 10, 15, tzinfo=UTC))
FAULTS = [errno.ENOSPC, errno.EFBIG, errno.EIO]


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    c = Cache(tmp_path / "cache.json", clock=CLOCK)
    c.apply_sync("a", [conversation(1)], [], state("s1"))
    c.put_outbox(draft("o1", "Dear"))
    yield c
    c.close()


def state(text: str) -> SyncState:
    return SyncState(text, None, {})


def ids(c: Cache) -> set[str]:
    return {x.thread_id for x in c.conversations()}


def failing(code: int) -> Callable[..., Any]:
    def fail(*args: Any) -> Any:
        raise OSError(code, os.strerror(code))

    return fail


def temp_files(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if ".tmp-" in p.name]


@pytest.mark.parametrize("code", FAULTS, ids=errno.errorcode.get)
@pytest.mark.parametrize("call", ["write", "fsync"])
def test_a_failed_outbox_save_keeps_the_old_file_and_the_cache_working(
    cache: Cache, monkeypatch: pytest.MonkeyPatch, code: int, call: str
) -> None:
    outbox = cache.path.with_name("outbox.json")
    before = outbox.read_bytes()
    with monkeypatch.context() as m:
        m.setattr(os, call, failing(code))
        with pytest.raises(CacheWriteError) as err:
            cache.put_outbox(draft("o1", "Dear Ann"))
    assert isinstance(err.value, OSError) and err.value.errno == code
    message = str(err.value)
    assert str(outbox) in message and os.strerror(code) in message
    assert "nothing on disk was damaged" in message
    assert outbox.read_bytes() == before
    assert json.loads(before)["outbox"]
    assert temp_files(cache.path.parent) == []
    assert cache.outbox_item("o1") == draft("o1", "Dear")
    # the fault is gone: the same object saves again
    cache.put_outbox(draft("o1", "Dear Ann"))
    assert json.loads(outbox.read_bytes())["outbox"]["1"]["body"] == "Dear Ann"


@pytest.mark.parametrize("code", FAULTS, ids=errno.errorcode.get)
def test_a_failed_sync_save_leaves_conversations_and_state_unchanged(
    cache: Cache, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    before = cache.path.read_bytes()
    with monkeypatch.context() as m:
        m.setattr(os, "write", failing(code))
        with pytest.raises(CacheWriteError, match="could not save the cache to"):
            cache.apply_sync("a", [conversation(2)], ["T00001"], state("s2"))
    assert cache.path.read_bytes() == before
    # memory matches the disk: a later sync starts from the saved state again
    assert cache.sync_state("a") == state("s1")
    assert ids(cache) == {"T00001"}
    cache.apply_sync("a", [conversation(3)], [], state("s3"))
    assert ids(cache) == {"T00001", "T00003"}


def test_a_write_that_fails_halfway_leaves_no_partial_file(
    cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write
    calls = 0

    def short_then_full(fd: int, data: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            return real_write(fd, bytes(data[:10]))  # a short write, then the disk fills
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    before = cache.path.read_bytes()
    monkeypatch.setattr(os, "write", short_then_full)
    with pytest.raises(CacheWriteError):
        cache.apply_sync("a", [conversation(1, escalated=True)], [], state("s2"))
    monkeypatch.undo()
    assert calls == 2
    assert cache.path.read_bytes() == before
    assert temp_files(cache.path.parent) == []


def test_a_crash_between_temp_write_and_replace_keeps_the_old_file(
    cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = cache.path.read_bytes()

    def crash(src: Any, dst: Any) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(CacheWriteError):
        cache.apply_sync("a", [conversation(1, escalated=True)], [], state("s2"))
    monkeypatch.undo()
    assert cache.path.read_bytes() == before
    assert temp_files(cache.path.parent) == []
    assert cache.conversations() == [conversation(1)]
    cache.apply_sync("a", [conversation(1, escalated=True)], [], state("s2"))
    assert json.loads(cache.path.read_bytes())["conversations"]["1"]["x"] is True


def test_temp_files_left_by_a_killed_process_are_removed_and_ignored(tmp_path: Path) -> None:
    path = tmp_path / "cache.json"
    c = Cache(path, clock=CLOCK)
    c.apply_sync("a", [conversation(1)], [], state(""))
    c.close()
    # what a process killed after writing its temp file leaves behind
    (tmp_path / ".cache.json.tmp-4242-deadbeef").write_bytes(b'{"half": ')
    (tmp_path / ".outbox.json.tmp-4242-cafebabe").write_bytes(b"")
    c = Cache(path, clock=CLOCK)
    try:
        assert temp_files(tmp_path) == []
        assert c.reports == [] and c.conversations() == [conversation(1)]
    finally:
        c.close()


def test_a_failed_audit_append_loses_only_that_entry(
    cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache.audit("alice", "escalate", "T1", "late")
    with monkeypatch.context() as m:
        m.setattr(os, "fsync", failing(errno.EIO))
        with pytest.raises(CacheWriteError):
            cache.audit("alice", "reassign", "T1", "workload")
    cache.audit("alice", "resolve", "T1", "replied")
    assert [e["action"] for e in cache.audit_log()] == ["escalate", "resolve"]
