"""Plain domain values: regions, managers, clients, threads as providers report them,
shared-state marks and notes, and the conversations the queue shows.

No I/O and no clock reads here. Everything is a frozen dataclass so that values
can be shared between the sync engine, the queue and the UI without copies.
Every provider speaks these types (`triage.providers.base`), so nothing above the
provider layer knows whether a mark is a JMAP keyword, a Gmail label or a
Microsoft Graph category.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property

CEO_ID = "ceo"
AUTO = "auto"  # who escalated, for the escalations the rules make by themselves


class SlaState(StrEnum):
    """How close a conversation is to its reply deadline."""

    BREACHED = "breached"
    AT_RISK = "at_risk"
    OK = "ok"


class Tier(StrEnum):
    """A client's tier; premium clients win ties in the queue."""

    PREMIUM = "premium"
    STANDARD = "standard"


NEXT_BUSINESS_DAY = "next business day"  # a reply target that is not a duration
Within = timedelta | str  # a business-time duration, or NEXT_BUSINESS_DAY


@dataclass(frozen=True)
class Targets:
    """The reply targets one level of the config sets (a client, a tier); None: not set
    here, the next level down decides."""

    reply_within: Within | None = None
    first_reply_within: Within | None = None


@dataclass(frozen=True)
class Region:
    """A regional market: its business calendar and its reply target.

    `hours` is None for a 24x7 region (days and holidays are then ignored).
    `days` holds weekday numbers, Monday = 0.
    `reply_within` is a business-time duration, or None for "next-business-day".
    `holidays` is a country or country-subdivision code ("US", "CA-QC"), or "".
    """

    id: str
    label: str
    timezone: str
    holidays: str = ""
    hours: tuple[time, time] | None = (time(9), time(17))
    days: frozenset[int] = frozenset(range(5))
    reply_within: timedelta | None = timedelta(hours=1)
    first_reply_within: Within | None = None  # a new request's target (None: reply_within)
    closed: frozenset[date] = frozenset()  # whole local days closed beyond the holidays
    hours_on: tuple[tuple[date, time, time], ...] = ()  # short (or long) days: their hours

    @cached_property
    def special_hours(self) -> dict[date, tuple[time, time]]:
        """`hours_on` by day, for the calendar's lookups."""
        return {day: (opens, closes) for day, opens, closes in self.hours_on}

    @property
    def is_24x7(self) -> bool:
        return self.hours is None

    @property
    def rule(self) -> str:
        """The reply target in words, for the thread view and the CLI."""
        if self.reply_within is None:
            return "reply by the end of the next business day"
        minutes = int(self.reply_within.total_seconds() // 60)
        h, m = divmod(minutes, 60)
        span = f"{h}h{m:02d}m" if h and m else (f"{h}h" if h else f"{m}m")
        return f"reply within {span} of business time"


@dataclass(frozen=True)
class Manager:
    """An account manager and the regions they may own."""

    id: str
    name: str
    email: str
    regions: tuple[str, ...] = ()
    signature: str = ""  # added to each reply after a "-- " line ("" = none)
    timezone: str = ""  # working hours: where (the alerts keep to them)
    hours: tuple[time, time] | None = None  # None: no hours set (alerts at any time)
    days: frozenset[int] = frozenset(range(5))


@dataclass(frozen=True)
class Client:
    """A client account from the directory; `key` is a domain or a full address."""

    key: str
    name: str
    region: str
    owner: str
    tier: Tier = Tier.STANDARD
    targets: Targets = field(default_factory=lambda: Targets())  # the contract's own, if any
    language: str = ""  # "fr", "en": the language the client writes in (templates follow)


@dataclass(frozen=True)
class Route:
    """Where a sender belongs: its account, region and tier, and whether it was guessed.

    `client_key` is the directory key for known clients and the sender's domain for
    guessed ones; who owns the conversation is `triage.domain.ownership`'s rule."""

    client_key: str
    client_name: str
    region: str
    tier: Tier
    region_guessed: bool


# ---- shared state on the provider ----


class MarkKind(StrEnum):
    """The kinds of shared-state mark a thread can carry on the provider."""

    OWNER = "owner"  # value: the manager id
    ESCALATED = "escalated"
    ACK = "ack"  # the CEO acknowledged the escalation
    DONE = "done"  # no reply needed (the reason is in the note)
    SNOOZED = "snoozed"  # until the time in the note (or a reminder on an answered one)
    REPLYING = "replying"  # value: the manager writing a reply now (expires: see the note)
    NUDGE = "nudge"  # value: a digit: a watcher is sending a nudge here (`domain.nudges`)


@dataclass(frozen=True, order=True)
class Mark:
    """One shared-state mark, in provider-neutral form.

    Each provider stores it its own way: a JMAP keyword (`triage-owner-alice`), a
    Gmail label (`triage/owner/alice`), a Graph category (`triage:owner:alice`)."""

    kind: MarkKind
    value: str = ""


ESCALATED = Mark(MarkKind.ESCALATED)
ACKNOWLEDGED = Mark(MarkKind.ACK)
DONE = Mark(MarkKind.DONE)
SNOOZED = Mark(MarkKind.SNOOZED)


def owner_mark(manager_id: str) -> Mark:
    return Mark(MarkKind.OWNER, manager_id)


def replying_mark(manager_id: str) -> Mark:
    return Mark(MarkKind.REPLYING, manager_id)


class NoteAction(StrEnum):
    """What a note records (stored by this name on the provider: language-neutral)."""

    ESCALATE = "escalate"
    REASSIGN = "reassign"
    ACK = "ack"
    UNACK = "unack"  # an acknowledgement taken back
    DEESCALATE = "deescalate"  # an escalation taken back, with a reason
    DONE = "done"  # no reply needed, with a reason
    REOPEN = "reopen"  # "done" taken back
    SNOOZE = "snooze"  # until a time
    WAKE = "wake"  # a snooze ended early by hand
    REPLYING = "replying"  # a manager opened a reply; expires at `until`
    AWAY = "away"  # team-level: manager `previous` away until `until`, backup `to` (or "")
    BACK = "back"  # team-level: manager `previous` is back


@dataclass(frozen=True)
class Note:
    """A triage action recorded on the provider (escalation, reassignment, done, ...).

    `client` is the client account of a reassignment (`account`: for the whole
    account), `previous` the owner it was taken from; `until` when a snooze ends
    or a "replying now" expires; `seen` the newest message a done or a snooze was
    decided on (a client message after it ends them, marked or not)."""

    action: str  # a NoteAction; kept as read, so a newer triage's notes survive
    by: str
    at: datetime
    reason: str = ""
    to: str = ""
    account: bool = False
    client: str = ""
    previous: str = ""
    until: datetime | None = None
    seen: datetime | None = None  # done / snooze: the newest message the person had seen


# ---- threads as the provider reports them ----


@dataclass(frozen=True)
class MessageInfo:
    """One email's headers as sync needs them (no body). All text is untrusted.

    `in_watched` is True when the message is in the watched mailbox, folder or label
    (a thread is a client conversation only if one of its messages is)."""

    id: str
    thread_id: str
    sender: str
    sender_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    received_at: datetime
    message_id: str = ""
    references: tuple[str, ...] = ()
    in_watched: bool = False
    marks: frozenset[Mark] = frozenset()
    problem: str = ""  # what of it could not be read ("" when all of it could)
    preview: str = ""  # the provider's first few hundred characters of the body


@dataclass(frozen=True)
class ThreadData:
    """One thread as the provider has it now: its mail (oldest first) and its notes.

    Note messages are not mail: they are listed by id only (`note_ids`, so a
    destroyed note can be traced to its thread) and read into `notes`."""

    thread_id: str
    messages: tuple[MessageInfo, ...]
    notes: tuple[Note, ...] = ()
    note_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Message:
    """One email with its text, for the thread view.

    All text fields are untrusted: they come straight from email and must go
    through `triage.text.sanitize` before they are displayed.
    """

    id: str
    thread_id: str
    sender: str
    sender_name: str
    received_at: datetime
    subject: str = ""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    message_id: str = ""
    preview: str = ""
    body: str = ""
    warnings: tuple[str, ...] = ()
    references: tuple[str, ...] = ()


# ---- conversations ----


class Status(StrEnum):
    """A conversation's workflow state (PRODUCT.md "Workflow states"): exactly one."""

    WAITING = "waiting"  # the client wrote last: in the queue with a deadline
    FOLLOW_UP = "follow-up"  # a reminder on an answered one came due: in the queue
    SNOOZED = "snoozed"  # out of the queue until its wake time (or at risk)
    DONE = "done"  # no reply needed, a person's decision with a reason
    ANSWERED = "answered"  # staff wrote last


@dataclass(frozen=True)
class ThreadRef:
    """What an action needs to write to a thread on the provider, and to reply in it.

    `message_ids` are the provider's ids of the thread's mail (marks go on each);
    `references` are the RFC 5322 Message-IDs a reply or a note cites to join the
    thread; `reply_to` is the address of the client's latest message; and
    `staff_message_ids` the Message-IDs of the latest staff replies (a sent reply is
    confirmed when its own Message-ID shows up there)."""

    thread_id: str
    subject: str = ""
    message_ids: tuple[str, ...] = ()
    note_ids: tuple[str, ...] = ()
    reply_to: str = ""
    references: tuple[str, ...] = ()
    staff_message_ids: tuple[str, ...] = ()


class DeferredRef:
    """A conversation's ThreadRef kept apart from it (the cache keeps these in a file of
    their own, not read at start), read the first time it is needed by
    `load(thread_id, subject, client_email)`. Equal to the ThreadRef it reads."""

    __slots__ = ("_email", "_load", "_ref", "_subject", "thread_id")

    def __init__(
        self, thread_id: str, subject: str, email: str, load: Callable[[str, str, str], ThreadRef]
    ) -> None:
        self.thread_id, self._subject, self._email = thread_id, subject, email
        self._load: Callable[[str, str, str], ThreadRef] | None = load
        self._ref: ThreadRef | None = None

    def get(self) -> ThreadRef:
        if self._ref is None:
            assert self._load is not None
            self._ref = self._load(self.thread_id, self._subject, self._email)
            self._load = None
        return self._ref

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DeferredRef):
            return self.get() == other.get()
        return self.get() == other if isinstance(other, ThreadRef) else NotImplemented

    def __hash__(self) -> int:
        return hash(self.get())

    def __repr__(self) -> str:
        return f"DeferredRef({self.thread_id!r})"


