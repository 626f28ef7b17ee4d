"""The hot cache's compact conversation documents: exact round trips, the unbuilt start
path, the size they keep, and the migration of a schema 1 file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from tests.support.builders import conversation as conv
from triage.clock import FrozenClock
from triage.domain.model import Conversation, Note, NoteAction, Status, ThreadRef, Tier
from triage.domain.ordering import SortedQueue, Unbuilt, entry
from triage.store.cache import SCHEMA_VERSION, Cache, SyncState
from triage.store.conversation_docs import (
    conversation_doc,
    conversation_from_doc,
    queue_key,
    ref_doc,
    ref_from_doc,
)

CLOCK = FrozenClock(datetime(2026, 11, 26, 10, 15, tzinfo=UTC))
AT = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def state(text: str) -> SyncState:
    return SyncState(text, CLOCK.now(), {})


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "cache.json"


ODD_ONES = [
    conv(1, tier=Tier.PREMIUM),
    conv(2, client_key=""),  # no account: not the email's domain
    conv(3, client_key="acme-holdings"),
    conv(
        4,
        ref=ThreadRef(
            "T00004",
            "Invoice 4",
            ("m4", "m5"),
            ("n1",),
            "other@acme.example",
            ("<a@x>", "<b@x>"),
            ("<s@agency>",),
        ),
    ),
    conv(5, first_arrival=AT.replace(microsecond=250_000), deadline=None, waiting=False),
    conv(6, deadline=AT + timedelta(seconds=0.5), client_name="", subject=""),
    conv(
        7,
        status=Status.FOLLOW_UP,
        follow_up=True,
        wake_at=AT,
        reply_seconds=0.0,
        reply_on_time=True,
        notes=(Note(NoteAction.SNOOZE, "bob", AT, until=AT),),
    ),
]


@pytest.mark.parametrize("c", ODD_ONES, ids=lambda c: c.thread_id)
def test_a_document_gives_back_exactly_the_conversation(c: Conversation) -> None:
    doc = orjson.loads(orjson.dumps(conversation_doc(c)))
    refs = orjson.loads(orjson.dumps(ref_doc(c)))
    back = conversation_from_doc(doc, lambda tid, s, e: ref_from_doc(refs, tid, s, e))
    assert back == c and back.thread == c.thread


@pytest.mark.parametrize("c", ODD_ONES, ids=lambda c: c.thread_id)
def test_the_key_read_from_a_document_is_the_built_conversations_key(c: object) -> None:
    doc = orjson.loads(orjson.dumps(conversation_doc(c)))  # type: ignore[arg-type]
    assert queue_key(doc) == entry(c)[:4]  # type: ignore[arg-type]


def test_a_plain_waiting_conversation_stays_unbuilt_until_its_row_is_asked_for(
    path: Path,
) -> None:
    cache = Cache(path, clock=CLOCK)
    try:
        plain = [conv(n, deadline=AT + timedelta(minutes=n)) for n in range(1, 6)]
        flagged = conv(9, escalated=True, deadline=AT)
        answered = conv(8, waiting=False, deadline=None)
        cache.apply_sync("a", [*plain, flagged, answered], [], state("s1"))
        stored = {c.thread_id: c for c in Cache(path, clock=CLOCK).stored()}
        assert all(isinstance(stored[c.thread_id], Unbuilt) for c in plain)
        assert stored["T00009"] == flagged  # kept apart by the queue: built at once
        later = stored["T00008"]  # answered: not listed, built when asked for
        assert isinstance(later, Unbuilt) and not later.queued and later.get() == answered
        q = SortedQueue()  # the order from the stored keys alone, as at start
        for c in stored.values():
            q.put(c)
        view = q.view(AT)
        assert [c.thread_id for c in view] == ["T00009", *(c.thread_id for c in plain)]
        assert view[1] == plain[0] and view[1] is view[1]  # built once, then the same one
        assert view.flagged == (flagged,)
    finally:
        cache.close()


def test_a_document_that_fails_to_build_says_so_and_asks_for_a_full_sync(path: Path) -> None:
    cache = Cache(path, clock=CLOCK)
    cache.apply_sync("a", [conv(1)], [], state("s1"))
    cache.close()
    data = json.loads(path.read_text())
    data["conversations"]["1"]["no"] = ["not a note"]  # the key reads, the build does not
    path.write_text(json.dumps(data))
    again = Cache(path, clock=CLOCK)
    try:
        [unbuilt] = again.stored()
        assert isinstance(unbuilt, Unbuilt) and not again.needs_full_sync
        shown = unbuilt.get()
        assert shown.thread_id == "T00001" and "unreadable" in shown.problem
        assert again.needs_full_sync and "could not be read" in again.reports[0]
    finally:
        again.close()


def test_a_typical_conversation_takes_under_400_bytes_of_the_hot_file() -> None:
    # The file is parsed whole at every start: 50k of these stay near 20 MB (schema 1
    # took ~1 KB each).
    c = conv(24990, client_email="casey@client65.example-shop.ca", region="ca-on",
             client_key="client65.example-shop.ca", message_count=5, owner="bob",
             target="next reply, region Ontario: next business day", target_source="region",
             replied_at=AT, replied_by="alice", reply_seconds=0.0, reply_on_time=True)  # fmt: skip
    assert len(orjson.dumps(conversation_doc(c))) < 400


# A conversation as triage 0.2 stored it (schema 1), byte for byte.
V1_DOC = {
    "thread_id": "T100004", "subject": "Request 24990",
    "client_email": "casey@client65.example-shop.ca", "client_name": "Client",
    "client_key": "client65.example-shop.ca", "region": "ca-on", "region_guessed": True,
    "owner": "bob", "owner_kw": "", "tier": "standard", "waiting": True,
    "first_arrival": "2026-02-19T03:22:44Z", "last_message_at": "2026-02-19T16:22:52Z",
    "message_count": 5, "waiting_since": "2026-02-19T16:22:52Z",
    "clock_start": "2026-02-19T16:22:52Z", "deadline": "2026-02-20T22:00:00Z",
    "escalated": True, "escalation_reason": "late", "escalated_by": "ceo",
    "escalated_at": "2026-02-20T22:05:00.500000Z", "ceo_contacted": False,
    "acknowledged": False, "notes": [{"action": "escalate", "by": "ceo",
                                      "at": "2026-02-20T22:05:00Z", "reason": "late"}],
    "email_ids": ["M100003", "M100005"], "note_ids": ["N1"],
    "reply_to": "casey@client65.example-shop.ca",
    "refs": ["b24990.0.7@client65.example-shop.ca"], "staff_mids": ["b24990.1.7@agency.example"],
    "impersonation": "", "problem": "",
    "workflow": {"status": "waiting", "replied_at": "2026-02-19T11:46:22Z",
                 "replied_by": "alice", "target": "next reply, region Ontario: next business day",
                 "target_source": "region", "reply_seconds": 0.0, "reply_on_time": True},
}  # fmt: skip


def test_a_schema_1_cache_is_migrated_in_place_and_keeps_every_field(path: Path) -> None:
    path.parent.mkdir(mode=0o700)
    old = {"meta": {"1": {"schema": 1}}, "conversations": {"1": V1_DOC},
           "sync": {"1": {"account": "a", "state": {"state": "s9", "at": None}}}}  # fmt: skip
    path.write_text(json.dumps(old))
    path.chmod(0o600)
    cache = Cache(path, clock=CLOCK)
    try:
        [c] = cache.conversations()
        assert not cache.needs_full_sync and cache.reports == []  # nothing to rebuild
        assert cache.sync_state("a") == SyncState("s9", None, {})
        assert (c.thread_id, c.client_key, c.owner, c.escalated, c.escalation_reason) == (
            "T100004",
            "client65.example-shop.ca",
            "bob",
            True,
            "late",
        )
        assert c.escalated_at == datetime(2026, 2, 20, 22, 5, 0, 500_000, tzinfo=UTC)
        assert c.thread.message_ids == ("M100003", "M100005") and c.thread.note_ids == ("N1",)
        assert c.thread.staff_message_ids == ("b24990.1.7@agency.example",)
        assert (c.replied_by, c.reply_on_time, c.target_source) == ("alice", True, "region")
        assert [n.reason for n in c.notes] == ["late"]
        data = json.loads(path.read_text())
        assert data["meta"] == {"1": {"schema": SCHEMA_VERSION, "refs": 1}}  # refs: its sync no.
        assert conversation_from_doc(data["conversations"]["1"], cache.thread_ref) == c
        [refs] = json.loads(path.with_name("threads.json").read_text())["refs"].values()
        assert refs["m"] == ["M100003", "M100005"] and "rt" not in refs  # the client's own
    finally:
        cache.close()


def test_a_schema_1_cache_it_cannot_read_is_moved_aside_and_rebuilt(path: Path) -> None:
    path.parent.mkdir(mode=0o700)
    broken = {**V1_DOC, "first_arrival": "noon"}
    path.write_text(json.dumps({"meta": {"1": {"schema": 1}}, "conversations": {"1": broken}}))
    path.chmod(0o600)
    cache = Cache(path, clock=CLOCK)
    try:
        assert cache.conversations() == [] and cache.needs_full_sync
        assert list(path.parent.glob("cache.json.corrupt-*"))
    finally:
        cache.close()
