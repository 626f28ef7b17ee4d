"""The queue: which conversations are waiting, in what order, and their counts.

Order is by absolute deadline (it does not move as the clock ticks, so a tick
never re-sorts), then premium before standard, then earliest arrival.
Pure: `now` is always a parameter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from triage.model import Conversation, SlaState, Tier

_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


def sort_key(c: Conversation) -> tuple[datetime, int, datetime, str]:
    """Most urgent first; a stable total order (thread id breaks the last tie)."""
    tier_rank = 0 if c.tier is Tier.PREMIUM else 1
    return (c.deadline or _FAR_FUTURE, tier_rank, c.first_arrival, c.thread_id)


def waiting(conversations: Iterable[Conversation]) -> list[Conversation]:
    """The queue: conversations whose latest message is from the client, in order."""
    return sorted((c for c in conversations if c.waiting), key=sort_key)


def state_of(c: Conversation, now: datetime, at_risk: timedelta) -> SlaState:
    """Breached / at risk / ok for one row; answered conversations count as ok."""
    if c.deadline is None:
        return SlaState.OK
    left = c.deadline - now
    if left <= timedelta(0):
        return SlaState.BREACHED
    if left < at_risk:
        return SlaState.AT_RISK
    return SlaState.OK


@dataclass(frozen=True)
class Counts:
    """The numbers the status bar shows."""

    total: int
    breached: int
    at_risk: int
    escalated: int


def counts(queue: Iterable[Conversation], now: datetime, at_risk: timedelta) -> Counts:
    total = breached = risky = escalated = 0
    for c in queue:
        total += 1
        s = state_of(c, now, at_risk)
        breached += s is SlaState.BREACHED
        risky += s is SlaState.AT_RISK
        escalated += c.escalated and not c.acknowledged
    return Counts(total, breached, risky, escalated)


@dataclass(frozen=True)
class Filter:
    """What the user narrowed the queue to; `describe()` is always shown on screen."""

    text: str = ""
    owner: str = ""
    region: str = ""

    def matches(self, c: Conversation) -> bool:
        if self.owner and c.owner != self.owner:
            return False
        if self.region and c.region != self.region:
            return False
        if self.text:
            needle = self.text.casefold()
            hay = f"{c.client_name}\n{c.subject}\n{c.client_email}".casefold()
            return needle in hay
        return True

    def describe(self) -> str:
        parts = []
        if self.owner:
            parts.append(f"owner={self.owner}")
        if self.region:
            parts.append(f"region={self.region}")
        if self.text:
            parts.append(f"text={self.text!r}")
        return " ".join(parts) or "all"


def escalations(conversations: Iterable[Conversation]) -> list[Conversation]:
    """The CEO's pane: escalated, not yet acknowledged, most overdue first."""
    return sorted(
        (c for c in conversations if c.escalated and not c.acknowledged),
        key=sort_key,
    )
