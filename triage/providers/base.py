"""What the sync engine and the actions need from an email provider.

The JMAP provider is the real one; the demo mailbox is a JMAP server behind an
httpx transport, so both go through `triage.providers.jmap.JmapProvider`.
Errors are typed so that the UI can say what happened and what to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

# Shared triage state lives in keywords on every message of a thread (lowercase:
# servers such as Cyrus lowercase keywords) and in note emails in a mailbox of its own.
KW_OWNER_PREFIX = "triage-owner-"
KW_ESCALATED = "triage-escalated"
KW_ACK = "triage-ack"
KW_NOTE = "triage-note"
KW_ACCOUNT_NOTE = "triage-account-note"


class ProviderError(Exception):
    """Something went wrong talking to the provider; the message is for the user."""


class OfflineError(ProviderError):
    """The provider could not be reached (DNS, refused, timed out)."""


class AuthError(ProviderError):
    """The provider refused our credentials; the message names the config key to fix."""


class CannotCalculateChanges(ProviderError):
    """The server lost the state we synced from: a full resync is needed."""


class UnclearOutcome(ProviderError):
    """A write left but no answer came back: it may or may not have happened."""


@dataclass(frozen=True)
class EmailSummary:
    """One email's headers as sync needs them (no body)."""

    id: str
    thread_id: str
    mailbox_ids: frozenset[str]
    keywords: frozenset[str]
    from_name: str
    from_email: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    received_at: datetime
    message_id: str
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    preview: str = ""
    to_names: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class FullEmail:
    """An email with its text, for the thread view."""

    summary: EmailSummary
    text: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ThreadEmails:
    """All emails of one thread (notes included), oldest first."""

    thread_id: str
    emails: tuple[EmailSummary, ...]


@dataclass(frozen=True)
class Snapshot:
    """The result of a full sync."""

    state: str
    threads: tuple[ThreadEmails, ...]
    notes: dict[str, str]  # note email id -> JSON text


@dataclass(frozen=True)
class Delta:
    """The result of an incremental sync: threads to refresh and threads gone."""

    state: str
    threads: tuple[ThreadEmails, ...]
    gone_threads: tuple[str, ...]
    destroyed_emails: tuple[str, ...]
    notes: dict[str, str]


@dataclass(frozen=True)
class OutgoingReply:
    """A reply ready to send: our Message-ID is generated and recorded before sending."""

    message_id: str
    from_name: str
    from_email: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    body: str
    in_reply_to: str
    references: tuple[str, ...]


class Provider(Protocol):
    account_id: str
    watched_mailbox: str

    async def connect(self) -> None: ...
    async def full_sync(self) -> Snapshot: ...
    async def changes(self, since_state: str, email_threads: Mapping[str, str]) -> Delta: ...
    async def bodies(self, email_ids: list[str]) -> dict[str, tuple[str, tuple[str, ...]]]: ...
    async def thread_email_ids(self, thread_id: str) -> list[str]: ...
    async def messages(self, email_ids: list[str]) -> list[FullEmail]: ...
    async def set_keywords(self, email_ids: list[str], patch: dict[str, bool | None]) -> None: ...
    async def add_note(
        self, subject: str, refs: list[str], note_json: str, account: bool
    ) -> None: ...
    async def send(self, reply: OutgoingReply) -> None: ...
    async def submit_existing(self, email_id: str, from_email: str) -> None: ...
    async def find_sent(self, message_id: str) -> tuple[str, str] | None: ...
    async def wait_for_push(self, timeout: float) -> bool: ...
    async def aclose(self) -> None: ...
