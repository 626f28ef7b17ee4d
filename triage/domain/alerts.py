"""The warning ladder: who is told, once, when a conversation becomes at risk or breaches.

A manager is told about their own conversations: when one becomes at risk, and when
it breaches. The CEO is told about new escalations and about breaches of premium
clients. Each step is told once per conversation (`Ladder` remembers what it told),
never for answered, done or snoozed ones (they are not in the queue), and never
outside the recipient's working hours unless the config says so. What the console
already showed when it started is remembered, not told: alerts are for changes.
Pure: the queue and `now` are given; the channels (bell, toast, desktop) are the UI's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from triage.domain import calendar
from triage.domain.away import Absences, loads, stand_in
from triage.domain.model import CEO_ID, Conversation, Manager, Region, Tier
from triage.domain.ordering import QueueView
from triage.domain.settings import Config

_NOBODY: Absences = {}


class Step(StrEnum):
    AT_RISK = "at risk"
    BREACHED = "breached"
    ESCALATED = "escalated"


@dataclass(frozen=True)
class Alert:
    """One thing to tell: about which conversation, which step, in plain words.

    `client` and `subject` come from email: the channels make them safe."""

    thread_id: str
    step: Step
    client: str
    subject: str
    seconds_left: float | None


@dataclass
class Ladder:
    """What this console has told (or found already shown at start), by conversation."""

    told: dict[str, set[Step]] = field(default_factory=dict)
    primed: bool = False

    def due(
        self, view: QueueView, now: datetime, cfg: Config, user: str, away: Absences = _NOBODY
    ) -> list[Alert]:
        """The alerts that are new at `now` for `user`, each recorded as told. The first
        call only records what is already so (the screen shows it). An away manager's
        alerts go to their stand-in (`triage.domain.away`)."""
        found = _candidates(view, now, cfg, user, self.told, away)
        for a in found:
            self.told.setdefault(a.thread_id, set()).add(a.step)
        if not self.primed:
            self.primed = True
            return []
        return found if on_shift(cfg.managers.get(user), now, cfg) else []


def _candidates(
    view: QueueView, now: datetime, cfg: Config, user: str, told: dict[str, set[Step]],
    away: Absences,
) -> list[Alert]:  # fmt: skip
    """The steps reached and not told yet (a told step costs a set lookup, no more)."""
    at_risk = timedelta(minutes=cfg.agency.at_risk_minutes)
    grace = timedelta(minutes=cfg.agency.escalate_after_minutes)
    near = view[: view.due_before(now + at_risk)]  # at risk or breached: few, by bisection

    def new(c: Conversation, step: Step) -> bool:
        return step not in told.get(c.thread_id, ())

    if user == CEO_ID:
        escalated = [_alert(c, Step.ESCALATED, now) for c in view.escalations(now, grace)
                     if new(c, Step.ESCALATED)]  # fmt: skip
        seen = {a.thread_id for a in escalated} | {
            t for t, steps in told.items() if Step.ESCALATED in steps}  # fmt: skip
        breached = [_alert(c, Step.BREACHED, now) for c in near if c.thread_id not in seen
                    and c.tier is Tier.PREMIUM and _breached(c, now)
                    and new(c, Step.BREACHED)]  # fmt: skip
        return escalated + breached
    out = []
    load = loads(view) if away else Counter[str]()
    for c in near:
        if (stand_in(c, away, cfg, load, now) if away else c.owner) == user:
            step = Step.BREACHED if _breached(c, now) else Step.AT_RISK
            if new(c, step):
                out.append(_alert(c, step, now))
    return out


def _breached(c: Conversation, now: datetime) -> bool:
    return c.deadline is not None and now >= c.deadline


def _alert(c: Conversation, step: Step, now: datetime) -> Alert:
    return Alert(c.thread_id, step, c.client_name or c.client_email, c.subject,
                 c.seconds_left(now))  # fmt: skip


def on_shift(manager: Manager | None, now: datetime, cfg: Config) -> bool:
    """Whether alerts reach this user now: inside their working hours (none configured,
    or the CEO: always), or anytime with `[alerts] outside_hours = true`."""
    if cfg.alerts.outside_hours or manager is None or manager.hours is None:
        return True
    shift = Region(manager.id, manager.name, manager.timezone or "UTC", "", manager.hours,
                   manager.days)  # fmt: skip
    return calendar.is_open(now, shift)
