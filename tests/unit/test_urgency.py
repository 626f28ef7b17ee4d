"""Urgency: the state function at its boundaries, filters, and the escalation rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.oracle import counts, escalations, waiting
from triage.domain import urgency
from triage.domain.model import AUTO, Conversation, SlaState, Tier
from triage.domain.urgency import Filter, state_of

NOW = datetime(2026, 11, 24, 15, tzinfo=UTC)
AT_RISK = timedelta(minutes=15)


def conv(tid: str, minutes_left: float | None, *, tier: Tier = Tier.STANDARD,
         arrival: int = 0, waiting_: bool = True, **kw: object) -> Conversation:  # fmt: skip
    deadline = NOW + timedelta(minutes=minutes_left) if minutes_left is not None else None
    base = dict(thread_id=tid, subject=f"subject {tid}", client_email=f"{tid}@client.com",
                client_name=f"Client {tid}", client_key="client.com", region="us-east",
                region_guessed=False, owner="alice", tier=tier, waiting=waiting_,
                first_arrival=NOW - timedelta(minutes=arrival), last_message_at=NOW,
                message_count=1, deadline=deadline)  # fmt: skip
    base.update(kw)
    return Conversation(**base)  # type: ignore[arg-type]


def test_most_overdue_first_then_tier_then_arrival() -> None:
    convs = [
        conv("ok", 120),
        conv("late", -30),
        conv("std", 10, arrival=50),
        conv("prem", 10, tier=Tier.PREMIUM, arrival=1),
        conv("older", 10, arrival=90),
        conv("answered", None, waiting_=False),
    ]
    assert [c.thread_id for c in waiting(convs)] == ["late", "prem", "older", "std", "ok"]


def test_order_does_not_depend_on_now() -> None:
    """The queue sorts by the absolute deadline: at every `now` that is the order of time
    left, while the states change with `now`, so a tick recolours rows but never re-sorts."""
    convs = [conv(str(i), m) for i, m in enumerate([30, -5, 12, 400])]
    order = [c.thread_id for c in waiting(convs)]
    assert order == ["1", "2", "0", "3"]
    states = set()
    for now in (NOW - timedelta(days=1), NOW, NOW + timedelta(minutes=20), NOW + timedelta(days=1)):
        by_time_left = sorted(convs, key=lambda c: c.seconds_left(now))  # type: ignore[arg-type,return-value]
        assert [c.thread_id for c in by_time_left] == order
        states.add(tuple(state_of(c, now, AT_RISK) for c in waiting(convs)))
    assert len(states) == 4  # each `now` colours the same order differently


def test_states_at_the_boundaries() -> None:
    assert state_of(conv("a", 0), NOW, AT_RISK) is SlaState.BREACHED
    assert state_of(conv("a", 14.99), NOW, AT_RISK) is SlaState.AT_RISK
    assert state_of(conv("a", 15), NOW, AT_RISK) is SlaState.OK
    assert state_of(conv("a", None, waiting_=False), NOW, AT_RISK) is SlaState.OK


def test_counts() -> None:
    convs = [conv("a", -1), conv("b", 5), conv("c", 60), conv("d", 60, escalated=True)]
    c = counts(convs, NOW, AT_RISK)
    assert (c.total, c.breached, c.at_risk, c.escalated) == (4, 1, 1, 2)


def test_filters_and_their_description() -> None:
    c = conv("a", 5)
    assert Filter(text="CLIENT a").matches(c) and not Filter(text="zzz").matches(c)
    assert Filter(owner="alice").matches(c) and not Filter(owner="bob").matches(c)
    assert not Filter(region="ca-on").matches(c)
    assert Filter().describe() == "all"
    assert "owner=alice" in Filter(owner="alice", text="x").describe()


def test_escalation_pane_reasons() -> None:
    convs = [
        conv("manual", 60, escalated=True, escalation_reason="client unhappy"),
        conv("ceo", 60, ceo_contacted=True),
        conv("breached", -20),
        conv("grace", -5),
        conv("acked", -60, escalated=True, acknowledged=True),
        conv("answered", None, waiting_=False, escalated=True),
    ]
    pane = escalations(convs, NOW, timedelta(minutes=10))
    reasons = {c.thread_id: c.escalation_reason for c in pane}
    assert reasons == {"manual": "client unhappy", "ceo": "client wrote to the CEO",
                       "breached": "breached"}  # fmt: skip
    assert pane[0].thread_id == "breached"


DUE = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
RISK = timedelta(minutes=15)


@pytest.mark.parametrize(
    ("now", "at_risk", "expected"),
    [
        pytest.param(DUE - timedelta(hours=1), RISK, SlaState.OK, id="an-hour-left"),
        pytest.param(DUE - RISK, RISK, SlaState.OK, id="exactly-at-risk-threshold"),
        pytest.param(DUE - RISK + timedelta(seconds=1), RISK, SlaState.AT_RISK, id="just-under"),
        pytest.param(DUE - timedelta(seconds=1), RISK, SlaState.AT_RISK, id="one-second-left"),
        pytest.param(DUE, RISK, SlaState.BREACHED, id="at-deadline"),
        pytest.param(DUE + timedelta(days=2), RISK, SlaState.BREACHED, id="long-overdue"),
        pytest.param(DUE - timedelta(seconds=1), timedelta(0), SlaState.OK, id="no-risk-window"),
    ],
)
def test_state(now: datetime, at_risk: timedelta, expected: SlaState) -> None:
    assert urgency.state(DUE, now, at_risk) is expected


GRACE = timedelta(minutes=10)


def test_each_escalation_says_why_by_whom_and_since_when() -> None:
    since = NOW - timedelta(minutes=40)
    manual = conv("m", 60, escalated=True, escalation_reason="client unhappy",
                  escalated_by="bob", escalated_at=since)  # fmt: skip
    assert urgency.escalation_of(manual, NOW, GRACE) == urgency.Escalation(
        "client unhappy", "bob", since
    )
    ceo = conv("c", 60, ceo_contacted=True, waiting_since=since)
    assert urgency.escalation_of(ceo, NOW, GRACE) == urgency.Escalation(
        urgency.CEO_CONTACTED, AUTO, since
    )
    late = conv("b", -30)
    assert urgency.escalation_of(late, NOW, GRACE) == urgency.Escalation(
        urgency.BREACHED, AUTO, late.deadline
    )
    assert urgency.escalation_of(late, NOW, GRACE).automatic  # type: ignore[union-attr]
    assert not urgency.escalation_of(manual, NOW, GRACE).automatic  # type: ignore[union-attr]


def test_a_breach_escalates_exactly_when_the_grace_is_over() -> None:
    assert urgency.escalation_of(conv("b", -10), NOW, GRACE) is not None
    assert urgency.escalation_of(conv("b", -9.99), NOW, GRACE) is None


def test_the_pane_shows_an_automatic_escalation_as_escalated_by_the_rule() -> None:
    late = conv("b", -30)
    esc = urgency.Escalation(urgency.BREACHED, AUTO, late.deadline)
    shown = urgency.as_escalated(late, esc)
    assert (shown.escalated, shown.escalation_reason, shown.escalated_by, shown.escalated_at) == (
        True, urgency.BREACHED, AUTO, late.deadline
    )  # fmt: skip
    manual = conv("m", 60, escalated=True, escalation_reason="x", escalated_by="bob")
    assert urgency.as_escalated(manual, esc) is manual  # its own reason stands


def test_the_filter_description_names_every_part() -> None:
    f = Filter(text="late", owner="alice", region="ca-on")
    assert f.describe() == "owner=alice region=ca-on text='late'"
    assert Filter(region="ca-on").describe() == "region=ca-on"
    assert Filter(region="us-east").matches(conv("a", 5))
