"""The sorted queue's incremental path against the plain sort (tests/support/oracle.py).

A queue of many conversations, then rounds of a few changes each, so most rounds are
applied by bisection rather than by one re-sort: new, moved, answered, discarded and
flagged conversations (escalated, CEO contacted, acknowledged, impersonating, no
deadline) and snoozed ones (asleep or due at the snapshot's time) mixed in, `clear()`
now and then, and every snapshot handed out checked again after later rounds (a
snapshot never changes).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import oracle
from tests.support.builders import T0, conversation
from triage.domain.model import Conversation, Status, Tier
from triage.domain.ordering import QueueView, SortedQueue

NOW = T0
AT_RISK = timedelta(minutes=15)
GRACE = timedelta(minutes=10)
IDS = 400
KINDS = ["waiting", "waiting", "waiting", "answered", "discard", "escalated", "ceo_contacted",
         "acknowledged", "impersonation", "no-deadline", "snoozed",
         "snoozed-escalated"]  # fmt: skip


class CountingQueue(SortedQueue):
    """A SortedQueue that counts how often it re-sorted instead of bisecting."""

    resorts = 0

    def _resort(self, pending: dict[str, Conversation | None]) -> None:
        self.resorts += 1
        super()._resort(pending)


def conv(n: int, kind: str, minutes: int, premium: bool, arrived: int) -> Conversation:
    """Conversation n; `minutes` left at NOW (the grace and at-risk edges included)."""
    extra: dict[str, Any] = {}
    if kind in ("escalated", "ceo_contacted", "acknowledged", "snoozed-escalated"):
        extra[kind.removeprefix("snoozed-")] = True
    if kind.startswith("snoozed"):  # waking before, at or after NOW
        extra.update(status=Status.SNOOZED, wake_at=NOW + timedelta(minutes=minutes // 2))
    if kind == "impersonation":
        extra["impersonation"] = "the name says CEO, but the address is outside the agency"
    deadline = None if kind in ("no-deadline", "answered") else NOW + timedelta(minutes=minutes)
    return conversation(n, deadline=deadline, waiting=kind != "answered",
                        tier=Tier.PREMIUM if premium else Tier.STANDARD,
                        first_arrival=T0 - timedelta(minutes=arrived), **extra)  # fmt: skip


def is_flagged(c: Conversation) -> bool:
    return c.escalated or c.ceo_contacted or c.acknowledged or bool(c.impersonation)


changes = st.tuples(
    st.integers(0, IDS - 1),
    st.sampled_from(KINDS),
    st.sampled_from([-40, -11, -10, -9, -1, 0, 1, 14, 15, 16, 60]),  # edges of the counts
    st.booleans(),
    st.integers(0, 3),
)
rounds = st.lists(
    st.tuples(st.booleans(), st.lists(changes, min_size=1, max_size=8)), min_size=1, max_size=8
)


def check(view: QueueView, truth: dict[str, Conversation], seen: set[str]) -> None:
    """One snapshot against the plain computations on the conversations it was made of."""
    expected = oracle.waiting(truth.values(), NOW)
    assert list(view) == expected and view.conversations() == expected
    assert view.counts(NOW, AT_RISK, GRACE) == oracle.counts(truth.values(), NOW, AT_RISK, GRACE)
    assert view.escalations(NOW, GRACE) == oracle.escalations(truth.values(), NOW, GRACE)
    acknowledged = oracle.acknowledged(truth.values(), NOW, GRACE)
    assert [replace(c, acknowledged=False) for c in view.acknowledged(NOW, GRACE)] == acknowledged
    assert {c.thread_id for c in view.flagged} == {c.thread_id for c in expected if is_flagged(c)}
    sleeping = [c for c in truth.values() if c.waiting and oracle.asleep(c, NOW)]
    assert list(view.sleeping) == sorted(sleeping, key=lambda c: (c.wake_at, c.thread_id))
    for i, c in enumerate(expected):
        assert view.index_of(c.thread_id) == i
    listed = {c.thread_id for c in expected}
    assert all(view.has(t) == (t in listed) for t in seen)
    assert all(view.index_of(t) is None for t in seen - listed)


@settings(max_examples=100, deadline=None)
@given(st.integers(64, IDS), rounds)
def test_few_changes_at_a_time_equal_sorting_from_scratch(size: int, plan: list[Any]) -> None:
    q = CountingQueue()
    truth = {c.thread_id: c for c in (conv(n, "waiting", n % 90 - 30, n % 3 == 0, n % 4)
                                      for n in range(size))}  # fmt: skip
    for c in truth.values():
        q.put(c)
    seen = set(truth)
    snapshots = [(q.view(NOW), dict(truth))]
    bisected = 0
    for clear, batch in plan:
        if clear and len(snapshots) % 3 == 0:
            q.clear()
            truth = {}
        # SortedQueue.RESORT_SHARE: at most one change in eight is applied by bisection.
        in_order = sum(c.waiting and not oracle.asleep(c, NOW) for c in truth.values())
        bisected += len({n for n, *_ in batch}) * 8 <= in_order
        for n, kind, minutes, premium, arrived in batch:
            c = conv(n, kind, minutes, premium, arrived)
            seen.add(c.thread_id)
            if kind == "discard":
                q.discard(c.thread_id)
                truth.pop(c.thread_id, None)
            else:
                q.put(c)
                truth[c.thread_id] = c
        snapshots.append((q.view(NOW), dict(truth)))
        for view, then in snapshots:
            check(view, then, seen)
    assert q.resorts == 1 + len(plan) - bisected


def test_a_few_changes_are_bisected_and_many_are_one_resort() -> None:
    q = CountingQueue()
    for n in range(80):
        q.put(conv(n, "waiting", n, False, 0))
    q.view()
    assert q.resorts == 1  # the first load
    for n in range(10):  # 10 of 80: at most one in RESORT_SHARE changed
        q.put(conv(n, "waiting", 100 + n, False, 0))
    q.view()
    assert q.resorts == 1
    for n in range(9):  # 11 of 80: more than one in RESORT_SHARE
        q.put(conv(n, "waiting", 200 + n, False, 0))
    q.discard("T00009")
    q.put(conv(10, "answered", 0, False, 0))
    view = q.view()
    assert q.resorts == 2
    assert not view.has("T00009") and not view.has("T00010") and len(view) == 78


def test_after_clear_the_queue_starts_empty_and_old_snapshots_stay() -> None:
    q = SortedQueue()
    for n in range(5):
        q.put(conv(n, "escalated" if n == 0 else "waiting", n, False, 0))
    before = q.view()
    q.clear()
    empty = q.view()
    assert list(empty) == [] and empty.flagged == () and not empty.has("T00001")
    assert len(before) == 5 and [c.thread_id for c in before.flagged] == ["T00000"]
    q.put(conv(7, "waiting", 3, False, 0))
    assert [c.thread_id for c in q.view()] == ["T00007"]


def test_a_conversation_that_only_impersonates_is_flagged() -> None:
    view = QueueView.of([conv(1, "impersonation", 30, False, 0), conv(2, "waiting", 5, False, 0)])
    assert [c.thread_id for c in view.flagged] == ["T00001"]


def test_the_plain_list_is_built_once_per_snapshot() -> None:
    view = QueueView.of([conv(n, "waiting", n, False, 0) for n in range(3)])
    assert view.conversations() is view.conversations()
    assert [c.thread_id for c in view.conversations()] == ["T00000", "T00001", "T00002"]


def test_an_answered_change_on_the_bisection_path_takes_it_out_and_unflags_it() -> None:
    q = SortedQueue()
    for n in range(40):
        q.put(conv(n, "escalated" if n < 2 else "waiting", n, False, 0))
    q.view()
    q.put(replace(conv(0, "escalated", 0, False, 0), waiting=False, deadline=None))
    q.discard("T00001")
    view = q.view()
    assert not view.has("T00000") and not view.has("T00001") and view.flagged == ()
    assert view.counts(NOW, AT_RISK, GRACE).escalated == 0


def test_a_snoozed_conversation_sleeps_until_its_wake_time_then_joins_the_order() -> None:
    q = SortedQueue()
    awake = conv(1, "waiting", 30, False, 0)
    dozing = conv(2, "snoozed", 40, False, 0)  # wakes at NOW + 20 min
    q.put(awake)
    q.put(dozing)
    before = q.view(NOW)
    assert list(before) == [awake] and before.sleeping == (dozing,)
    assert before.next_wake == NOW + timedelta(minutes=20)
    assert q.view(NOW + timedelta(minutes=19)) is before  # nothing due: the same snapshot
    after = q.view(NOW + timedelta(minutes=20))
    assert list(after) == [awake, dozing] and after.sleeping == () and after.next_wake is None
    assert list(before) == [awake]  # a snapshot never changes
    assert q.view().sleeping == ()  # once woken it stays in the order
