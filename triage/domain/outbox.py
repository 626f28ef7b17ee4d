"""The states of a reply (or a shared-state action) on its way to the provider.

The promise it carries: **a typed reply is never lost and never sent twice.**
- A reply is written to the outbox as it is typed (DRAFT) and stays there until
  a sync shows it in the thread.
- Before the first attempt to send, its own Message-ID is recorded (SENDING).
  From then on every attempt first asks the provider whether that Message-ID is
  already in Sent (an exact lookup); only a definite "no" sends again.
- An attempt that provably never left (connection refused, DNS) is QUEUED and is
  sent by the next good sync. One whose answer was lost is UNCLEAR: the lookup
  decides, and a lookup that cannot be completed leaves it UNCLEAR (never sent).
- A definite refusal (the provider answered, and said no) is FAILED: nothing more is
  sent until the user sends it again (looked up first: it keeps its Message-ID); it
  is never retried behind their back. An answer that cannot be read is not a
  refusal: it is UNCLEAR.
- A reply being sent is never touched by another attempt: not by this process's
  background flush, and not by another console's until its send lease has run out.
- SENT replies wait for a sync to show them in the thread, then leave the outbox.
- A reply sent with an undo delay is QUEUED with `not_before`: nothing sends it before
  then, and until then the user may take it back (QUEUED -> DRAFT). Once the time has
  come any triage process sends it, once (a console that quit or crashed meanwhile
  included: the next start's first sync does).

Shared-state actions (escalate, reassign, acknowledge) are QUEUED until the
provider has them, retried by every sync; after MAX_ATTEMPTS refusals they are
FAILED and reported. A retry is harmless: marks are idempotent and a note filed
twice is read once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum

from triage.domain.model import Mark, Note

MAX_ATTEMPTS = 5  # refusals of a shared-state action before it is reported as failed


class OutboxStatus(StrEnum):
    DRAFT = "draft"  # the user's text: nothing leaves
    QUEUED = "queued"  # to be sent; no attempt reached the provider
    SENDING = "sending"  # the Message-ID is recorded; an attempt may be under way
    UNCLEAR = "unclear"  # an attempt left, no answer came: look the Message-ID up first
    SENT = "sent"  # the provider accepted it; kept until a sync shows it
    FAILED = "failed"  # the provider refused it: kept for the user, not retried

    @property
    def editable(self) -> bool:
        """The text is the user's to change (and to reopen in the reply screen)."""
        return self in (OutboxStatus.DRAFT, OutboxStatus.FAILED)

    @property
    def on_its_way(self) -> bool:
        """Will be sent, or may have been: the queue marks it "queued"."""
        return self in (OutboxStatus.QUEUED, OutboxStatus.SENDING, OutboxStatus.UNCLEAR)

    @property
    def awaiting_provider(self) -> bool:
        """Not yet seen by a sync: the optimistic view of the thread is kept meanwhile."""
        return self.on_its_way or self is OutboxStatus.SENT

    @property
    def discardable(self) -> bool:
        """May be thrown away: no attempt is under way and none is in doubt."""
        return self in (OutboxStatus.DRAFT, OutboxStatus.FAILED, OutboxStatus.QUEUED)


_S = OutboxStatus
TRANSITIONS: Mapping[OutboxStatus, frozenset[OutboxStatus]] = {
    _S.DRAFT: frozenset({_S.DRAFT, _S.SENDING, _S.QUEUED}),  # QUEUED: held for undo
    _S.FAILED: frozenset({_S.DRAFT, _S.SENDING, _S.QUEUED}),
    _S.QUEUED: frozenset({_S.SENDING, _S.QUEUED, _S.FAILED, _S.DRAFT}),  # DRAFT: taken back
    _S.SENDING: frozenset({_S.SENT, _S.QUEUED, _S.UNCLEAR, _S.FAILED}),
    _S.UNCLEAR: frozenset({_S.SENDING, _S.SENT, _S.UNCLEAR}),
    _S.SENT: frozenset(),
}
ACTION_TRANSITIONS: Mapping[OutboxStatus, frozenset[OutboxStatus]] = {
    _S.QUEUED: frozenset({_S.QUEUED, _S.FAILED}),
    _S.FAILED: frozenset({_S.QUEUED}),
}


_OUR_ID = re.compile(r"triage\.(\d{10,16})\.[0-9a-f]{32}@")


def new_message_id(domain: str, now: datetime, token: str) -> str:
    """Our own Message-ID for a reply: unique (`token`, 32 hex digits) and carrying
    when it was made, so the sent-reply lookup knows which days of Sent to search."""
    return f"triage.{int(now.timestamp() * 1000)}.{token}@{domain}"


