"""A conversation's messages for the thread view: from the provider, page by page.

The provider is asked first (so a reply just sent shows before the next sync), for
the list of the thread's messages and the text of the newest page only: a thread of
10,000 messages opens as fast as one of ten, and older pages are fetched when the
reader asks. What was fetched last is kept in the cache as the thread's offline copy;
when the provider cannot be reached that copy is returned, marked as such.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from triage.domain.model import Message
from triage.providers.base import Provider, ProviderError
from triage.store.cache import Cache

PAGE = 40  # messages fetched (with their text) at a time


@dataclass(frozen=True)
class ThreadPage:
    """`messages` are the newest `len(messages)` of `message_ids` (oldest first)."""

    message_ids: tuple[str, ...]
    messages: tuple[Message, ...]
    offline: bool = False

    @property
    def earlier(self) -> int:
        """How many older messages are not loaded yet."""
        return len(self.message_ids) - len(self.messages)


class ThreadReader:
    def __init__(self, cache: Cache, provider: Provider) -> None:
        self.cache, self.provider = cache, provider

    async def open(self, thread_id: str, count: int = PAGE) -> ThreadPage:
        """The newest page; the cached copy (offline) when the provider cannot answer."""
        try:
            ids = await self.provider.thread_message_ids(thread_id)
            messages = await self.provider.messages(ids[-count:]) if ids else []
        except ProviderError:  # offline, or the thread is gone: the offline copy stays
            cached = self.cache.bodies(thread_id) or []
            return ThreadPage(tuple(m.id for m in cached), tuple(cached), offline=True)
        with contextlib.suppress(OSError):  # a full disk must not hide the thread
            self.cache.store_bodies(thread_id, messages)
        return ThreadPage(tuple(ids), tuple(messages))

    async def earlier(self, page: ThreadPage, count: int = PAGE) -> ThreadPage:
        """The same page with up to `count` older messages before it."""
        end = page.earlier
        if end <= 0 or page.offline:
            return page
        older = await self.provider.messages(page.message_ids[max(0, end - count) : end])
        return ThreadPage(page.message_ids, (*older, *page.messages))
