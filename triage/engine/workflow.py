"""Done, reopen, snooze, wake, de-escalate, and "replying now": the workflow actions.

Each is shared state on the provider (marks on the thread's messages and a note
saying who, when, why and until when), written through the same outbox as the
escalations, and shown at once as the conversation the next sync will derive
(`triage.domain.conversation.as_done` and friends). Each one has its inverse here,
so every action can be undone: done/reopen, snooze/wake, escalate/de-escalate.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from triage.domain.conversation import (
    as_done,
    as_reopened,
    as_snoozed,
    as_unsnoozed,
    as_woken,
)
from triage.domain.model import (
    ACKNOWLEDGED,
    DONE,
    ESCALATED,
    SNOOZED,
    Conversation,
    NoteAction,
    Status,
    replying_mark,
)
from triage.domain.workflow import SNOOZE_CANCELLED
from triage.engine.actions import Actions
from triage.engine.outbox import ActionError

REPLYING_LEASE = timedelta(minutes=10)  # a console that crashed stops "replying" after this
SNOOZE_DONE = "this conversation is done: reopen it first (b), then snooze it"
SNOOZE_AT_RISK = ("this conversation is at risk already, so a snooze would end at once: "
                  "answer it, or mark it done if it needs no reply")  # fmt: skip


class WorkflowActions:
    """The workflow operations of one user, on top of the shared-state actions."""

    def __init__(self, actions: Actions) -> None:
        self.a = actions

    async def done(self, thread_id: str, reason: str = "") -> bool:
        """No reply needed: out of the queue for everyone until the client writes again."""
        shown = self.a.shown(thread_id)
        if shown.status is Status.DONE:
            raise ActionError("this conversation is already done")
        if not shown.waiting:
            raise ActionError("nothing is waiting for a reply here (staff wrote last)")
        note = self.a.note(NoteAction.DONE, reason=reason.strip() or "no reply needed",
                           seen=shown.last_message_at)  # fmt: skip
        marks = ((DONE, True), (SNOOZED, False))
        return await self.a.record(thread_id, note, marks, as_done(shown, note))

    async def reopen(self, thread_id: str) -> bool:
        """ "Done" taken back: in the queue again, on the clock it had."""
        shown = self.a.shown(thread_id)
        if shown.status is not Status.DONE:
            raise ActionError("this conversation is not done: there is nothing to reopen")
        note = self.a.note(NoteAction.REOPEN)
        return await self.a.record(thread_id, note, ((DONE, False),), as_reopened(shown))

    async def snooze(self, thread_id: str, until: datetime) -> bool:
        """Out of the queue until `until` (or until at risk, or until the client writes);
        on an answered conversation, a reminder that comes back as a follow-up."""
        now = self.a.clock.now()
        if until <= now:
            raise ActionError("a snooze ends in the future")
        shown = self.a.shown(thread_id)
        if shown.status is Status.DONE:
            raise ActionError(SNOOZE_DONE)
        after = as_snoozed(shown, until, self.a.cfg)
        if after.wake_at is not None and after.wake_at <= now:
            raise ActionError(SNOOZE_AT_RISK)
        note = self.a.note(NoteAction.SNOOZE, until=until, seen=shown.last_message_at)
        marks = ((SNOOZED, True), (DONE, False))
        return await self.a.record(thread_id, note, marks, after)

    async def wake(self, thread_id: str) -> bool:
        """A snooze ended now: back in the queue (a reminder becomes a follow-up)."""
        shown = self.a.shown(thread_id)
        if shown.status is not Status.SNOOZED:
            raise ActionError("this conversation is not snoozed")
        note = self.a.note(NoteAction.WAKE)
        after = as_woken(shown, note.at, self.a.cfg)
        return await self.a.record(thread_id, note, ((SNOOZED, False),), after)

    async def unsnooze(self, thread_id: str) -> bool:
        """A snooze taken back (undo): as if never set; a reminder does not come due."""
        shown = self.a.shown(thread_id)
        if shown.status is not Status.SNOOZED:
            raise ActionError("this conversation is not snoozed")
        note = self.a.note(NoteAction.WAKE, reason=SNOOZE_CANCELLED)
        return await self.a.record(thread_id, note, ((SNOOZED, False),), as_unsnoozed(shown))

    async def deescalate(self, thread_id: str, reason: str) -> bool:
        """An escalation taken back, with a reason (both stay in the history)."""
        shown = self.a.shown(thread_id)
        if not shown.escalated:
            raise ActionError("this conversation is not escalated by hand")
        if not reason.strip():
            raise ActionError("taking an escalation back needs a reason")
        note = self.a.note(NoteAction.DEESCALATE, reason=reason.strip())
        after = _deescalated(shown)
        marks = ((ESCALATED, False), (ACKNOWLEDGED, False))
        return await self.a.record(thread_id, note, marks, after)

    async def replying(self, thread_id: str, on: bool) -> bool:
        """Tell the other consoles this user is writing a reply (for REPLYING_LEASE at
        most, so a console that crashed blocks nobody), or has stopped."""
        shown = self.a.shown(thread_id)
        now = self.a.clock.now()
        until = now + REPLYING_LEASE if on else now
        note = self.a.note(NoteAction.REPLYING, until=until)
        mark = ((replying_mark(self.a.user), on),)
        after = _replying(shown, self.a.user if on else "", until if on else None)
        return await self.a.record(thread_id, note, mark, after)


def _deescalated(c: Conversation) -> Conversation:
    return replace(c, escalated=False, escalation_reason="", escalated_by="",
                   escalated_at=None, acknowledged=False)  # fmt: skip


def _replying(c: Conversation, who: str, until: datetime | None) -> Conversation:
    return replace(c, replying=who, replying_until=until)
