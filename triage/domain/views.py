"""The lists beside the queue: snoozed, done, answered, all; and search.

The waiting queue is `triage.domain.ordering`'s (kept sorted as it changes); these
are asked for when the user switches to them, so each walks the conversations
once. Snoozed: soonest wake first. Done and answered: the most recent first.
All: the queue's order for the waiting ones, then the rest by their last message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime

from triage.domain.model import Conversation, Status
from triage.domain.ordering import entry
from triage.domain.workflow import status_at

VIEWS = ("waiting", "snoozed", "done", "answered", "all")
_EPOCH = datetime.min.replace(tzinfo=UTC)


def in_view(conversations: Iterable[Conversation], view: str, now: datetime) -> list[Conversation]:
    """The conversations of `view` at `now`, in that view's order."""
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r} (views: {', '.join(VIEWS)})")
    convs = list(conversations)
    if view == "all":
        awake = [c for c in convs if c.waiting and status_at(c, now) is not Status.SNOOZED]
        ids = {c.thread_id for c in awake}
        rest = sorted((c for c in convs if c.thread_id not in ids),
                      key=lambda c: c.last_message_at, reverse=True)  # fmt: skip
        return sorted(awake, key=entry) + rest
    if view == "waiting":
        wanted = {Status.WAITING, Status.FOLLOW_UP}
        return sorted((c for c in convs if status_at(c, now) in wanted), key=entry)
    if view == "snoozed":
        snoozed = (c for c in convs if status_at(c, now) is Status.SNOOZED)
        return sorted(snoozed, key=lambda c: (c.wake_at or _EPOCH, c.thread_id))
    status = Status.DONE if view == "done" else Status.ANSWERED
    return sorted((c for c in convs if c.status is status), key=_recent(view), reverse=True)


def _recent(view: str) -> Callable[[Conversation], datetime]:
    if view == "done":
        return lambda c: c.done_at or _EPOCH
    return lambda c: c.replied_at or _EPOCH


def matches(c: Conversation, words: list[str]) -> bool:
    """Every word in the subject, the client's name or address (case folded)."""
    text = f"{c.subject} {c.client_name} {c.client_email}".casefold()
    return all(w in text for w in words)


def search(
    conversations: Iterable[Conversation], text: str, in_bodies: AbstractSet[str] = frozenset()
) -> list[Conversation]:
    """Every conversation (waiting or not) whose subject, client or sender has every
    word of `text`, or whose cached bodies do (`in_bodies`: their thread ids);
    the most recent first."""
    words = text.casefold().split()
    if not words:
        return []
    found = [c for c in conversations if c.thread_id in in_bodies or matches(c, words)]
    return sorted(found, key=lambda c: c.last_message_at, reverse=True)
