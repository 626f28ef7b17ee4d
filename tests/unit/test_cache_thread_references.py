"""The thread references live in threads.json, read only when first needed: an
unreadable or lost file is moved aside or noticed, and the cache is rebuilt from the
provider; the conversations in the hot file are used meanwhile."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from tests.support.builders import conversation as conv
from triage.clock import FrozenClock
from triage.store.cache import Cache, SyncState

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