def message_id_time(message_id: str) -> datetime | None:
    """When one of our Message-IDs was made (None for others, and for older ones)."""
    m = _OUR_ID.match(message_id.strip("<>"))
    if m is None:
        return None
    try:
        return datetime.fromtimestamp(int(m.group(1)) / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


class TransitionError(ValueError):
    """A change of state the rules do not allow (a bug, or another console's doing)."""


@dataclass(frozen=True)
class Draft:
    """A reply in the outbox, from the first keystroke until a sync shows it sent.

    `message_id` is empty until the first send: it is chosen then and never again
    (the lookup that prevents a second send depends on it)."""

    id: str
    thread_id: str
    body: str
    status: OutboxStatus = OutboxStatus.DRAFT
    message_id: str = ""
    by: str = ""
    attempts: int = 0
    error: str = ""
    updated_at: datetime | None = None
    not_before: datetime | None = None  # held for undo until then (QUEUED only)

    def held(self, now: datetime) -> bool:
        """Still inside its undo delay: not to be sent yet, and the user may take it back."""
        return (self.status is _S.QUEUED and self.not_before is not None
                and now < self.not_before)  # fmt: skip

    def moved(self, to: OutboxStatus, *, error: str = "", at: datetime | None = None) -> Draft:
        """The same reply in state `to` (raises TransitionError if not allowed)."""
        if to not in TRANSITIONS[self.status]:
            raise TransitionError(f"a {self.status} reply cannot become {to}")
        attempts = self.attempts + (to in (_S.QUEUED, _S.UNCLEAR, _S.FAILED))
        return replace(self, status=to, error=error, attempts=attempts,
                       updated_at=at or self.updated_at)  # fmt: skip

    def sending(self, message_id: str, at: datetime) -> Draft:
        """On its way under its Message-ID: the one it has, else `message_id` (chosen
        once; every later attempt looks that one up first). `at` starts the send lease."""
        moved = self.moved(_S.SENDING, at=at)
        return replace(moved, message_id=self.message_id or message_id)

    def edited(self, body: str, at: datetime) -> Draft:
        """New text from the user: only an editable reply takes it.

        A refused reply edited again becomes a draft that keeps its Message-ID, so
        sending it looks that Message-ID up first: if the refusal was not as
        definite as it looked, the old text is found instead of a second copy sent."""
        if not self.status.editable:
            raise TransitionError(f"a {self.status} reply can no longer be edited")
        return replace(self, body=body, status=_S.DRAFT, error="", updated_at=at)


@dataclass(frozen=True)
class QueuedAction:
    """A shared-state action waiting for the provider: marks to set on the thread's
    messages and the note that records it (who, when, why)."""

    id: str
    thread_id: str
    action: str  # "escalate" | "reassign" | "ack"
    marks: tuple[tuple[Mark, bool], ...]  # (mark, True to set / False to clear)
    note: Note
    status: OutboxStatus = OutboxStatus.QUEUED
    attempts: int = 0
    error: str = ""
    by: str = ""
    updated_at: datetime | None = field(default=None)

    def _expect(self, status: OutboxStatus, step: str) -> None:
        if self.status is not status:
            raise TransitionError(f"a {self.status} action cannot become {step}")

    def _moved(self, to: OutboxStatus, error: str, at: datetime, attempts: int) -> QueuedAction:
        if to not in ACTION_TRANSITIONS.get(self.status, frozenset()):
            raise TransitionError(f"a {self.status} action cannot become {to}")
        return replace(self, status=to, error=error, attempts=attempts, updated_at=at)

    def waiting(self, error: str, at: datetime) -> QueuedAction:
        """The provider could not be reached: still queued, no refusal counted."""
        self._expect(_S.QUEUED, "waiting")
        return self._moved(_S.QUEUED, error, at, self.attempts)

    def refused(self, error: str, at: datetime, *, final: bool = False) -> QueuedAction:
        """One more refusal: still queued, or FAILED at MAX_ATTEMPTS (or when `final`)."""
        self._expect(_S.QUEUED, "refused")
        attempts = self.attempts + 1
        to = _S.FAILED if final or attempts >= MAX_ATTEMPTS else _S.QUEUED
        return self._moved(to, error, at, attempts)

    def retried(self, at: datetime) -> QueuedAction:
        """The user asks for a failed action to be tried again: queued, refusals reset."""
        self._expect(_S.FAILED, "retried")
        return self._moved(_S.QUEUED, "", at, 0)
