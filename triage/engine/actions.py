"""Escalate, reassign, acknowledge (and take it back): the shared-state operations
behind the keys and the CLI.

Each checks what it is asked, becomes a `QueuedAction` (the marks to set on the
thread and the note that records who, when and why), is written to the outbox
before anything else, is shown at once (the live view's overlay) and is then
written to the provider; a dead network leaves it queued for the next sync.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

from triage.clock import Clock
from triage.domain.model import (
    ACKNOWLEDGED,
    ESCALATED,
    Conversation,
    Mark,
    Note,
    NoteAction,
    owner_mark,
)
from triage.domain.outbox import QueuedAction
from triage.domain.settings import Config
from triage.engine.live import LiveQueue
from triage.engine.outbox import ActionError, Outbox
from triage.store.cache import Cache


class Actions:
    """The shared-state operations, as one user (a manager id or "ceo")."""

    def __init__(
        self, cfg: Config, cache: Cache, live: LiveQueue, outbox: Outbox, clock: Clock, user: str
    ) -> None:
        self.cfg, self.cache, self.live, self.outbox = cfg, cache, live, outbox
        self.clock, self.user = clock, user

    async def escalate(self, thread_id: str, reason: str) -> bool:
        reason = reason.strip()
        if not reason:
            raise ActionError("an escalation needs a reason")
        self._conversation(thread_id)
        note = self.note(NoteAction.ESCALATE, reason=reason)
        marks = ((ESCALATED, True), (ACKNOWLEDGED, False))
        return await self._queue(thread_id, NoteAction.ESCALATE, marks, note, escalated=True,
                                 escalation_reason=reason, escalated_by=self.user,
                                 escalated_at=note.at, acknowledged=False)  # fmt: skip

    async def reassign(self, thread_id: str, to: str, reason: str, account: bool) -> bool:
        conv = self._conversation(thread_id)
        manager = self.cfg.managers.get(to)
        if manager is None:
            raise ActionError(f"unknown manager {to!r}")
        if to == self.shown(thread_id).owner and not account:
            raise ActionError(f"the conversation is already {manager.name}'s")
        if conv.region not in manager.regions:
            region = self.cfg.regions.get(conv.region)
            raise ActionError(f"{manager.name} is not qualified for "
                              f"{region.label if region else conv.region}")  # fmt: skip
        # Clear whichever owner mark the thread carries: any configured manager's.
        marks = [(owner_mark(m), False) for m in self.cfg.managers if m != to]
        if conv.owner_mark and conv.owner_mark not in self.cfg.managers:
            marks.append((owner_mark(conv.owner_mark), False))
        marks.append((owner_mark(to), True))
        note = self.note(NoteAction.REASSIGN, reason=reason.strip(), to=to, account=account,
                          client=conv.client_key, previous=conv.owner)  # fmt: skip
        return await self._queue(thread_id, NoteAction.REASSIGN, tuple(marks), note, owner=to,
                                 owner_mark=to)  # fmt: skip

    async def acknowledge(self, thread_id: str) -> bool:
        """The CEO (or an acknowledger named in the config) has seen the escalation."""
        conv = self.shown(thread_id)
        self._require_acknowledger()
        if conv.acknowledged:
            raise ActionError("this escalation is already acknowledged")
        note = self.note(NoteAction.ACK)
        return await self._queue(thread_id, NoteAction.ACK, ((ACKNOWLEDGED, True),), note,
                                 acknowledged=True)  # fmt: skip

    async def unacknowledge(self, thread_id: str) -> bool:
        """Take an acknowledgement back: the escalation is open again in the pane."""
        conv = self.shown(thread_id)
        self._require_acknowledger()
        if not conv.acknowledged:
            raise ActionError("this conversation has no acknowledgement to take back")
        note = self.note(NoteAction.UNACK)
        return await self._queue(thread_id, NoteAction.UNACK, ((ACKNOWLEDGED, False),), note,
                                 acknowledged=False)  # fmt: skip

    def _require_acknowledger(self) -> None:
        agency = self.cfg.agency
        if not agency.may_acknowledge(self.user):
            who = ", ".join(agency.acknowledgers)
            raise ActionError(
                f"acknowledging escalations is for {who} "
                f"([agency] acknowledgers in the config), not {self.user}"
            )

    def note(self, action: str, **fields: str | bool | datetime) -> Note:
        return Note(action, self.user, self.clock.now(), **fields)  # type: ignore[arg-type]

    async def record(
        self, thread_id: str, note: Note, marks: tuple[tuple[Mark, bool], ...],
        after: Conversation,
    ) -> bool:  # fmt: skip
        """An action's marks and note, shown at once as `after` (with the note in its
        history): the way every workflow action is written."""
        before = self.shown(thread_id)
        changed = {f.name: getattr(after, f.name) for f in dataclasses.fields(Conversation)
                   if getattr(after, f.name) != getattr(before, f.name)}  # fmt: skip
        changed["notes"] = (*before.notes, note)
        return await self._queue(thread_id, note.action, marks, note, **changed)

    async def _queue(
        self, thread_id: str, action: str, marks: tuple[tuple[Mark, bool], ...], note: Note,
        **shown: object,
    ) -> bool:  # fmt: skip
        """Queue, show at once, then write to the provider; False when left queued."""
        item = QueuedAction(uuid.uuid4().hex, thread_id, action, marks, note, by=self.user,
                            updated_at=note.at)  # fmt: skip
        self.cache.put_outbox(item)
        self.live.patch(thread_id, **shown)
        self.cache.audit(self.user, action, thread_id, note.reason or note.to)
        return await self.outbox.perform(item)

    def shown(self, thread_id: str) -> Conversation:
        """The conversation with this console's actions not yet synced back applied."""
        return self.live.get(thread_id) or self._conversation(thread_id)

    def _conversation(self, thread_id: str) -> Conversation:
        conv = self.live.truth(thread_id)
        if conv is None:
            raise ActionError(f"no conversation {thread_id!r} in the cache (run a sync first)")
        return conv
