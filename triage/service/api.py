"""The one object the console and the CLI talk to: queue data, thread reads, actions.

It bundles config, cache, provider, sync engine and actions behind async methods,
so the UI never does I/O itself (it calls these from workers) and the CLI uses
exactly the same code paths as the keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from triage.config.loader import Config
from triage.domain.model import Conversation, Manager, Message
from triage.domain.ordering import QueueView


@dataclass(frozen=True)
class SyncStatus:
    """What the status bar shows about the connection to the provider."""

    online: bool
    syncing: bool
    offline_since: datetime | None
    last_sync: datetime | None
    outbox_count: int
    error: str = ""  # the last problem in words ("authentication failed: ...")


@dataclass(frozen=True)
class SyncResult:
    """What one sync round changed."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    full: bool = False
    flushed: int = 0  # outbox items delivered this round

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@dataclass(frozen=True)
class ManagerChoice:
    """One row of the reassign picker."""

    manager: Manager
    qualified: bool
    why_not: str  # "" when qualified, else e.g. "not qualified for US Northeast"
    open_load: int
    breached: int


@dataclass(frozen=True)
class Draft:
    """A reply being written; saved to the outbox as it is typed."""

    id: str
    thread_id: str
    body: str
    status: str = "draft"  # draft | queued | sending | unclear | sent
    message_id: str = ""
    updated_at: datetime | None = None
    error: str = ""


@dataclass(frozen=True)
class ThreadView:
    """Everything the thread screen shows."""

    conversation: Conversation
    messages: tuple[Message, ...]
    history: tuple[str, ...] = field(default=())  # escalations / reassignments, in words
    offline: bool = False  # bodies came from the cache, not the provider


class Service(Protocol):
    """The console's and the CLI's view of the world (implemented in triage.service.core)."""

    config: Config
    user: str  # manager id or "ceo"

    def now(self) -> datetime: ...
    def conversations(self) -> list[Conversation]: ...
    def conversation(self, thread_id: str) -> Conversation | None: ...
    def queue_view(self) -> QueueView: ...  # the waiting ones, in queue order
    def status(self) -> SyncStatus: ...
    def reports(self) -> list[str]: ...  # things to tell the user once (corrupt cache moved...)
    async def start(self) -> None: ...
    async def sync(self) -> SyncResult: ...
    async def wait_for_changes(self, timeout: float) -> None: ...  # push or poll interval
    async def thread(self, thread_id: str) -> ThreadView: ...
    def drafts(self) -> list[Draft]: ...
    def save_draft(self, thread_id: str, body: str, draft_id: str | None = None) -> Draft: ...
    def discard_draft(self, draft_id: str) -> None: ...
    async def send_reply(self, draft_id: str) -> Draft: ...
    async def escalate(self, thread_id: str, reason: str) -> None: ...
    async def reassign(self, thread_id: str, to: str, reason: str, account: bool) -> None: ...
    async def acknowledge(self, thread_id: str) -> None: ...
    def managers_for(self, thread_id: str) -> list[ManagerChoice]: ...
    async def close(self) -> None: ...
