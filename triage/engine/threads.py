"""A conversation's messages for the thread view: from the provider, kept in the cache.

The provider is asked first (so a reply just sent shows before the next sync);
what it returns is stored as the thread's offline copy. When the provider cannot
be reached the cached copy is returned, marked as such.
"""

from __future__ import annotations

import contextlib

from triage.domain.model import Message
from triage.providers.base import Provider, ProviderError
from triage.store.cache import Cache


class ThreadReader:
    def __init__(self, cache: Cache, provider: Provider) -> None:
        self.cache, self.provider = cache, provider

    async def messages(self, thread_id: str) -> tuple[list[Message], bool]:
        """(messages, offline): offline when they came from the cache."""
        try:
            messages = await self.provider.thread_messages(thread_id)
        except ProviderError:  # offline, or the thread is gone: the offline copy stays
            return self.cache.bodies(thread_id) or [], True
        with contextlib.suppress(OSError):  # a full disk must not hide the thread
            self.cache.store_bodies(thread_id, messages)
        return messages, False
