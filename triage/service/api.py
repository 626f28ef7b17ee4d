"""The Service: the one object the console and the CLI talk to, and the view types it returns.

The UI never does I/O itself: it calls these from workers, and the CLI uses
exactly the same code paths as the keys. Implemented by
`triage.service.core.TriageService`; the UI's tests use a fake of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from triage.domain.away import Away
from triage.domain.model import Conversation, Manager, Message
from triage.domain.ordering import QueueView
from triage.domain.outbox import Draft, OutboxStatus
from triage.domain.report import Detail
from triage.domain.settings import Config
from triage.engine.sync import SyncResult

__all__ = [
    "Draft",
    "ManagerChoice",
    "OutboxStatus",
    "Service",
    "SyncResult",
    "SyncStatus",
    "ThreadView",
]


@dataclass(frozen=True)
class SyncStatus:
    """What the status bar shows about the connection and the outbox."""

    online: bool
    syncing: bool
    offline_since: datetime | None
    last_sync: datetime | None
    outbox_count: int  # replies and actions on their way to the provider
    error: str = ""  # the last problem in words ("authentication failed: ...")
    failed_count: int = 0  # refused by the provider: the user's to resend or discard


@dataclass(frozen=True)
class ManagerChoice:
    """One row of the reassign picker."""

    manager: Manager
    qualified: bool
    why_not: str  # "" when qualified, else e.g. "not qualified for US Northeast"
    open_load: int
    breached: int


@dataclass(frozen=True)
class ThreadView:
    """Everything the thread screen shows: the newest messages loaded so far, oldest first.

    `message_ids` lists every message of the thread; `earlier` is how many older ones
    are not loaded yet (`Service.earlier` loads the page before)."""

    conversation: Conversation
    messages: tuple[Message, ...]
    history: tuple[str, ...] = field(default=())  # escalations / reassignments, in words
    offline: bool = False  # bodies came from the cache, not the provider
    message_ids: tuple[str, ...] = ()

    @property
    def earlier(self) -> int:
        return max(0, len(self.message_ids) - len(self.messages))


class Service(Protocol):
    """The console's and the CLI's view of the world."""

    config: Config
    user: str  # manager id or "ceo"

    def now(self) -> datetime: ...
    def conversations(self) -> list[Conversation]: ...
    def conversation(self, thread_id: str) -> Conversation | None: ...
    def queue_view(self, now: datetime | None = None) -> QueueView: ...  # waiting, in order
    def status(self) -> SyncStatus: ...
    def reports(self) -> list[str]: ...  # things to tell the user once (corrupt cache moved...)
    async def sync(self) -> SyncResult: ...
    async def wait_for_changes(self, timeout: float) -> None: ...  # push or poll interval
    async def thread(self, thread_id: str) -> ThreadView: ...  # the newest page
    async def earlier(self, view: ThreadView) -> ThreadView: ...  # and the page before it
    def drafts(self) -> list[Draft]: ...
    def save_draft(self, thread_id: str, body: str, draft_id: str | None = None) -> Draft: ...
    def discard_draft(self, draft_id: str) -> None: ...
    # hold > 0: kept back that many seconds (the undo delay; `take_back` undoes it).
    async def send_reply(self, draft_id: str, hold: float = 0) -> Draft: ...
    def take_back(self, draft_id: str) -> Draft: ...  # a held reply back to a draft
    # The actions: True when the provider has it now, False when it is queued (offline,
    # or refused and retried by the next sync rounds).
    async def escalate(self, thread_id: str, reason: str) -> bool: ...
    async def reassign(self, thread_id: str, to: str, reason: str, account: bool) -> bool: ...
    async def acknowledge(self, thread_id: str) -> bool: ...
    async def unacknowledge(self, thread_id: str) -> bool: ...
    async def done(self, thread_id: str, reason: str = "") -> bool: ...
    async def reopen(self, thread_id: str) -> bool: ...
    async def snooze(self, thread_id: str, until: datetime) -> bool: ...
    async def wake(self, thread_id: str) -> bool: ...
    async def unsnooze(self, thread_id: str) -> bool: ...  # undo: as if never snoozed
    async def deescalate(self, thread_id: str, reason: str) -> bool: ...
    async def replying(self, thread_id: str, on: bool) -> bool: ...
    def view(self, name: str, now: datetime | None = None) -> list[Conversation]: ...
    def search(self, text: str) -> list[Conversation]: ...
    def managers_for(self, thread_id: str) -> list[ManagerChoice]: ...
    def absences(self, now: datetime | None = None) -> Mapping[str, Away]: ...  # who is away
    # Away until `until` (None: back), alerts to `backup` ("": the least-loaded colleague).
    async def set_away(self, manager: str, until: datetime | None, backup: str = "") -> None: ...
    async def report_detail(self, start: datetime, end: datetime) -> Detail: ...  # the provider's
    def export_report(
        self, rows: list[dict[str, object]], by: str, start: datetime, end: datetime
    ) -> Path: ...  # a CSV file under the user's data dir
    async def close(self) -> None: ...
