"""Plain domain data: regions, managers, clients, messages, conversations.

No I/O and no clock reads here. Everything is a frozen dataclass so that values
can be shared between the sync engine, the queue and the UI without copies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum

CEO_ID = "ceo"


class SlaState(StrEnum):
    """How close a conversation is to its reply deadline."""

    BREACHED = "breached"
    AT_RISK = "at_risk"
    OK = "ok"


class Tier(StrEnum):
    """A client's tier; premium clients win ties in the queue."""

    PREMIUM = "premium"
    STANDARD = "standard"


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


@dataclass(frozen=True)
class Client:
    """A client account from the directory; `key` is a domain or a full address."""

    key: str
    name: str
    region: str
    owner: str
    tier: Tier = Tier.STANDARD


@dataclass(frozen=True)
class Route:
    """Where a sender belongs: account, region and owner, and whether it was guessed."""

    client_key: str
    client_name: str
    region: str
    owner: str
    tier: Tier
    region_guessed: bool


@dataclass(frozen=True)
class Message:
    """One email of a thread, as the queue and the thread view need it.

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
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    preview: str = ""
    body: str = ""
    keywords: frozenset[str] = frozenset()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Note:
    """A triage action recorded in the provider (escalation, reassignment, ack)."""

    action: str
    by: str
    at: datetime
    reason: str = ""
    to: str = ""
    account: bool = False


@dataclass(frozen=True)
class Conversation:
    """A client thread, with its routing and its deadline, as the queue shows it."""

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
    clock_start: datetime | None = None
    deadline: datetime | None = None
    escalated: bool = False
    escalation_reason: str = ""
    escalated_by: str = ""
    escalated_at: datetime | None = None
    ceo_contacted: bool = False
    acknowledged: bool = False
    notes: tuple[Note, ...] = field(default=())

    def seconds_left(self, now: datetime) -> float | None:
        """Seconds until the deadline (negative once breached), None when answered."""
        if self.deadline is None:
            return None
        return (self.deadline - now).total_seconds()
