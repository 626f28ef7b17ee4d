"""The live view: conversations in memory, kept sorted, with optimistic changes on top.

The sync engine hands it what each round changed; an action patches the
conversation it acted on at once (an overlay), so the console shows the action
before the provider confirms it. An overlay stays while the outbox still has
something for that thread on its way to the provider; once it does not, the
provider's version wins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from triage.domain.model import Conversation
from triage.domain.ordering import QueueView, SortedQueue, Unbuilt, built

Pending = Callable[[str], bool]  # does the outbox hold something for this thread?
MessageMap = Callable[[], dict[str, str]]  # thread id by mail id, as stored


class LiveQueue:
    """Every cached conversation by thread id, the waiting ones in queue order."""

    def __init__(self, pending: Pending) -> None:
        self._pending = pending
        self._conversations: dict[str, Conversation | Unbuilt] = {}
        self._sorted = SortedQueue()
        self._overlay: dict[str, dict[str, Any]] = {}
        self._truth: dict[str, Conversation] = {}  # the provider's version of overlaid ones
        # message id -> thread id, so a destroyed message can refresh its thread; read
        # from the store when first asked for (a sync that saw mail deleted)
        self._message_threads: dict[str, str] | None = None
        self._stored_map: MessageMap | None = None
        self.message_threads: Mapping[str, str] = _Deferred(self._threads_by_message)

    def __contains__(self, thread_id: object) -> bool:
        return thread_id in self._conversations

    def __len__(self) -> int:
        return len(self._conversations)

    def get(self, thread_id: str) -> Conversation | None:
        conv = self._conversations.get(thread_id)
        return None if conv is None else built(conv)

    def all(self) -> list[Conversation]:
        """Every conversation (building those not built yet: ~1 s at 50k, once)."""
        return [built(c) for c in self._conversations.values()]

    def truth(self, thread_id: str) -> Conversation | None:
        """The provider's version, without optimistic changes (what the cache may store)."""
        return self._truth.get(thread_id) or self.get(thread_id)

    def _threads_by_message(self) -> dict[str, str]:
        if self._message_threads is None:
            if self._stored_map is not None:
                found = self._stored_map()
            else:
                found = {m: tid for tid, c in self._conversations.items() for m in _ids(built(c))}
            self._message_threads = found
        return self._message_threads

    def ids(self) -> set[str]:
        return set(self._conversations)

    def view(self, now: datetime | None = None) -> QueueView:
        """The waiting conversations awake at `now`, in queue order (a snapshot)."""
        return self._sorted.view(now)

    def replace_all(self, conversations: Iterable[Conversation]) -> None:
        """Start again from these (a full sync)."""
        self.load(conversations)

    def load(
        self, stored: Iterable[Conversation | Unbuilt], message_map: MessageMap | None = None
    ) -> None:
        """Start again from these (the cache at start, where most are not built yet:
        `message_map` reads which thread each mail is in without building them)."""
        self._conversations.clear()
        self._truth.clear()
        self._sorted.clear()
        self._message_threads = None
        self._stored_map = message_map
        for c in stored:
            if isinstance(c, Unbuilt):
                self._conversations[c.thread_id] = c
                if c.queued:
                    self._sorted.put(c)
            else:
                self._remember(c)

    def update(self, upserts: Iterable[Conversation], removed: Iterable[str]) -> None:
        for thread_id in removed:
            self._conversations.pop(thread_id, None)
            self._truth.pop(thread_id, None)
            self._sorted.discard(thread_id)
        for c in upserts:
            self._remember(c)

    def forget_messages(self, message_ids: Iterable[str]) -> None:
        if self._message_threads is None:
            return  # read from the store when first asked for
        for m in message_ids:
            self._message_threads.pop(m, None)

    def patch(self, thread_id: str, **fields: Any) -> None:
        """An optimistic change after an action, shown until the provider confirms it."""
        conv = self.get(thread_id)
        if conv is None:
            return
        self._truth.setdefault(thread_id, conv)
        self._overlay.setdefault(thread_id, {}).update(fields)
        self._put(replace(conv, **fields))

    def _remember(self, conv: Conversation) -> None:
        tid = conv.thread_id
        overlay = self._overlay.get(tid)
        if overlay is not None:
            if self._pending(tid):
                self._truth[tid] = conv
                conv = replace(conv, **overlay)
            else:
                del self._overlay[tid]  # the provider has it now: its truth wins
                self._truth.pop(tid, None)
        self._put(conv)
        if self._message_threads is not None:
            self._message_threads.update(dict.fromkeys(_ids(conv), tid))

    def _put(self, conv: Conversation) -> None:
        self._conversations[conv.thread_id] = conv
        self._sorted.put(conv)


def _ids(conv: Conversation) -> tuple[str, ...]:
    ref = conv.thread
    return (*ref.message_ids, *ref.note_ids)


class _Deferred(Mapping[str, str]):
    """A mapping read from its source the first time it is used."""

    def __init__(self, source: Callable[[], dict[str, str]]) -> None:
        self._source = source

    def __getitem__(self, key: str) -> str:
        return self._source()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._source())

    def __len__(self) -> int:
        return len(self._source())

    def __contains__(self, key: object) -> bool:
        return key in self._source()
