"""The sync engine: provider -> cache, full then incremental, one batched write a round.

It owns the in-memory conversations (built once from the cache at start, then
patched per round), the per-account sync state and the online/offline status
the status bar shows. A failed round never touches the cache.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from triage.clock import Clock
from triage.config.loader import Config
from triage.domain.conversation import (
    Doc,
    derive,
    fold_account_notes,
    iso,
    parse_notes,
    reowned,
    thread_record,
)
from triage.domain.conversation import to_conversation as doc_to_conversation
from triage.domain.model import Conversation
from triage.domain.ordering import SortedQueue
from triage.providers.base import (
    CannotCalculateChanges,
    OfflineError,
    Provider,
    ProviderError,
    ThreadEmails,
)
from triage.service.api import SyncResult
from triage.store.cache import Cache


class SyncEngine:
    """Keeps the cache and the in-memory queue in step with the provider."""

    def __init__(self, cfg: Config, cache: Cache, provider: Provider, clock: Clock) -> None:
        self.cfg = cfg
        self.cache = cache
        self.provider = provider
        self.clock = clock
        self.conversations: dict[str, Conversation] = {}
        # The waiting ones in queue order, kept in step with `conversations`.
        self.ordered = SortedQueue()
        self.email_threads: dict[str, str] = {}
        self.overlay: dict[str, dict[str, Any]] = {}
        self.connected = False
        self.online = True
        self.syncing = False
        self.offline_since: datetime | None = None
        self.last_sync: datetime | None = None
        self.error = ""
        self.rounds = 0

    def load(self) -> None:
        """Build the in-memory queue from the cache (works offline)."""
        self.conversations.clear()
        self.ordered.clear()
        self.email_threads.clear()
        for doc in self.cache.conversations():
            self._remember(doc)

    def _remember(self, doc: Doc) -> None:
        tid = doc["thread_id"]
        overlay = self.overlay.get(tid)
        if overlay is not None:
            if self.pending(tid):
                doc = {**doc, **overlay}
            else:
                del self.overlay[tid]  # the provider has it now: its truth wins
        conv = self.conversations[tid] = doc_to_conversation(doc)
        self.ordered.put(conv)
        for e in (*doc.get("email_ids", ()), *doc.get("note_ids", ())):
            self.email_threads[e] = tid

    def _forget(self, thread_id: str) -> None:
        self.conversations.pop(thread_id, None)
        self.ordered.discard(thread_id)

    def pending(self, thread_id: str) -> bool:
        """Is an action or a sent reply for this thread still waiting for the provider?"""
        return any(
            i.get("thread_id") == thread_id and i.get("status") != "draft"
            for i in self.cache.outbox()
        )

    def patch(self, thread_id: str, fields: dict[str, Any]) -> None:
        """An optimistic change after an action, shown until the provider confirms it.

        Only memory changes: the action itself is already durable in the outbox, and
        rewriting the whole conversations file for one flag would cost a full write.
        """
        doc = self.cache.conversation(thread_id)
        if doc is None:
            return
        self.overlay.setdefault(thread_id, {}).update(fields)
        self._remember(doc)

    def doc(self, thread_id: str) -> Doc | None:
        """The cached document with any optimistic change applied."""
        doc = self.cache.conversation(thread_id)
        if doc is not None and thread_id in self.overlay:
            doc = {**doc, **self.overlay[thread_id]}
        return doc

    async def run_once(self) -> SyncResult:
        """One sync round; errors set the status and are raised for the caller to show."""
        self.syncing = True
        try:
            result = await self._round()
        except OfflineError as e:
            self._went_offline(str(e))
            raise
        except ProviderError as e:  # auth failures and bad answers included
            self.error = str(e)
            raise
        finally:
            self.syncing = False
        self.online, self.offline_since, self.error = True, None, ""
        self.last_sync = self.clock.now()
        self.rounds += 1
        return result

    def _went_offline(self, reason: str) -> None:
        if self.online or self.offline_since is None:
            self.offline_since = self.clock.now()
        self.online = False
        self.error = reason

    async def _round(self) -> SyncResult:
        if not self.connected:
            await self.provider.connect()
            self.connected = True
        account = self.provider.account_id
        state = self.cache.sync_state(account)
        if not state or not state.get("state") or self.cache.needs_full_sync:
            return await self._full(account)
        try:
            return await self._incremental(account, state)
        except CannotCalculateChanges:
            return await self._full(account)

    async def _full(self, account: str) -> SyncResult:
        snap = await self.provider.full_sync()
        owners = fold_account_notes(snap.notes, {})
        docs = self._docs(snap.threads, snap.notes, owners)
        removed = [t for t in self.conversations if t not in docs]
        sync_state = {"state": snap.state, "at": iso(self.clock.now()), "accounts": owners}
        self.cache.apply_sync(account, list(docs.values()), removed, sync_state)
        self.cache.needs_full_sync = False
        before = set(self.conversations)
        self.conversations.clear()
        self.ordered.clear()
        self.email_threads.clear()
        for doc in docs.values():
            self._remember(doc)
        added = tuple(t for t in docs if t not in before)
        updated = tuple(t for t in docs if t in before)
        return SyncResult(added=added, updated=updated, removed=tuple(removed), full=True)

    async def _incremental(self, account: str, state: Doc) -> SyncResult:
        delta = await self.provider.changes(str(state["state"]), self.email_threads)
        if not delta.threads and not delta.gone_threads and delta.state == state["state"]:
            return SyncResult()
        known = state.get("accounts") or {}
        owners = fold_account_notes(delta.notes, known)
        docs = self._docs(delta.threads, delta.notes, owners)
        if owners != known:
            docs.update(self._rederive_accounts(owners, docs))
        gone = {t.thread_id for t in delta.threads if t.thread_id not in docs}
        gone.update(delta.gone_threads)
        removed = [t for t in gone if t in self.conversations]
        sync_state = {"state": delta.state, "at": iso(self.clock.now()), "accounts": owners}
        self.cache.apply_sync(account, list(docs.values()), removed, sync_state)
        for e in delta.destroyed_emails:
            self.email_threads.pop(e, None)
        added = tuple(t for t in docs if t not in self.conversations)
        updated = tuple(t for t in docs if t in self.conversations)
        for t in removed:
            self._forget(t)
        for doc in docs.values():
            self._remember(doc)
        return SyncResult(added=added, updated=updated, removed=tuple(removed))

    def _docs(
        self, threads: Iterable[ThreadEmails], notes: dict[str, str], owners: dict[str, Any]
    ) -> dict[str, Doc]:
        owner_of = {k: v[0] for k, v in owners.items()}
        watched = self.provider.watched_mailbox
        docs = {}
        for t in threads:
            emails = thread_record(t, watched, self.cfg)
            doc = derive(t.thread_id, emails, parse_notes(emails, notes), self.cfg, owner_of)
            if doc is not None:
                docs[t.thread_id] = doc
        return docs

    def _rederive_accounts(self, owners: dict[str, Any], fresh: dict[str, Doc]) -> dict[str, Doc]:
        """An account changed hands: re-own that client's other conversations from the cache."""
        owner_of = {k: v[0] for k, v in owners.items()}
        out = {}
        for tid, conv in self.conversations.items():
            if tid in fresh or conv.client_key not in owner_of:
                continue
            doc = self.cache.conversation(tid)
            if doc is None:
                continue
            owner = reowned(doc, self.cfg, owner_of)
            if owner != doc["owner"]:
                out[tid] = {**doc, "owner": owner}
        return out
