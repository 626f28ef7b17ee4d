"""How urgent a conversation is: the one state function, the escalation rule, counts, filters.

`state` is the only place that decides breached / at risk / ok; `escalation_of` is
the only place that decides whether a conversation belongs in the CEO's pane and
why. `triage.domain.ordering` answers the same questions for a whole sorted queue
by bisection on the deadlines; its boundaries are the ones written here.
Pure: `now` is always a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from triage.domain.model import AUTO, Conversation, SlaState
from triage.text.i18n import _

ZERO = timedelta(0)
CEO_CONTACTED = "client wrote to the CEO"
BREACHED = "breached"


def state(deadline: datetime | None, now: datetime, at_risk: timedelta) -> SlaState:
    """Breached once no time is left, at risk under `at_risk` left, else ok.

    No deadline (answered) is ok. The boundaries: a deadline at exactly `now` is
    breached; at exactly `now + at_risk` it is ok."""
    if deadline is None:
        return SlaState.OK
    if deadline <= now:
        return SlaState.BREACHED
    if deadline < now + at_risk:
        return SlaState.AT_RISK
    return SlaState.OK


def state_of(c: Conversation, now: datetime, at_risk: timedelta) -> SlaState:
    """`state` of one conversation's deadline."""
    return state(c.deadline, now, at_risk)


@dataclass(frozen=True)
class Escalation:
    """Why a conversation is in the CEO's pane, by whom, and since when.

    `by` is a manager id (or "ceo") for a manual escalation and "auto" for the two
    the rules make: the client wrote to or copied the CEO, or the conversation
    breached more than the grace ago."""

    reason: str
    by: str
    since: datetime | None

    @property
    def automatic(self) -> bool:
        return self.by == AUTO


def escalation_of(c: Conversation, now: datetime, grace: timedelta) -> Escalation | None:
    """The escalation rule: manual, CEO contacted, or breached past `grace`; not once
    acknowledged, and only while the client is waiting."""
    if c.acknowledged or not c.waiting:
        return None
    if c.escalated:
        return Escalation(c.escalation_reason, c.escalated_by, c.escalated_at)
    if c.ceo_contacted:
        return Escalation(CEO_CONTACTED, AUTO, c.waiting_since)
    if c.deadline is not None and now >= c.deadline + grace:
        return Escalation(BREACHED, AUTO, c.deadline)
    return None


def as_escalated(c: Conversation, esc: Escalation) -> Conversation:
    """The conversation as the pane shows it: with the escalation's reason and author."""
    if c.escalated:
        return c
    return replace(c, escalated=True, escalation_reason=esc.reason, escalated_by=esc.by,
                   escalated_at=esc.since)  # fmt: skip


@dataclass(frozen=True)
class Counts:
    """The numbers the status bar shows; `escalated` counts what the pane lists."""

    total: int
    breached: int
    at_risk: int
    escalated: int
    snoozed: int = 0  # out of the queue until they wake (never past at risk)


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
        return " ".join(parts) or _("all")
