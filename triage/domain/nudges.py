"""Nudges: the emails `triage watch` sends to people who are not looking at the console.

The steps are the warning ladder's (`triage.domain.alerts`): when a conversation
becomes at risk its owner is nudged; when it breaches, its owner again, and once
`escalate_after_minutes` have passed since the breach, the CEO. An away owner's
nudges go to their stand-in (`triage.domain.away`).

Each nudge has a key (the step, the conversation, the recipient and the deadline the
step is about), so a conversation that breaches again after the client wrote anew is
a new nudge, and the same one is never sent twice (the claim and the "sent" mark are
keyed by it on the provider; `triage.engine.nudges`).

Quiet hours: a recipient is nudged only inside their working hours (`[managers.ID]
timezone/hours/days`, unless `[alerts] outside_hours`; the CEO: any time). Nothing is
queued meanwhile: each round asks again what is due *now*, so a nudge held overnight
goes out when the hours start if the conversation still needs it, and is dropped if
it was answered, done or snoozed by then; only the highest step reached is sent (an
at-risk nudge held overnight for a conversation that breached meanwhile becomes the
breach nudge). Pure: the queue, the absences and `now` are given.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from triage.domain import away as absence
from triage.domain.alerts import Step, on_shift
from triage.domain.model import CEO_ID, Conversation, Mark, MarkKind, Status
from triage.domain.settings import Config
from triage.domain.workflow import status_at
from triage.text.sanitize import sanitize_line

CLAIM_LEASE = timedelta(minutes=5)  # a claim whose watcher died is taken over after this
SUBJECT_LEN = 80


@dataclass(frozen=True)
class Nudge:
    """One email to one person about one step of one conversation."""

    key: str  # 16 hex digits: the step, conversation, recipient and deadline, hashed
    thread_id: str
    step: Step
    recipient: str  # a manager id or "ceo"
    to: str  # their address
    subject: str  # plain text, sanitized
    body: str  # plain text, sanitized
    instead_of: str = ""  # the away owner this one stands in for ("" when none)

    @property
    def sent_mark(self) -> Mark:
        return Mark(MarkKind.NUDGED, self.key)

    def claim_mark(self, at: datetime) -> Mark:
        return Mark(MarkKind.NUDGE, f"{self.key}-{int(at.timestamp())}")

    @property
    def token(self) -> str:
        """32 hex digits for the nudge's own Message-ID (the same on every attempt)."""
        return hashlib.sha256(("message " + self.key).encode()).hexdigest()[:32]


def key(step: Step, thread_id: str, recipient: str, deadline: datetime) -> str:
    text = f"{step.value}|{thread_id}|{recipient}|{int(deadline.timestamp())}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def claims(marks: Iterable[Mark], nudge_key: str) -> list[datetime]:
    """When each claim of this nudge on the thread was made, oldest first."""
    out = []
    for m in marks:
        head, _, stamp = m.value.partition("-")
        if m.kind is MarkKind.NUDGE and head == nudge_key and stamp.isdigit():
            out.append(datetime.fromtimestamp(int(stamp), tz=ZoneInfo("UTC")))
    return sorted(out)


def blocked(marks: Iterable[Mark], nudge: Nudge, now: datetime) -> bool:
    """Whether a watcher must leave this nudge alone: sent already, or claimed by a
    watcher whose lease still runs (it may be sending right now)."""
    marks = list(marks)
    if nudge.sent_mark in marks:
        return True
    return any(now - at < CLAIM_LEASE for at in claims(marks, nudge.key))


def due(
    queue: Iterable[Conversation], now: datetime, cfg: Config, away: absence.Absences
) -> list[Nudge]:
    """The nudges due at `now` (whether sent already is the provider's to say)."""
    convs = list(queue)
    load = absence.loads(convs)
    grace = timedelta(minutes=cfg.agency.escalate_after_minutes)
    at_risk = timedelta(minutes=cfg.agency.at_risk_minutes)
    out: list[Nudge] = []
    for c in convs:
        if (
            c.deadline is None
            or not c.waiting
            or now < c.deadline - at_risk
            or not c.owner
            or status_at(c, now) not in (Status.WAITING, Status.FOLLOW_UP)
        ):
            continue  # answered, done, snoozed: nothing to nudge about
        who = absence.stand_in(c, away, cfg, load, now)
        steps = [(Step.AT_RISK, who)] if now < c.deadline else [(Step.BREACHED, who)]
        if now >= c.deadline + grace:
            steps.append((Step.ESCALATED, CEO_ID))
        for step, recipient in steps:
            n = _nudge(c, step, recipient, now, cfg, "" if who == c.owner else c.owner)
            if n is not None and on_shift(cfg.managers.get(recipient), now, cfg):
                out.append(n)
    return out


def _nudge(
    c: Conversation, step: Step, recipient: str, now: datetime, cfg: Config, instead_of: str
) -> Nudge | None:
    to = cfg.agency.ceo if recipient == CEO_ID else _email(cfg, recipient)
    if not to or c.deadline is None:
        return None
    client = sanitize_line(c.client_name or c.client_email, 60)
    subject = sanitize_line(c.subject, SUBJECT_LEN)
    title = {Step.AT_RISK: "at risk", Step.BREACHED: "overdue",
             Step.ESCALATED: "breached, escalated"}[step]  # fmt: skip
    lines = [words(c, client, now, cfg, recipient), "", f"Subject: {subject}",
             f"Owner: {sanitize_line(cfg.manager_name(c.owner), 60)}"]  # fmt: skip
    if instead_of:
        lines.append(f"You are told because {sanitize_line(cfg.manager_name(instead_of), 60)}"
                     " is away.")  # fmt: skip
    lines += ["", "Open triage to answer it. (An automatic message from triage watch.)"]
    return Nudge(key(step, c.thread_id, recipient, c.deadline), c.thread_id, step, recipient,
                 to, f"[triage] {title}: {client}: {subject}", "\n".join(lines) + "\n",
                 instead_of)  # fmt: skip


def words(c: Conversation, client: str, now: datetime, cfg: Config, recipient: str) -> str:
    """'Acme Corp has waited 48 min; 12 min left; reply by 14:05 New York (11:05 yours)'."""
    assert c.deadline is not None
    waited = _span((now - (c.waiting_since or c.first_arrival)).total_seconds())
    left = (c.deadline - now).total_seconds()
    state = f"{_span(left)} left" if left > 0 else f"{_span(-left)} overdue"
    region = cfg.regions.get(c.region)
    zone = region.timezone if region else "UTC"
    when = f"{c.deadline.astimezone(ZoneInfo(zone)):%H:%M} {_city(zone)}"
    manager = cfg.managers.get(recipient)
    if manager is not None and manager.timezone and manager.timezone != zone:
        when += f" ({c.deadline.astimezone(ZoneInfo(manager.timezone)):%H:%M} yours)"
    verb = "reply by" if left > 0 else "it was due"
    return f"{client} has waited {waited}; {state}; {verb} {when}"


def _span(seconds: float) -> str:
    minutes = max(0, int(seconds // 60))
    hours, mins = divmod(minutes, 60)
    return f"{hours} h {mins} min" if hours else f"{mins} min"


def _city(zone: str) -> str:
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def _email(cfg: Config, manager_id: str) -> str:
    m = cfg.managers.get(manager_id)
    return m.email if m else ""
