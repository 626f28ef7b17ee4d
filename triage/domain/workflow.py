"""The workflow states of PRODUCT.md: waiting, follow-up, snoozed, done, answered.

Read from the thread's marks and notes. "Done" and "snoozed" are marks set on
every message of the thread, so a client message that arrives after them (it
carries no mark) ends them: the conversation is waiting again, its clock counted
from the messages after the "done" (a fresh clock), or from the oldest unanswered
one after a snooze (the deadline a snooze never hid). The note says why, by whom
and until when; a reopen or wake note ends the one before it.

No deadline is ever hidden: a snoozed conversation whose client is waiting wakes
at its wake time or when it becomes at risk, whichever is first (`wake_at`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from triage.domain import calendar, history, routing
from triage.domain.model import (
    Conversation,
    MarkKind,
    MessageInfo,
    Note,
    NoteAction,
    Region,
    Route,
    Status,
)
from triage.domain.settings import Config
from triage.domain.targets import target_for
from triage.text.i18n import N_

# The reasons the "done" dialog offers by a digit (any other may be typed).
QUICK_DONE_REASONS = (N_("thanks / no question"), N_("out of office"), N_("spam or phishing"),
                      N_("handled by phone"))  # fmt: skip


@dataclass(frozen=True)
class Flow:
    """What the marks and notes say: an active "done" or snooze, and who is replying."""

    done: Note | None = None  # no reply needed (the mark is on the latest message)
    restart_after: datetime | None = None  # a "done" a client message ended: count after it
    snooze: Note | None = None  # snoozed until `snooze.until`
    woken: Note | None = None  # a snooze ended by hand (a reminder then is due now)
    replying: Note | None = None  # the latest "replying now" of a manager still marked


def read(mail: Sequence[MessageInfo], notes: Sequence[Note], cfg: Config) -> Flow:
    """The workflow facts of a thread's mail (oldest first) and merged notes.

    A done or a snooze covers the messages up to the newest one its person had seen
    (`Note.seen`; older notes: up to the note's time): a client message after that
    ends it, whether or not a mark was written on it since."""
    done = _active(notes, NoteAction.DONE, NoteAction.REOPEN)
    snooze = _active(notes, NoteAction.SNOOZE, NoteAction.WAKE)
    marked = {m.value for msg in mail for m in msg.marks if m.kind is MarkKind.REPLYING}
    staff = [m.received_at for m in mail if routing.is_staff(m.sender, cfg)]
    # A staff message sent since a "replying now" ends it (the reply went).
    replying = [n for n in notes if n.action == NoteAction.REPLYING and n.by in marked
                and not any(at > n.at for at in staff)]  # fmt: skip
    wake, last_snooze = history.last(notes, NoteAction.WAKE), history.last(notes, NoteAction.SNOOZE)
    done_ended = done is not None and _client_after(mail, _covered(done), cfg)
    awake = snooze is None or snooze.until is None or _client_after(mail, _covered(snooze), cfg)
    woke = wake is not None and last_snooze is not None and wake.at >= last_snooze.at
    return Flow(
        done=done if not done_ended else None,
        restart_after=_covered(done) if done is not None and done_ended else None,
        snooze=None if awake else snooze,
        woken=wake if woke and wake is not None and wake.reason != SNOOZE_CANCELLED else None,
        replying=replying[-1] if replying else None,
    )


SNOOZE_CANCELLED = "snooze cancelled"  # a wake note that undoes a snooze: no follow-up


def _covered(note: Note) -> datetime:
    return note.seen or note.at


def _client_after(mail: Sequence[MessageInfo], at: datetime, cfg: Config) -> bool:
    return any(m.received_at > at and not routing.is_staff(m.sender, cfg) for m in mail)


def _active(notes: Sequence[Note], start: str, end: str) -> Note | None:
    """The latest `start` note, unless an `end` note came at or after it."""
    began, ended = history.last(notes, start), history.last(notes, end)
    if began is None or (ended is not None and ended.at >= began.at):
        return None
    return began


def wake_at(until: datetime, deadline: datetime | None, at_risk: timedelta) -> datetime:
    """When a snoozed conversation comes back: its wake time, or once at risk if sooner."""
    return until if deadline is None else min(until, deadline - at_risk)


def status_at(c: Conversation, now: datetime) -> Status:
    """The state at `now`: a snooze ends at its wake time (a follow-up when answered)."""
    if c.status is Status.SNOOZED and c.wake_at is not None and now >= c.wake_at:
        return Status.FOLLOW_UP if c.follow_up else Status.WAITING
    return c.status


@dataclass(frozen=True)
class Reply:
    """A staff reply to the client, and how it did against its deadline."""

    at: datetime
    by: str  # a manager id, or the address of staff not in the config
    business_seconds: float
    on_time: bool
    asked_at: datetime | None = None  # the client message it answered (its clock's start)
    deadline: datetime | None = None  # the deadline that applied to it
    first: bool = False  # it answered a new request (a first reply)


def last_reply(
    mail: Sequence[MessageInfo], cfg: Config, region: Region | None, route: Route
) -> Reply | None:
    """The latest staff message that answered client mail (the exchange it closed),
    measured against the target that applied to the message it answered."""
    found = replies(mail, cfg, region, route)
    return found[-1] if found else None


def replies(
    mail: Sequence[MessageInfo], cfg: Config, region: Region | None, route: Route
) -> list[Reply]:
    """Every staff message that answered client mail, oldest first, each measured from
    the oldest client message it answered, against the target that applied to it."""
    exchanges: list[tuple[MessageInfo, MessageInfo, bool]] = []  # asked, answer, first
    asked: MessageInfo | None = None
    first = staff_seen = False
    for m in mail:
        if not routing.is_staff(m.sender, cfg):
            if asked is None:
                asked, first = m, not staff_seen
            continue
        staff_seen = True
        if asked is not None:
            exchanges.append((asked, m, first))
            asked = None
    return [_measured(a, answer, f, cfg, region, route) for a, answer, f in exchanges]


def _measured(
    asked: MessageInfo, answer: MessageInfo, first: bool, cfg: Config, region: Region | None,
    route: Route,
) -> Reply:  # fmt: skip
    by = next((k for k, v in cfg.managers.items() if v.email == answer.sender), answer.sender)
    if region is None:
        took = (answer.received_at - asked.received_at).total_seconds()
        return Reply(answer.received_at, by, took, True, asked.received_at, None, first)
    start = calendar.clock_start(asked.received_at, region)
    took_business = calendar.business_time(start, answer.received_at, region)
    target = target_for(first, route.client_key, route.tier, region, cfg)
    due = calendar.deadline(asked.received_at, region, target.within)
    return Reply(answer.received_at, by, took_business.total_seconds(), answer.received_at <= due,
                 asked.received_at, due, first)  # fmt: skip
