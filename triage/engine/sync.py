"""The sync engine: provider -> cache -> live view, full then incremental, one write a round.

A round asks the provider for every thread (the first time, or when the provider
lost our state) or for the changes since the last state, derives each thread's
conversation (`triage.domain.conversation`), stores the round in one cache
write and hands it to the live view. A failed round touches neither; the
connection state (online, offline since, the last problem) is what the status
bar shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from triage.clock import Clock
from triage.domain import conversation, history
from triage.domain.history import AccountOwners
from triage.domain.model import Conversation, Note, NoteAction, ThreadData
from triage.domain.settings import Config
from triage.engine.live import LiveQueue
from triage.providers.base import CannotCalculateChanges, OfflineError, Provider, ProviderError
from triage.store.cache import Cache, SyncState
from triage.text.i18n import N_, _


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

    def summary(self) -> str:
        """What changed, in words: "2 new, 1 updated" or "up to date"."""
        parts = [_(word).format(n=len(ids)) for ids, word in
                 ((self.added, N_("{n} new")), (self.updated, N_("{n} updated")),
                  (self.removed, N_("{n} removed")))
                 if ids]  # fmt: skip
        if self.flushed:
            parts.append(_("{n} queued sent").format(n=self.flushed))
        return ", ".join(parts) or _("up to date")


@dataclass
class Connection:
    """The provider connection as the status bar tells it."""

    online: bool = True
    syncing: bool = False
    offline_since: datetime | None = None
    last_sync: datetime | None = None
    error: str = ""


class SyncEngine:
    """Keeps the cache and the live view in step with the provider."""

    def __init__(
        self, cfg: Config, cache: Cache, provider: Provider, clock: Clock, live: LiveQueue
    ) -> None:
        self.cfg, self.cache, self.provider = cfg, cache, provider
        self.clock, self.live = clock, live
        self.connection = Connection()
        self._connected = False
        # Team-level notes (absences) as the provider has them: read whole by a full
        # round, or once before the first incremental one, then kept up by the deltas.
        self.team: tuple[Note, ...] | None = None

    def load(self) -> None:
        """Build the live view from the cache (works offline)."""
        self.live.load(self.cache.stored(), self.cache.message_threads)
        self.live.view(self.clock.now())  # sorted now, while the caller holds the collector

    async def run_once(self) -> SyncResult:
        """One sync round; errors set the connection state and are raised for the caller."""
        c = self.connection
        c.syncing = True
        try:
            result = await self._round()
        except OfflineError as e:
            if c.online or c.offline_since is None:
                c.offline_since = self.clock.now()
            c.online, c.error = False, str(e)
            raise
        except ProviderError as e:  # auth failures and bad answers included
            c.error = str(e)
            raise
        finally:
            c.syncing = False
        c.online, c.offline_since, c.error = True, None, ""
        c.last_sync = self.clock.now()
        return result

    async def _round(self) -> SyncResult:
        if not self._connected:
            await self.provider.connect()
            self._connected = True
        account = self.provider.account_id
        state = self.cache.sync_state(account)
        if state is None or not state.state or self.cache.needs_full_sync:
            return await self._full(account)
        try:
            return await self._incremental(account, state)
        except CannotCalculateChanges:
            return await self._full(account)

    async def _full(self, account: str) -> SyncResult:
        snap = await self.provider.full_sync()
        self.team = _team(_account_level(snap.threads, snap.account_notes))
        owners = history.account_owners(_account_level(snap.threads, snap.account_notes), {})
        fresh = self._derive(snap.threads, owners)
        before = self.live.ids()
        removed = [t for t in before if t not in fresh]
        self.cache.apply_sync(account, fresh.values(), removed, self._state(snap.state, owners))
        self.cache.needs_full_sync = False
        self.live.replace_all(fresh.values())
        added = tuple(t for t in fresh if t not in before)
        updated = tuple(t for t in fresh if t in before)
        return SyncResult(added=added, updated=updated, removed=tuple(removed), full=True)

    async def _incremental(self, account: str, state: SyncState) -> SyncResult:
        delta = await self.provider.changes(state.state, self.live.message_threads)
        if self.team is None:
            self.team = _team(await self.provider.account_notes())
        self.team = _team([*self.team, *_account_level(delta.threads, delta.account_notes)])
        if not delta.threads and not delta.gone_threads and delta.state == state.state:
            return SyncResult()
        owners = history.account_owners(_account_level(delta.threads, delta.account_notes),
                                        state.accounts)  # fmt: skip
        fresh = self._derive(delta.threads, owners)
        if owners != state.accounts:
            fresh.update(self._reowned(owners, fresh))
        gone = {t.thread_id for t in delta.threads if t.thread_id not in fresh}
        gone.update(delta.gone_threads)
        removed = [t for t in gone if t in self.live]
        self.cache.apply_sync(account, fresh.values(), removed, self._state(delta.state, owners))
        self.live.forget_messages(delta.destroyed_messages)
        added = tuple(t for t in fresh if t not in self.live)
        updated = tuple(t for t in fresh if t in self.live)
        self.live.update(fresh.values(), removed)
        return SyncResult(added=added, updated=updated, removed=tuple(removed))

    def _state(self, state: str, owners: AccountOwners) -> SyncState:
        return SyncState(state, self.clock.now(), owners)

    def _derive(
        self, threads: Iterable[ThreadData], owners: AccountOwners
    ) -> dict[str, Conversation]:
        owner_of = {k: v[0] for k, v in owners.items()}
        out = {}
        for t in threads:
            conv = conversation.derive(t, self.cfg, owner_of)
            if conv is not None:
                out[t.thread_id] = conv
        return out

    def _reowned(
        self, owners: AccountOwners, fresh: dict[str, Conversation]
    ) -> dict[str, Conversation]:
        """An account changed hands: re-own that client's other conversations."""
        owner_of = {k: v[0] for k, v in owners.items()}
        out = {}
        for shown in self.live.all():
            if shown.thread_id in fresh or shown.client_key not in owner_of:
                continue
            conv = self.live.truth(shown.thread_id) or shown
            again = conversation.reowned(conv, self.cfg, owner_of)
            if again is not conv:
                out[conv.thread_id] = again
        return out


def _team(notes: Iterable[Note]) -> tuple[Note, ...]:
    """The absences among team-level notes, oldest first, each once."""
    return history.merged(n for n in notes if n.action in (NoteAction.AWAY, NoteAction.BACK))


def _account_level(threads: Iterable[ThreadData], notes: Iterable[Note]) -> list[Note]:
    """Account-level reassignments: the provider's list, and those filed in these threads."""
    return [*notes, *(n for t in threads for n in t.notes if n.account)]
