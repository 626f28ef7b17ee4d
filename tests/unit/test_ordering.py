"""SortedQueue / QueueView: the incrementally kept queue equals the queue sorted from scratch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.oracle import counts, escalations, waiting
from triage.domain.model import Conversation, Tier
from triage.domain.ordering import QueueView, SortedQueue, entry

NOW = datetime(2026, 11, 24, 15, tzinfo=UTC)
AT_RISK = timedelta(minutes=15)
GRACE = timedelta(minutes=10)


def conv(tid: str, minutes_left: int | None, *, tier: Tier = Tier.STANDARD,
         waiting_: bool = True, **kw: object) -> Conversation:  # fmt: skip
    deadline = NOW + timedelta(minutes=minutes_left) if minutes_left is not None else None
    base = dict(thread_id=tid, subject=f"subject {tid}", client_email=f"{tid}@client.com",
                client_name=f"Client {tid}", client_key="client.com", region="us-east",
                region_guessed=False, owner="alice", tier=tier, waiting=waiting_,
                first_arrival=NOW - timedelta(minutes=5), last_message_at=NOW,
                message_count=1, deadline=deadline)  # fmt: skip
    base.update(kw)
    return Conversation(**base)  # type: ignore[arg-type]


def ids(rows: object) -> list[str]:
    return [c.thread_id for c in rows]  # type: ignore[attr-defined]


def test_changes_move_rows_and_answered_ones_leave() -> None:
    q = SortedQueue()
    for c in [conv("a", 30), conv("b", -5), conv("c", 12), conv("d", 400)]:
        q.put(c)
    first = q.view()
    assert ids(first) == ["b", "c", "a", "d"]
    assert q.view() is first  # nothing changed: the same snapshot
    q.put(conv("d", -60))  # a new client message moved its deadline
    q.put(conv("c", None, waiting_=False))  # answered
    q.discard("a")  # gone from the provider
    q.put(conv("e", 20, tier=Tier.PREMIUM))
    assert ids(q.view()) == ["d", "b", "e"]
    assert ids(first) == ["b", "c", "a", "d"]  # a snapshot handed out never changes


def test_index_of_finds_rows_in_old_and_new_snapshots() -> None:
    q = SortedQueue()
    for i in range(40):
        q.put(conv(f"t{i:02}", i))
    old = q.view()
    q.put(conv("t05", 100))
    new = q.view()
    assert old.index_of("t05") == 5 and new.index_of("t05") == 39 and old.has("t05")
    assert new.index_of("t06") == 5 and new.index_of("nope") is None
    assert new[5].thread_id == "t06" and ids(new[:2]) == ["t00", "t01"]


def test_entries_sort_as_the_queue_sorts() -> None:
    convs = [conv("a", 5), conv("b", None), conv("c", -3, tier=Tier.PREMIUM), conv("d", 5)]
    assert [e[4] for e in sorted(map(entry, convs))] == waiting(convs)
    assert all(entry(c)[4] is c for c in convs)


def test_counts_match_the_plain_counts() -> None:
    convs = [
        conv("a", -1),
        conv("b", 5),
        conv("c", 60),
        conv("d", 60, escalated=True),
        conv("e", -30),  # breached past the grace: escalated automatically
        conv("f", -30, acknowledged=True),
        conv("g", 15),  # exactly at the at-risk edge: ok
        conv("h", 0),  # exactly due: breached
        conv("i", 3, ceo_contacted=True),
    ]
    view = QueueView.of(convs)
    assert view.counts(NOW, AT_RISK, GRACE) == counts(convs, NOW, AT_RISK, GRACE)
    assert view.counts(NOW, AT_RISK, GRACE).escalated == 3
    assert ids(view.escalations(NOW, GRACE)) == ids(escalations(convs, NOW, GRACE))


def test_resort_and_bisect_paths_agree() -> None:
    """Many changes at once take the re-sort path; a few take bisection."""
    q = SortedQueue()
    truth = {f"t{i:03}": conv(f"t{i:03}", i % 17) for i in range(100)}
    for c in truth.values():
        q.put(c)
    q.view()
    truth["t003"] = conv("t003", -100)  # bisection
    q.put(truth["t003"])
    assert list(q.view()) == waiting(truth.values())
    for i in range(0, 100, 2):  # re-sort
        truth[f"t{i:03}"] = conv(f"t{i:03}", 50 - i)
        q.put(truth[f"t{i:03}"])
    assert list(q.view()) == waiting(truth.values())


_CHANGE = st.tuples(
    st.sampled_from([f"t{i}" for i in range(12)]),
    st.one_of(st.none(), st.integers(-60, 60)),  # None: answered or gone
    st.booleans(),  # premium
    st.sampled_from(["", "escalated", "ceo_contacted", "acknowledged"]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(_CHANGE, max_size=8), max_size=6))
def test_any_rounds_of_changes_equal_sorting_from_scratch(rounds: list[list[tuple]]) -> None:  # type: ignore[type-arg]
    q = SortedQueue()
    truth: dict[str, Conversation] = {}
    for changes in rounds:
        for tid, minutes, premium, flag in changes:
            if minutes is None:
                truth.pop(tid, None)
                q.discard(tid)
                continue
            extra = {flag: True} if flag else {}
            c = conv(tid, minutes, tier=Tier.PREMIUM if premium else Tier.STANDARD, **extra)
            truth[tid] = c
            q.put(c)
        view = q.view()
        assert list(view) == waiting(truth.values())
        assert view.counts(NOW, AT_RISK, GRACE) == counts(truth.values(), NOW, AT_RISK, GRACE)
        assert view.escalations(NOW, GRACE) == escalations(truth.values(), NOW, GRACE)
        for i, c in enumerate(view):
            assert view.index_of(c.thread_id) == i
        every = [f"t{i}" for i in range(12)]  # discarded ones too
        assert all(view.has(t) == (t in truth and truth[t].waiting) for t in every)
