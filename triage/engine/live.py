"""The live view: conversations in memory, kept sorted, with optimistic changes on top.

The sync engine hands it what each round changed; an action patches the
conversation it acted on at once (an overlay), so the console shows the action
before the provider confirms it. An overlay stays while the outbox still has
something for that thread on its way to the provider; once it does not, the
provider's version wins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from triage.domain.model import Conversation
from triage.domain.ordering import QueueView, SortedQueue

Pending = Callable[[str], bool]  # does the outbox hold something for this thread?


class LiveQueue:
    """Every cached conversation by thread id, the waiting ones in queue order."""

    def __init__(self, pending: Pending) -> None:
        self._pending = pending
        self._conversations: dict[str, Conversation] = {}
        self._sorted = SortedQueue()
        self._overlay: dict[str, dict[str, Any]] = {}
        self._truth: dict[str, Conversation] = {}  # the provider's version of overlaid ones
        # message id -> thread id, so a destroyed message can refresh its thread
        self.message_threads: dict[str, str] = {}

    def __contains__(self, thread_id: object) -> bool:
        return thread_id in self._conversations

    def __len__(self) -> int:
        return len(self._conversations)

    def get(self, thread_id: str) -> Conversation | None:
        return self._conversations.get(thread_id)

    def all(self) -> list[Conversation]:
        return list(self._conversations.values())

    def truth(self, thread_id: str) -> Conversation | None:
        """The provider's version, without optimistic changes (what the cache may store)."""
        return self._truth.get(thread_id) or self._conversations.get(thread_id)

    def ids(self) -> set[str]:
        return set(self._conversations)

    def view(self, now: datetime | None = None) -> QueueView:
        """The waiting conversations awake at `now`, in queue order (a snapshot)."""
        return self._sorted.view(now)

    def replace_all(self, conversations: Iterable[Conversation]) -> None:
        """Start again from these (the cache at start, a full sync)."""
        self._conversations.clear()
        self._truth.clear()
        self._sorted.clear()
        self.message_threads.clear()
        self.update(conversations, ())

    def update(self, upserts: Iterable[Conversation], removed: Iterable[str]) -> None:
        for thread_id in removed:
            self._conversations.pop(thread_id, None)
            self._truth.pop(thread_id, None)
            self._sorted.discard(thread_id)
        for c in upserts:
            self._remember(c)

    def forget_messages(self, message_ids: Iterable[str]) -> None:
        for m in message_ids:
            self.message_threads.pop(m, None)

    def patch(self, thread_id: str, **fields: Any) -> None:
        """An optimistic change after an action, shown until the provider confirms it."""
        conv = self._conversations.get(thread_id)
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
        ref = conv.thread
        for m in (*ref.message_ids, *ref.note_ids):
            self.message_threads[m] = tid

    def _put(self, conv: Conversation) -> None:
        self._conversations[conv.thread_id] = conv
        self._sorted.put(conv)
