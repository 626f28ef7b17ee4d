"""Nudges: the emails `triage watch` sends to people who are not looking at the console.

The steps are the warning ladder's (`triage.domain.alerts`): when a conversation
becomes at risk its owner is nudged; when it breaches, its owner again, and once
`escalate_after_minutes` have passed since the breach, the CEO. An away owner's
nudges go to their stand-in (`triage.domain.away`).

Each nudge has a key (the step, the conversation, the recipient and the deadline the
step is about), so a conversation that breaches again after the client wrote anew is
a new nudge. What is shared on the provider stays bounded, whatever the number of
nudges (Cyrus, say, allows about a hundred keywords per mailbox): one of four lock
marks while a watcher sends a nudge on a conversation, and notes (unbounded, like
every note) saying "nudging" before the send and "nudged" after it
(`triage.engine.nudges` runs that protocol).

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
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from triage.domain import away as absence
from triage.domain import calendar
from triage.domain.alerts import Step, on_shift
from triage.domain.handoff import shift
from triage.domain.model import CEO_ID, Conversation, Mark, MarkKind, Note, Status
from triage.domain.settings import Config
from triage.domain.workflow import status_at
from triage.text.sanitize import sanitize_line

# A lock mark names the five-minute slot it was taken in, modulo LOCK_VALUES: live in
# that slot and the next, expired after (a watcher that died is taken over then).
LOCK_SLOT = timedelta(minutes=5)
LOCK_VALUES = 4
LOCK_EXPIRED_AFTER = 2 * LOCK_SLOT  # a lock this old is expired, whenever it was taken
NUDGING, NUDGED = "nudging", "nudged"  # the notes before and after the send
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
    due_at: datetime  # when it became due for the recipient (after quiet hours)
    instead_of: str = ""  # the away owner this one stands in for ("" when none)

    @property
    def token(self) -> str:
        """32 hex digits for the nudge's own Message-ID (the same on every attempt)."""
        return hashlib.sha256(("message " + self.key).encode()).hexdigest()[:32]


def key(step: Step, thread_id: str, recipient: str, deadline: datetime) -> str:
    text = f"{step.value}|{thread_id}|{recipient}|{int(deadline.timestamp())}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def lock_mark(now: datetime) -> Mark:
    """The lock a watcher takes on a conversation while it sends one of its nudges."""
    return Mark(MarkKind.NUDGE, str(_slot(now) % LOCK_VALUES))


def locked(marks: Iterable[Mark], now: datetime) -> bool:
    """Whether another watcher holds a live lock on the conversation."""
    return bool(live_locks(marks, now))


def live_locks(marks: Iterable[Mark], now: datetime) -> list[Mark]:
    here = _slot(now) % LOCK_VALUES
    return [m for m in marks if m.kind is MarkKind.NUDGE and m.value.isdigit()
            and (here - int(m.value)) % LOCK_VALUES < 2]  # fmt: skip


def _slot(at: datetime) -> int:
    return int(at.timestamp() // LOCK_SLOT.total_seconds())


def note(n: Nudge, action: str, by: str, at: datetime) -> Note:
    """The note of a nudge: `nudging` (before the send, with its lease) or `nudged`."""
    until = at + LOCK_EXPIRED_AFTER if action == NUDGING else None
    return Note(action, by=by, at=at, to=n.recipient, reason=f"{n.step.value}|{n.key}",
                until=until)  # fmt: skip


def sent(notes: Iterable[Note], nudge_key: str) -> bool:
    """Whether a `nudged` note of this nudge is among the conversation's notes."""
    return any(n.action == NUDGED and n.reason.endswith("|" + nudge_key) for n in notes)


def due(
    queue: Iterable[Conversation], now: datetime, cfg: Config, away: absence.Absences,
    load: Counter[str] | None = None,
) -> list[Nudge]:  # fmt: skip
    """The nudges due at `now` (whether sent already is the provider's to say). `load`:
    each manager's waiting conversations, when `queue` is not all of them."""
    convs = list(queue)
    if load is None:
        load = absence.loads(convs) if away else Counter[str]()
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
                 _due_at(c.deadline, step, recipient, cfg), instead_of)  # fmt: skip


def _due_at(deadline: datetime, step: Step, recipient: str, cfg: Config) -> datetime:
    """When the step was reached, or the recipient's next opening after it (quiet hours)."""
    grace = timedelta(minutes=cfg.agency.escalate_after_minutes)
    at = {Step.AT_RISK: deadline - timedelta(minutes=cfg.agency.at_risk_minutes),
          Step.BREACHED: deadline, Step.ESCALATED: deadline + grace}[step]  # fmt: skip
    m = cfg.managers.get(recipient)
    hours = shift(m) if m is not None and not cfg.alerts.outside_hours else None
    return at if hours is None else calendar.clock_start(at, hours)


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
