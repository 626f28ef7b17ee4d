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
from triage.domain.ordering import QueueView, built
from triage.domain.settings import Config
from triage.domain.urgency import escalation_of
from triage.text.i18n import N_

_NOBODY: Absences = {}


class Step(StrEnum):
    """The values are English ids (stored in a nudge's note); `_()` shows them
    translated (the history line of a nudge, `triage watch`'s output)."""

    AT_RISK = N_("at risk")
    BREACHED = N_("breached")
    ESCALATED = N_("escalated")


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
    """The steps reached and not told yet. Asked every few seconds of up to every
    waiting conversation (a backlog of breaches), so a conversation told all it can be
    told is skipped by its thread id, without being built."""
    at_risk = timedelta(minutes=cfg.agency.at_risk_minutes)
    grace = timedelta(minutes=cfg.agency.escalate_after_minutes)
    near = view.unbuilt(view.due_before(now + at_risk))  # at risk or breached, by bisection

    def new(tid: str, step: Step) -> bool:
        return step not in told.get(tid, ())

    if user == CEO_ID:
        escalated = []
        for item in view.escalation_candidates(now, grace):
            if new(item.thread_id, Step.ESCALATED):
                c = built(item)
                if escalation_of(c, now, grace) is not None:
                    escalated.append(_alert(c, Step.ESCALATED, now))
        seen = {a.thread_id for a in escalated}
        # Told escalated or breached: nothing more to tell the CEO about it.
        left = [i for i in near if i.thread_id not in seen
                and not told.get(i.thread_id, set()) & {Step.ESCALATED, Step.BREACHED}]  # fmt: skip
        breached = [_alert(c, Step.BREACHED, now) for c in map(built, left)
                    if c.tier is Tier.PREMIUM and _breached(c, now)]  # fmt: skip
        return escalated + breached
    out = []
    load = loads(view) if away else Counter[str]()
    # Told both steps: nothing more to tell about it (the others are built, once).
    both = {Step.AT_RISK, Step.BREACHED}
    for c in map(built, (i for i in near if not both <= told.get(i.thread_id, set()))):
        if (stand_in(c, away, cfg, load, now) if away else c.owner) == user:
            step = Step.BREACHED if _breached(c, now) else Step.AT_RISK
            if new(c.thread_id, step):
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
