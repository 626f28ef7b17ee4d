"""The outbox at work: drafts saved as typed, replies sent exactly once, queued work flushed.

The states and their rules are `triage.domain.outbox`; this module does the I/O
they describe. A reply's own Message-ID is recorded in the outbox before the
first attempt; every later attempt first asks the provider for that Message-ID
(`Provider.find_sent`), so a reply whose answer was lost is never sent twice. A
lookup that cannot be completed leaves the reply UNCLEAR and sends nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from dataclasses import replace
from datetime import datetime, timedelta

from triage.clock import Clock
from triage.domain import routing
from triage.domain.conversation import ReplyTarget, reply_target
from triage.domain.model import CEO_ID, Conversation, ThreadRef
from triage.domain.outbox import Draft, OutboxStatus, QueuedAction, new_message_id
from triage.domain.settings import Config
from triage.engine.live import LiveQueue
from triage.providers.base import (
    OfflineError,
    OutgoingReply,
    Provider,
    ProviderError,
    SentState,
    UnclearOutcome,
)
from triage.store.cache import Cache, OutboxConflict
from triage.text.mailtext import header_safe

S = OutboxStatus
# A reply another console marked SENDING this recently may still be on its way: not
# touched. Past it, that console is taken to have died mid-send (the lookup decides).
SEND_LEASE = timedelta(minutes=5)
TARGET_PAGE = 10  # messages read at a time, newest first, to find the one to answer


class ActionError(Exception):
    """The action cannot be done as asked (unknown thread, unqualified manager...)."""


class Outbox:
    """Drafts, replies on their way, and queued shared-state actions."""

    def __init__(
        self, cfg: Config, cache: Cache, provider: Provider, clock: Clock, live: LiveQueue,
        user: str,
    ) -> None:  # fmt: skip
        self.cfg, self.cache, self.provider, self.clock = cfg, cache, provider, clock
        self.live, self.user = live, user
        self._in_flight: set[str] = set()  # replies this process is sending right now

    # -- reading -------------------------------------------------------------------

    def drafts(self) -> list[Draft]:
        """This user's replies in the outbox (a team cache holds the teammates' too)."""
        return [i for i in self.cache.outbox() if isinstance(i, Draft) and i.by in ("", self.user)]

    def pending(self, thread_id: str) -> bool:
        """Is anything for this thread still on its way to (or unconfirmed by) the provider?"""
        return any(i.thread_id == thread_id and i.status.awaiting_provider
                   for i in self.cache.outbox())  # fmt: skip

    # -- drafts --------------------------------------------------------------------

    def save_draft(self, thread_id: str, body: str, draft_id: str | None = None) -> Draft:
        """Write the draft to the outbox (atomically) as it is typed."""
        now = self.clock.now()
        existing = self.cache.outbox_item(draft_id) if draft_id else None
        if isinstance(existing, Draft) and not existing.status.editable:
            if existing.body == body:
                return existing
            raise ActionError("this reply is on its way already; its text can no longer change")
        if isinstance(existing, Draft):
            draft = existing.edited(body, now)
        else:
            draft = Draft(draft_id or uuid.uuid4().hex, thread_id, body, by=self.user,
                          updated_at=now)  # fmt: skip
        self.cache.put_outbox(draft)
        return draft

    def take_back(self, draft_id: str) -> Draft:
        """Undo send: a held reply back to the user's draft; ActionError once it left."""
        item = self.cache.outbox_item(draft_id)
        if not isinstance(item, Draft) or item.id in self._in_flight:
            raise ActionError("too late: this reply is on its way")
        if not item.held(self.clock.now()):
            raise ActionError("too late: the undo delay is over and the reply has gone")
        draft = replace(item.moved(S.DRAFT, at=self.clock.now()), not_before=None)
        self.cache.put_outbox(draft, replace=True)
        return draft

    def discard(self, draft_id: str) -> None:
        item = self.cache.outbox_item(draft_id)
        if item is not None and not item.status.discardable:
            raise ActionError("this reply may already have been sent; it cannot be discarded")
        self.cache.remove_outbox(draft_id)

    # -- sending -------------------------------------------------------------------

    async def send_reply(self, draft_id: str, hold: float = 0) -> Draft:
        """Send a draft (or a refused reply, again). The result says what happened:
        SENT, QUEUED (it could not leave: sent by the next sync), UNCLEAR (looked up
        first by the next sync); a refusal raises ProviderError with the reply FAILED.
        `hold` seconds > 0: QUEUED until then instead (the undo delay), sent by the
        next call or flush after it; `hold` 0 on a held reply sends it now (its delay
        ended, or the console is quitting)."""
        item = self.cache.outbox_item(draft_id)
        if not isinstance(item, Draft):
            raise ActionError("no such draft")
        if not item.body.strip():
            raise ActionError("the reply is empty")
        if item.id in self._in_flight:
            raise ActionError("this reply is being sent already")
        self._conversation(item.thread_id)
        now = self.clock.now()
        started = item.updated_at
        if item.status is S.SENDING and started is not None and now - started < SEND_LEASE:
            # Another process has it on its way: its lookup-before-resend is its own.
            raise ActionError("this reply is being sent already (by another triage)")
        if item.held(now) and hold > 0:
            return item  # held already: the delay it has runs on
        if hold > 0 and item.status.editable:
            held = replace(item.moved(S.QUEUED, at=now), not_before=now + timedelta(seconds=hold))
            self.cache.put_outbox(held, replace=True)
            return held
        try:
            return await self._deliver(item)
        except OfflineError:  # recorded on the item: sent (or looked up) when online
            recorded = self.cache.outbox_item(draft_id)
            return recorded if isinstance(recorded, Draft) else item

    async def _deliver(self, item: Draft) -> Draft:
        """One attempt. A reply that ever had a Message-ID is looked up first, so it is
        never sent twice; the recipient is read from the provider's thread now."""
        self._in_flight.add(item.id)
        try:
            return await self._attempt_once(item)
        finally:
            self._in_flight.discard(item.id)

    async def _attempt_once(self, item: Draft) -> Draft:
        if item.status is S.SENT:
            return item
        never_left = item.status in (S.DRAFT, S.QUEUED, S.FAILED)
        look_up = bool(item.message_id)
        if item.status is not S.SENDING:
            # Record our Message-ID before anything leaves, so a retry can look it up;
            # only if no other process started sending it since we read it.
            before = item.status
            item = item.sending(self._new_message_id(), self.clock.now())
            try:
                self.cache.put_outbox(item, replace=True, expect=before)
            except OutboxConflict:
                raise ActionError("this reply is being sent already (by another triage)") from None
        found = None
        if look_up:
            try:
                found = await self.provider.find_sent(item.message_id)
            except OfflineError as e:
                self._record(item, S.QUEUED if never_left else S.UNCLEAR, str(e))
                raise
            except ProviderError as e:  # a lookup that cannot be completed never sends
                return self._record(item, S.UNCLEAR, f"could not check whether it was sent: {e}")
            if found is not None and found.state is SentState.SENT:
                return self._sent(item)
        reply = await self._reply(item)  # nothing has left yet: QUEUED if this fails offline
        if found is not None:  # created before the connection dropped, never submitted
            return await self._attempt(item, self.provider.send_drafted(found.handle, reply))
        return await self._attempt(item, self.provider.send(reply))

    async def _attempt(self, item: Draft, sending: Awaitable[None]) -> Draft:
        """Await one send and record what is known about it afterwards."""
        try:
            await sending
        except OfflineError as e:
            return self._record(item, S.QUEUED, str(e))  # never left: safe to send later
        except UnclearOutcome as e:
            return self._record(item, S.UNCLEAR, str(e))  # look the Message-ID up first
        except ProviderError as e:
            self._record(item, S.FAILED, str(e))
            raise
        return self._sent(item)

    def _sent(self, item: Draft) -> Draft:
        draft = self._record(item, S.SENT, "")
        self.live.patch(item.thread_id, waiting=False, deadline=None)
        self.cache.audit(self.user, "reply", item.thread_id, f"Message-ID {item.message_id}")
        return draft

    def _record(self, item: Draft, to: OutboxStatus, error: str) -> Draft:
        moved = item if item.status is to else item.moved(to, error=error, at=self.clock.now())
        self.cache.put_outbox(moved, replace=True)
        return moved

    async def _reply(self, item: Draft) -> OutgoingReply:
        """The reply, addressed from the thread as the provider has it now.

        Offline: QUEUED (nothing left). The thread gone, or no client in it: FAILED."""
        try:
            target = await self._target(item.thread_id)
        except OfflineError as e:
            self._record(item, S.QUEUED, str(e))
            raise
        except ProviderError as e:
            self._record(item, S.FAILED, f"the conversation could not be read: {e}")
            raise
        if target is None:
            error = "the conversation has no client message to answer (anymore)"
            self._record(item, S.FAILED, error)
            raise ActionError(error)
        refs = [header_safe(r) for r in target.references if r]
        who = item.by or self.user
        return OutgoingReply(
            message_id=item.message_id,
            from_name=header_safe(self.cfg.manager_name(who)),
            from_email=self._from_email(who),
            to=(header_safe(target.to),),
            cc=(),
            subject=header_safe(target.subject),
            body=item.body,
            in_reply_to=refs[-1] if refs else "",
            references=tuple(refs),
            thread_id=item.thread_id,
        )

    async def _target(self, thread_id: str) -> ReplyTarget | None:
        """Whom to answer, from the thread's newest messages back to its latest client one.

        Only a page with no client message at all sends the search further back: when
        the latest client message has no readable sender, there is no one to answer
        (never an earlier client instead, wherever the page boundary falls)."""
        ids = await self.provider.thread_message_ids(thread_id)
        subject = self._conversation(thread_id).subject
        end = len(ids)
        while end > 0:
            page = await self.provider.messages(ids[max(0, end - TARGET_PAGE) : end])
            if any(not routing.is_staff(m.sender, self.cfg) for m in page):
                return reply_target(page, self.cfg, subject)
            end -= TARGET_PAGE
        return None

    def _from_email(self, who: str) -> str:
        if who == CEO_ID:
            return self.cfg.agency.ceo
        m = self.cfg.managers.get(who)
        return m.email if m else ""

    def _new_message_id(self) -> str:
        """Ours, unique, and carrying when it was made: the sent-reply lookup searches
        around that time (`triage.domain.outbox.message_id_time`)."""
        domain = self.cfg.agency.staff_domains[0] if self.cfg.agency.staff_domains else "triage"
        return new_message_id(domain, self.clock.now(), uuid.uuid4().hex)

    def _conversation(self, thread_id: str) -> Conversation:
        conv = self.live.truth(thread_id)
        if conv is None:
            raise ActionError(f"no conversation {thread_id!r} in the cache (run a sync first)")
        return conv

    # -- shared-state actions ---------------------------------------------------------

    async def perform(self, item: QueuedAction) -> bool:
        """Write an action's marks and note to the provider; False when it stays queued
        (offline, or refused fewer than MAX_ATTEMPTS times: retried by the next sync).
        Raises ProviderError once it is FAILED, and ActionError if its thread is gone."""
        conv = self.live.truth(item.thread_id)
        if conv is None:
            self.cache.put_outbox(item.refused("the conversation is gone", self.clock.now(),
                                               final=True))  # fmt: skip
            raise ActionError(f"no conversation {item.thread_id!r} any more")
        try:
            ref = await self._reference(conv)
            await self.provider.set_marks(ref, dict(item.marks))
            await self.provider.add_note(ref, item.note)
        except OfflineError as e:
            self.cache.put_outbox(item.waiting(str(e), self.clock.now()))
            return False
        except ProviderError as e:
            refused = item.refused(str(e), self.clock.now())
            self.cache.put_outbox(refused)
            if refused.status is S.FAILED:
                raise
            return False
        self.cache.remove_outbox(item.id)
        return True

    async def _reference(self, conv: Conversation) -> ThreadRef:
        """The thread's mail for marks and notes: as cached, or read from the provider
        when the cache has lost it (a mark on no mail would be an action lost)."""
        ref = conv.thread
        if ref.message_ids:
            return ref
        ids = await self.provider.thread_message_ids(conv.thread_id)
        return replace(ref, message_ids=tuple(ids))

    # -- flushing ----------------------------------------------------------------------

    async def flush(self) -> int:
        """Retry this user's work on its way (after a good sync); how many went through.

        FAILED items are the user's to decide about and are left alone; so are replies
        this process is sending right now, and replies another console started sending
        less than SEND_LEASE ago (it may still be waiting for the answer)."""
        done = 0
        now = self.clock.now()
        for item in self.cache.outbox():
            if not self._mine_to_flush(item, now):
                continue
            try:
                done += await self._flush_one(item)
            except OfflineError:
                break
            except (ProviderError, ActionError):
                continue  # recorded on the item; the others still go
        return done

    def _mine_to_flush(self, item: Draft | QueuedAction, now: datetime) -> bool:
        if item.by not in ("", self.user) or item.status in (S.DRAFT, S.FAILED):
            return False
        if not isinstance(item, Draft):
            return True
        if item.id in self._in_flight or item.held(now):
            return False
        started = item.updated_at
        recent = started is not None and now - started < SEND_LEASE
        return not (item.status is S.SENDING and recent)

    async def _flush_one(self, item: Draft | QueuedAction) -> int:
        if isinstance(item, QueuedAction):
            return int(await self.perform(item))
        # Read again: while the items before it were flushed, the console may have
        # sent (or taken back) this one; a stale copy must never be sent a second time.
        fresh = self.cache.outbox_item(item.id)
        if not isinstance(fresh, Draft) or not self._mine_to_flush(fresh, self.clock.now()):
            return 0
        item = fresh
        if item.status is S.SENT:
            return int(self._confirm(item))
        if self.live.truth(item.thread_id) is None:
            self._record(item, S.FAILED, "the conversation is gone from the provider")
            return 0
        sent = await self._deliver(item)
        return int(sent.status is S.SENT)

    def _confirm(self, item: Draft) -> bool:
        """Drop a sent reply from the outbox once the provider shows it in the thread."""
        conv = self.live.truth(item.thread_id)
        wanted = item.message_id.strip("<>")
        if conv is None or wanted in {m.strip("<>") for m in conv.thread.staff_message_ids}:
            self.cache.remove_outbox(item.id)
            return True
        return False
