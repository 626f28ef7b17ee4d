"""The queue: which conversations are waiting, in what order, and their counts.

Order is by absolute deadline (it does not move as the clock ticks, so a tick
never re-sorts), then premium before standard, then earliest arrival.
Pure: `now` is always a parameter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from triage.domain.model import Conversation, SlaState, Tier

_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)
ZERO = timedelta(0)


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


def counts(
    queue: Iterable[Conversation], now: datetime, at_risk: timedelta, grace: timedelta = ZERO
) -> Counts:
    """Totals for the status bar; `escalated` counts what the escalation pane lists."""
    items = list(queue)
    total = breached = risky = 0
    for c in items:
        total += 1
        s = state_of(c, now, at_risk)
        breached += s is SlaState.BREACHED
        risky += s is SlaState.AT_RISK
    return Counts(total, breached, risky, len(escalations(items, now, grace)))


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


def escalations(
    conversations: Iterable[Conversation],
    now: datetime | None = None,
    grace: timedelta | None = None,
) -> list[Conversation]:
    """The CEO's pane: open conversations escalated by hand, by writing to the CEO,
    or (when `now` is given) by breaching more than `grace` ago; not yet acknowledged.

    Automatic escalations carry their reason, so every console shows the same pane
    without anyone having to write it anywhere.
    """
    out = []
    for c in conversations:
        if c.acknowledged or not c.waiting:
            continue
        if c.escalated:
            out.append(c)
        elif c.ceo_contacted:
            out.append(replace(c, escalated=True, escalation_reason="client wrote to the CEO",
                               escalated_by="auto"))  # fmt: skip
        elif now is not None and c.deadline is not None and now >= c.deadline + (grace or ZERO):
            out.append(replace(c, escalated=True, escalation_reason="breached", escalated_by="auto",
                               escalated_at=c.deadline))  # fmt: skip
    return sorted(out, key=sort_key)
