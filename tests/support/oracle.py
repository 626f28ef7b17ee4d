"""Test oracles: the queue's rules computed the plain way, to check the fast paths against.

`triage.domain.ordering` keeps the queue sorted incrementally and counts by
bisection; these walk every conversation instead, spelling the order out
independently (no shared key function) and asking the domain's one state and
escalation functions conversation by conversation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from triage.domain.model import Conversation, SlaState, Status, Tier
from triage.domain.urgency import Counts, as_escalated, escalation_of, state_of

_LAST = datetime.max.replace(tzinfo=UTC)


def order_key(c: Conversation) -> tuple[datetime, bool, datetime, str]:
    """Deadline (none: last), premium first, earliest arrival, then thread id."""
    return (c.deadline or _LAST, c.tier is not Tier.PREMIUM, c.first_arrival, c.thread_id)


def asleep(c: Conversation, now: datetime | None) -> bool:
    """Snoozed and its wake time not come (spelled out apart from the domain's)."""
    return c.status is Status.SNOOZED and (now is None or c.wake_at is None or now < c.wake_at)


def waiting(
    conversations: Iterable[Conversation], now: datetime | None = None
) -> list[Conversation]:
    """The queue: the waiting conversations awake at `now`, most urgent first."""
    return sorted((c for c in conversations if c.waiting and not asleep(c, now)), key=order_key)


def escalations(
    conversations: Iterable[Conversation], now: datetime, grace: timedelta
) -> list[Conversation]:
    out = []
    for c in conversations:
        esc = escalation_of(c, now, grace)
        if esc is not None:
            out.append(as_escalated(c, esc))
    return sorted(out, key=order_key)


def acknowledged(
    conversations: Iterable[Conversation], now: datetime, grace: timedelta
) -> list[Conversation]:
    """Acknowledged conversations that would be escalations without the acknowledgement."""
    unacked = (dataclasses.replace(c, acknowledged=False) for c in conversations if c.acknowledged)
    return escalations(unacked, now, grace)


def counts(
    conversations: Iterable[Conversation], now: datetime, at_risk: timedelta,
    grace: timedelta = timedelta(0),
) -> Counts:  # fmt: skip
    conversations = list(conversations)
    queue = waiting(conversations, now)
    states = [state_of(c, now, at_risk) for c in queue]
    return Counts(
        total=len(queue),
        breached=states.count(SlaState.BREACHED),
        at_risk=states.count(SlaState.AT_RISK),
        escalated=len(escalations((c for c in conversations if c.waiting), now, grace)),
        snoozed=sum(c.waiting and asleep(c, now) for c in conversations),
    )
