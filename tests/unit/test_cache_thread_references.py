"""The thread references live in threads.json, read only when first needed: an
unreadable or lost file is moved aside or noticed, and the cache is rebuilt from the
provider; the conversations in the hot file are used meanwhile."""

from __future__ import annotations

import errno
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.builders import conversation as conv
from triage.clock import FrozenClock
from triage.store import storage
from triage.store.cache import Cache, CacheWriteError, SyncState

CLOCK = FrozenClock(datetime(2026, 11, 26, 10, 15, tzinfo=UTC))


def filled(tmp_path: Path) -> Path:
    path = tmp_path / "cache" / "cache.json"
    cache = Cache(path, clock=CLOCK)
    cache.apply_sync("a", [conv(1), conv(2)], [], SyncState("s1", CLOCK.now(), {}))
    cache.close()
    return path


def test_the_references_file_is_not_read_at_start(tmp_path: Path) -> None:
    path = filled(tmp_path)
    path.with_name("threads.json").write_bytes(b"\x00 not json")
    cache = Cache(path, clock=CLOCK)
    try:
        assert len(cache.stored()) == 2 and cache.reports == []  # the start never reads it
        [one, _two] = sorted(cache.conversations(), key=lambda c: c.thread_id)
        assert one.thread.message_ids == ()  # read now: unreadable, so only what is known
        assert cache.needs_full_sync and "thread-reference cache" in cache.reports[0]
        assert list(path.parent.glob("threads.json.corrupt-*"))
    finally:
        cache.close()


def test_a_lost_references_file_asks_for_a_full_sync(tmp_path: Path) -> None:
    path = filled(tmp_path)
    path.with_name("threads.json").unlink()
    cache = Cache(path, clock=CLOCK)
    try:
        assert cache.needs_full_sync and len(cache.conversations()) == 2
    finally:
        cache.close()


def test_the_references_come_back_exactly(tmp_path: Path) -> None:
    path = filled(tmp_path)
    cache = Cache(path, clock=CLOCK)
    try:
        got = {c.thread_id: c.thread for c in cache.conversations()}
        assert got == {"T00001": conv(1).thread, "T00002": conv(2).thread}
        assert not cache.needs_full_sync and cache.reports == []
        refs = json.loads(path.with_name("threads.json").read_text())["refs"]
        assert sorted(d["i"] for d in refs.values()) == ["T00001", "T00002"]
    finally:
        cache.close()


def test_a_crash_between_the_two_writes_of_a_sync_asks_for_a_full_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The references are written first: a sync that removed T00002 and then failed
    to write the hot file leaves the references a round ahead (T00002's mail gone from
    them while the hot file still lists it). That must not pass for a good cache."""
    path = filled(tmp_path)
    cache = Cache(path, clock=CLOCK)
    real = storage._write_all

    def hot_write_fails(fd: int, payload: bytes) -> None:
        if Path(os.readlink(f"/proc/self/fd/{fd}")).name.startswith(".cache.json.tmp-"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd, payload)

    monkeypatch.setattr(storage, "_write_all", hot_write_fails)
    with pytest.raises(CacheWriteError):
        cache.apply_sync("a", [], ["T00002"], SyncState("s2", CLOCK.now(), {}))
    monkeypatch.undo()
    cache.close()
    again = Cache(path, clock=CLOCK)
    try:
        assert {c.thread_id for c in again.stored()} == {"T00001", "T00002"}
        assert not again.needs_full_sync  # the start reads only the hot file
        assert "m2" not in again.message_threads()  # read now: a round ahead of it
        assert again.needs_full_sync
    finally:
        again.close()


def test_a_good_sync_keeps_both_files_in_step(tmp_path: Path) -> None:
    path = filled(tmp_path)
    cache = Cache(path, clock=CLOCK)
    try:
        cache.apply_sync("a", [conv(3)], ["T00002"], SyncState("s2", CLOCK.now(), {}))
        assert set(cache.message_threads().values()) == {"T00001", "T00003"}
        assert not cache.needs_full_sync
    finally:
        cache.close()


def test_a_reference_of_the_wrong_shape_moves_the_file_aside(tmp_path: Path) -> None:
    path = filled(tmp_path)
    refs = path.with_name("threads.json")
    data = json.loads(refs.read_text())
    data["refs"]["1"].pop("i")
    data["refs"]["2"]["m"] = 5
    refs.write_text(json.dumps(data))
    cache = Cache(path, clock=CLOCK)
    try:
        assert cache.message_threads() == {}  # no KeyError, no TypeError: a rebuild
        assert cache.needs_full_sync and list(path.parent.glob("threads.json.corrupt-*"))
        cache.apply_sync("a", [conv(1)], [], SyncState("s2", CLOCK.now(), {}))  # works again
        assert cache.message_threads() == {"m1": "T00001"}
    finally:
        cache.close()


def test_an_unreadable_answered_conversation_becomes_a_placeholder(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "cache.json"
    cache = Cache(path, clock=CLOCK)
    answered = conv(4, waiting=False, deadline=None)
    cache.apply_sync("a", [answered], [], SyncState("s1", CLOCK.now(), {}))
    cache.close()
    data = json.loads(path.read_text())
    data["conversations"]["1"]["no"] = ["not a note"]
    path.write_text(json.dumps(data))
    again = Cache(path, clock=CLOCK)
    try:
        [cell] = again.stored()
        shown = cell.get()  # type: ignore[union-attr]
        assert not shown.waiting and shown.deadline is None and "unreadable" in shown.problem
    finally:
        again.close()


def test_a_schema_1_file_written_after_start_is_not_taken_for_this_cache(
    tmp_path: Path,
) -> None:
    """Migration is for the file found at start; an older triage rewriting a shared
    cache meanwhile writes a file this version cannot use: moved aside, rebuilt."""
    path = filled(tmp_path)
    cache = Cache(path, clock=CLOCK)
    try:
        path.write_text(json.dumps({"meta": {"1": {"schema": 1}}, "conversations": {}}))
        assert cache.conversations() == [] and cache.needs_full_sync
        assert list(path.parent.glob("cache.json.corrupt-*"))
    finally:
        cache.close()


def test_a_conversation_outliving_its_cache_keeps_what_it_knows(tmp_path: Path) -> None:
    path = filled(tmp_path)
    cache = Cache(path, clock=CLOCK)
    [one, _two] = sorted(cache.conversations(), key=lambda c: c.thread_id)
    cache.close()
    assert one.thread.thread_id == "T00001" and one.thread.message_ids == ()
