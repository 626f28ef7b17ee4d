"""The TinyDB cache: round trips, batching, schema, file modes, shared paths, corruption."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from dataclasses import MISSING, fields, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.builders import action, draft, message
from tests.support.builders import conversation as conv
from triage.clock import FrozenClock
from triage.domain.model import Conversation, Note, NoteAction, Status
from triage.domain.outbox import OutboxStatus
from triage.store import cache as cache_module
from triage.store.cache import SCHEMA_VERSION, Cache, CacheError, SyncState
from triage.store.storage import CacheDB
from triage.store.tables import KeyedTable

CLOCK = FrozenClock(datetime(2026, 11, 26, 10, 15, tzinfo=UTC))


def state(text: str) -> SyncState:
    return SyncState(text, CLOCK.now(), {})


def by_id(c: Cache) -> dict[str, object]:
    return {x.thread_id: x for x in c.conversations()}


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "cache.json"


@pytest.fixture
def cache(path: Path) -> Iterator[Cache]:
    c = Cache(path, clock=CLOCK)
    yield c
    c.close()


def reopen(c: Cache) -> Cache:
    c.close()
    return Cache(c.path, clock=CLOCK)


def test_conversations_and_sync_state_survive_a_reopen(cache: Cache) -> None:
    cache.apply_sync("acc1", [conv(1), conv(2)], [], state("s1"))
    cache.apply_sync("acc2", [conv(3)], [], state("x9"))
    again = reopen(cache)
    try:
        convs = by_id(again)
        assert sorted(convs) == ["T00001", "T00002", "T00003"]
        assert convs["T00002"] == conv(2)  # every field survives the round trip
        assert again.sync_state("acc1") == state("s1")
        assert again.sync_state("acc2") == state("x9")
        assert again.sync_state("acc3") is None
        assert not again.needs_full_sync and again.reports == []
    finally:
        again.close()


def test_every_field_of_a_conversation_survives_a_reopen(cache: Cache) -> None:
    """Each field set away from its default, so a field the document forgets shows."""
    at = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    full = replace(
        conv(7), status=Status.SNOOZED, wake_at=at, snoozed_until=at, follow_up=True,
        done_reason="out of office", done_by="alice", done_at=at, replying="bob",
        replying_until=at, replied_at=at, replied_by="bob", reply_seconds=90.5,
        reply_on_time=False, escalated=True, escalation_reason="late", escalated_by="ceo",
        escalated_at=at, ceo_contacted=True, acknowledged=True, owner_mark="bob",
        impersonation="looks like the CEO", problem="unreadable", region_guessed=True,
        notes=(Note(NoteAction.SNOOZE, "alice", at, until=at),),
        target="first reply, premium tier: 30m", target_source="tier", asked_new_manager=True,
    )  # fmt: skip
    blank = Conversation(**{f.name: getattr(conv(7), f.name) for f in fields(Conversation)
                            if f.default is MISSING and f.default_factory is MISSING})  # fmt: skip
    unset = [f.name for f in fields(Conversation)
             if f.name != "ref" and getattr(full, f.name) == getattr(blank, f.name)
             and (f.default is not MISSING or f.default_factory is not MISSING)]  # fmt: skip
    assert unset == []  # a new field must be set above, and stored
    cache.apply_sync("acc1", [full], [], state("s1"))
    again = reopen(cache)
    try:
        assert by_id(again)["T00007"] == full
    finally:
        again.close()


def test_a_new_cache_needs_a_full_sync_and_carries_the_schema_version(path: Path) -> None:
    c = Cache(path, clock=CLOCK)
    c.close()
    assert c.needs_full_sync and c.reports == []  # a first run is not news
    data = json.loads(path.read_text())
    assert data["meta"] == {"1": {"schema": SCHEMA_VERSION}}


def test_apply_sync_replaces_removes_and_updates_state(cache: Cache) -> None:
    cache.apply_sync("a", [conv(1), conv(2), conv(3)], [], state("s1"))
    cache.apply_sync("a", [conv(2, subject="new")], ["T00001", "ghost"], state("s2"))
    convs = by_id(cache)
    assert sorted(convs) == ["T00002", "T00003"]
    assert convs["T00002"] == conv(2, subject="new") and convs["T00003"] == conv(3)
    assert cache.sync_state("a") == state("s2")
    # a thread both upserted and removed in one round is removed
    cache.apply_sync("a", [conv(3, subject="x")], ["T00003"], state("s3"))
    assert sorted(by_id(cache)) == ["T00002"]


def test_apply_sync_of_500_into_2000_writes_each_file_once_the_references_first(
    cache: Cache, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache.apply_sync("a", [conv(n) for n in range(2000)], [], state("s1"))
    replaced: list[str] = []
    real_replace = os.replace

    def counting_replace(src: str, dst: str) -> None:
        replaced.append(os.fspath(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", counting_replace)
    changes = [conv(n, subject="changed") for n in range(0, 900, 2)]  # 450 updates
    changes += [conv(n) for n in range(2000, 2050)]  # 50 new
    cache.apply_sync("a", changes, ["T00001", "T00003"], state("s2"))
    assert replaced == [os.fspath(path.with_name("threads.json")), os.fspath(path)]
    convs = {c.thread_id: c for c in cache.conversations()}
    assert len(convs) == 2048
    assert convs["T00898"].subject == "changed"
    assert convs["T00899"].subject == "Invoice 899"
    on_disk = json.loads(path.read_text())["conversations"]
    assert len(on_disk) == 2048 and len({d["i"] for d in on_disk.values()}) == 2048


def test_a_round_is_one_write_and_never_changes_what_was_handed_out(cache: Cache) -> None:
    cache.apply_sync("a", [conv(1), conv(2)], [], state(""))
    before = cache.conversations()
    writes = cache._hot.atomic.writes
    cache.apply_sync("a", [conv(1, escalated=True)], [], state("s2"))
    assert cache._hot.atomic.writes == writes + 1
    assert by_id(cache)["T00001"] == conv(1, escalated=True)
    assert not any(c.escalated for c in before)
    reopened = reopen(cache)
    try:
        assert by_id(reopened)["T00001"] == conv(1, escalated=True)
    finally:
        reopened.close()


def test_a_malformed_conversation_document_moves_the_file_aside(path: Path) -> None:
    c = Cache(path, clock=CLOCK)
    c.apply_sync("a", [conv(1)], [], state("s1"))
    c.close()
    data = json.loads(path.read_text())
    data["conversations"]["1"]["fa"] = "noon"  # the right schema, a wrong document
    path.write_text(json.dumps(data))
    again = Cache(path, clock=CLOCK)
    try:
        assert again.conversations() == [] and again.needs_full_sync
        assert len(corrupt_copies(path)) == 1 and "malformed" in again.reports[0]
    finally:
        again.close()


def test_another_cache_object_sees_changes_without_reopening(path: Path) -> None:
    a, b = Cache(path, clock=CLOCK), Cache(path, clock=CLOCK)
    try:
        a.apply_sync("acc", [conv(1)], [], state("s1"))
        assert by_id(b)["T00001"] == conv(1)
        generation = b._hot.atomic.generation
        assert len(b.conversations()) == 1
        assert b._hot.atomic.generation == generation  # unchanged file: not parsed again
        b.apply_sync("acc", [conv(2)], [], state("s2"))  # must not drop a's thread
        a.apply_sync("acc", [conv(2, owner="bob")], [], state("s3"))
        assert sorted(by_id(b)) == ["T00001", "T00002"]
        assert by_id(b)["T00002"] == conv(2, owner="bob")
    finally:
        a.close()
        b.close()


# -- files, modes, shared paths ------------------------------------------------------


def test_private_cache_is_created_owner_only(path: Path) -> None:
    old_umask = os.umask(0)  # a careless umask must not widen the modes
    try:
        c = Cache(path, clock=CLOCK)
        c.put_outbox(draft("o1"))
        c.store_bodies("T1", [message(1)])
        c.close()
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    names = {p.name for p in path.parent.iterdir()}
    assert {"cache.json", "bodies.json", "outbox.json"} <= names
    for p in path.parent.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p.name


def test_another_cache_name_gets_its_own_sidecar_files(tmp_path: Path) -> None:
    c = Cache(tmp_path / "team.json", clock=CLOCK)
    c.close()
    assert (tmp_path / "team.bodies.json").exists() and (tmp_path / "team.outbox.json").exists()


def test_shared_directory_open_to_others_is_refused_with_the_fix(tmp_path: Path) -> None:
    shared = tmp_path / "team"
    shared.mkdir()
    os.chmod(shared, 0o2774)
    with pytest.raises(CacheError, match="chmod 2770") as err:
        Cache(shared / "cache.json", shared=True, clock=CLOCK)
    assert str(shared) in str(err.value) and "other users" in str(err.value)
    assert not (shared / "cache.json").exists()


def test_shared_directory_without_group_access_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "team"
    shared.mkdir()
    os.chmod(shared, 0o700)
    with pytest.raises(CacheError, match="chmod 2770"):
        Cache(shared / "cache.json", shared=True, clock=CLOCK)


def test_missing_shared_directory_is_refused_not_created(tmp_path: Path) -> None:
    with pytest.raises(CacheError, match="does not exist"):
        Cache(tmp_path / "nope" / "cache.json", shared=True, clock=CLOCK)
    assert not (tmp_path / "nope").exists()


def test_group_owned_2770_directory_is_accepted_and_files_are_group_shared(
    tmp_path: Path,
) -> None:
    shared = tmp_path / "team"
    shared.mkdir()
    os.chown(shared, -1, os.getgid())
    os.chmod(shared, 0o2770)
    c = Cache(shared / "cache.json", shared=True, clock=CLOCK)
    c.apply_sync("a", [conv(1)], [], state(""))
    c.close()
    for p in shared.iterdir():
        st = p.stat()
        assert stat.S_IMODE(st.st_mode) == 0o660, p.name
        assert st.st_gid == os.getgid()


# -- corruption ---------------------------------------------------------------------


def corrupt_copies(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".corrupt-*"))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"conversations": {"1": {"thread_id"', "not valid JSON"),
        (b"", "empty"),
        (b"[1, 2, 3]", "top level is a list"),
        (b'{"meta": {"1": {"schema": 1}}, "conversations": [1]}', "not an object"),
        (b'{"conversations": {}}', "no schema version"),
        (b'{"meta": {"1": {"schema": 99}}}', "schema 99"),
    ],
)
def test_unusable_cache_is_moved_aside_reported_once_and_rebuilt(
    path: Path, content: bytes, reason: str
) -> None:
    Cache(path, clock=CLOCK).close()
    path.write_bytes(content)
    c = Cache(path, clock=CLOCK)
    moved = corrupt_copies(path)
    assert [m.name for m in moved] == ["cache.json.corrupt-20261126T101500Z"]
    assert moved[0].read_bytes() == content  # kept for inspection
    assert c.needs_full_sync and c.conversations() == []
    assert len(c.reports) == 1
    assert reason in c.reports[0] and str(moved[0]) in c.reports[0]
    assert "rebuilding it from the provider" in c.reports[0]
    c.apply_sync("a", [conv(1)], [], state(""))
    again = reopen(c)
    assert again.reports == [] and not again.needs_full_sync
    assert by_id(again) == {"T00001": conv(1)}
    again.close()


def test_truncated_cache_is_moved_aside(path: Path) -> None:
    c = Cache(path, clock=CLOCK)
    c.apply_sync("a", [conv(n) for n in range(50)], [], state(""))
    c.close()
    full = path.read_bytes()
    path.write_bytes(full[: len(full) // 2])
    c = Cache(path, clock=CLOCK)
    assert c.needs_full_sync and len(c.reports) == 1 and c.conversations() == []
    assert corrupt_copies(path)[0].read_bytes() == full[: len(full) // 2]
    c.close()


def test_corruption_while_running_is_recovered_on_the_next_read(cache: Cache, path: Path) -> None:
    cache.apply_sync("a", [conv(1)], [], state(""))
    cache.needs_full_sync = False
    path.write_bytes(b"garbage")  # e.g. someone edited it by hand
    assert cache.conversations() == []
    assert cache.needs_full_sync and len(cache.reports) == 1
    assert len(corrupt_copies(path)) == 1


def test_two_corruptions_in_the_same_second_keep_both_copies(path: Path) -> None:
    for _ in range(2):
        Cache(path, clock=CLOCK).close()
        path.write_bytes(b"{")
        Cache(path, clock=CLOCK).close()
    assert len(corrupt_copies(path)) == 2


def test_corrupt_outbox_is_reported_loudly_and_kept_for_recovery(path: Path) -> None:
    c = Cache(path, clock=CLOCK)
    c.apply_sync("a", [conv(1)], [], state(""))
    c.put_outbox(draft("o1", "Dear client"))
    c.close()
    outbox = path.with_name("outbox.json")
    damaged = outbox.read_bytes()[:-5]
    outbox.write_bytes(damaged)
    c = Cache(path, clock=CLOCK)
    try:
        moved = corrupt_copies(outbox)
        assert len(moved) == 1 and moved[0].read_bytes() == damaged
        assert len(c.reports) == 1
        assert c.reports[0].startswith("WARNING") and str(moved[0]) in c.reports[0]
        assert "manual recovery" in c.reports[0]
        assert c.outbox() == []
        assert not c.needs_full_sync  # the conversations were fine
        assert by_id(c) == {"T00001": conv(1)}
    finally:
        c.close()


def test_corrupt_bodies_file_is_moved_aside_and_reported(path: Path) -> None:
    c = Cache(path, clock=CLOCK)
    c.store_bodies("T1", [message(1)])
    c.close()
    path.with_name("bodies.json").write_text('{"bodies": 3}')
    c = Cache(path, clock=CLOCK)
    assert c.bodies("T1") is None and len(c.reports) == 1 and "bodies" in c.reports[0]
    c.close()


# -- bodies, outbox, audit ------------------------------------------------------------


def test_bodies_round_trip_and_the_oldest_are_evicted(
    cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "BODIES_KEEP", 3)
    for n in range(4):
        cache.store_bodies(f"T{n}", [message(n, f"T{n}", f"body {n}")])
    cache.store_bodies("T1", [message(1, "T1", "body 1, fetched again")])  # now newest
    cache.store_bodies("T4", [message(4, "T4", "body 4")])
    assert cache.bodies("T0") is None and cache.bodies("T2") is None
    again = reopen(cache)
    assert again.bodies("T1") == [message(1, "T1", "body 1, fetched again")]
    assert again.bodies("T3") == [message(3, "T3", "body 3")]
    assert again.bodies("T4") is not None
    again.close()


def test_outbox_upsert_replace_remove(cache: Cache) -> None:
    cache.put_outbox(draft("o1", "Hel"))
    cache.put_outbox(action("o2"))
    cache.put_outbox(draft("o1", "Hello"))
    sending = draft("o1", "Hello", status=OutboxStatus.SENDING, message_id="x@agency")
    cache.put_outbox(sending, replace=True)
    assert [i.id for i in cache.outbox()] == ["o1", "o2"]  # a replaced draft keeps its place
    again = reopen(cache)
    assert again.outbox_item("o1") == sending
    assert again.outbox_item("o2") == action("o2")
    again.remove_outbox("o1")
    again.remove_outbox("o1")  # already gone: fine
    assert [i.id for i in again.outbox()] == ["o2"] and again.outbox_item("o1") is None
    with pytest.raises(KeyError, match="gone"):
        again.put_outbox(draft("o1", status=OutboxStatus.SENT), replace=True)
    with pytest.raises(ValueError, match="id"):
        again.put_outbox(draft(""))
    again.close()


def test_an_unreadable_outbox_item_is_set_aside_and_the_rest_stay(cache: Cache) -> None:
    cache.put_outbox(draft("o1", "keep me"))
    cache.put_outbox(draft("o2", "and me"))
    with cache._out_db.transaction():
        data = cache._out_db.atomic.read() or {}
        data["outbox"]["1"]["status"] = "teleported"
        cache._out_db.atomic.write(data)
    assert [i.id for i in cache.outbox()] == ["o2"]
    assert "quarantine" in cache.reports[0]
    again = reopen(cache)
    try:
        assert [i.id for i in again.outbox()] == ["o2"] and again.reports == []
        raw = json.loads(again.path.with_name("outbox.json").read_text())
        assert raw["quarantine"]["1"]["body"] == "keep me"  # nothing deleted
    finally:
        again.close()


def test_audit_keeps_append_order_and_limit(cache: Cache) -> None:
    for n in range(5):
        CLOCK.set(datetime(2026, 11, 26, 10, 9 - n, tzinfo=UTC))
        cache.audit("alice", "escalate", f"T{n}", f"reason {n}")
    CLOCK.set(datetime(2026, 11, 26, 10, 15, tzinfo=UTC))
    again = reopen(cache)
    log = again.audit_log()
    again.close()
    assert [e["detail"] for e in log] == [f"reason {n}" for n in range(5)]  # append order
    assert log[0] == {
        "actor": "alice",
        "action": "escalate",
        "thread_id": "T0",
        "detail": "reason 0",
        "at": "2026-11-26T10:09:00Z",
    }


def test_audit_log_tail_and_trimming(cache: Cache, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_module, "AUDIT_KEEP", 10)
    monkeypatch.setattr(cache_module, "_AUDIT_SLACK", 2)
    for n in range(20):
        cache.audit("bob", "reassign", "T1", str(n))
    assert [e["detail"] for e in cache.audit_log(limit=3)] == ["17", "18", "19"]
    everything = cache.audit_log(limit=1000)
    assert 10 <= len(everything) <= 12 and everything[-1]["detail"] == "19"
    assert cache.audit_log(limit=0) == []


def test_an_unusable_cache_path_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(CacheError, match=r"check cache\.path"):
        Cache(blocker / "cache.json")


def test_a_datetime_in_a_document_fails_loudly_and_saves_nothing(tmp_path: Path) -> None:
    db = CacheDB(tmp_path / "x.json")
    table = KeyedTable(db, "t", "k")
    with db.transaction():
        table.replace({1: {"k": "a"}})
    before = (tmp_path / "x.json").read_bytes()
    with pytest.raises(TypeError), db.transaction():
        table.replace({2: {"k": "b", "at": datetime(2026, 1, 1, tzinfo=UTC)}})
    assert (tmp_path / "x.json").read_bytes() == before
    assert table.get("b") is None and table.get("a") == {"k": "a"}  # memory rolled back too
    db.close()