@dataclass(frozen=True)
class Conversation:
    """A client thread, with its routing and its deadline, as the queue shows it.

    `waiting_since` is the arrival of the oldest unanswered client message and
    `clock_start` when the reply clock started for it (the next opening when it
    arrived while the region was closed). `owner_mark` is the owner set on the
    provider for this conversation ("" when none), kept so the owner can be
    resolved again when an account changes hands."""

    thread_id: str
    subject: str
    client_email: str
    client_name: str
    client_key: str
    region: str
    region_guessed: bool
    owner: str
    tier: Tier
    waiting: bool
    first_arrival: datetime
    last_message_at: datetime
    message_count: int
    waiting_since: datetime | None = None
    clock_start: datetime | None = None
    deadline: datetime | None = None
    escalated: bool = False
    escalation_reason: str = ""
    escalated_by: str = ""
    escalated_at: datetime | None = None
    ceo_contacted: bool = False
    acknowledged: bool = False
    owner_mark: str = ""
    notes: tuple[Note, ...] = field(default=())
    ref: ThreadRef | DeferredRef | None = None
    impersonation: str = ""  # why the client's sender looks like staff or the CEO, or ""
    problem: str = ""  # a message of it could not be read: what, from whom ("" when none)
    status: Status = Status.WAITING  # as of the last sync; a snooze ends at `wake_at`
    wake_at: datetime | None = None  # snoozed: when it comes back (never after at risk)
    snoozed_until: datetime | None = None  # the wake time asked for
    follow_up: bool = False  # a reminder on an answered one: its clock starts at the wake
    done_reason: str = ""
    done_by: str = ""
    done_at: datetime | None = None
    replying: str = ""  # the manager writing a reply now ("" when none)
    replying_until: datetime | None = None  # ... until then (a crashed console expires)
    replied_at: datetime | None = None  # the latest staff reply to the client
    replied_by: str = ""  # its manager id (or address, for staff not in the config)
    reply_seconds: float | None = None  # how long it took, in business time
    reply_on_time: bool | None = None  # whether it came before that deadline
    target: str = ""  # the target that set the deadline: "first reply, premium tier: 30m"
    target_source: str = ""  # where it came from: "client", "tier" or "region"
    asked_new_manager: bool = False  # the newest client message asks for someone else

    def seconds_left(self, now: datetime) -> float | None:
        """Seconds until the deadline (negative once breached), None when answered."""
        if self.deadline is None:
            return None
        return (self.deadline - now).total_seconds()

    @property
    def thread(self) -> ThreadRef:
        """The provider-facing facts of this thread (just its id when unknown)."""
        if isinstance(self.ref, DeferredRef):
            return self.ref.get()
        return self.ref if self.ref is not None else ThreadRef(self.thread_id, self.subject)
