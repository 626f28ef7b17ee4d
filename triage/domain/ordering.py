"""Queue order: the one sort key (`entry`), and the queue kept in that order as
conversations change (`SortedQueue`, snapshotted as a `QueueView`).

Order is by absolute deadline (it does not move as the clock ticks, so a tick never
re-sorts), then premium before standard, then earliest arrival, then thread id.
Sorting 30k waiting conversations with a Python key, then walking them again
for counts and markers, costs ~100-200 ms at 50k: every pass touches
every conversation object. Here the sync engine `put`s each conversation it
(re)builds and `discard`s the ones that leave; `view()` applies the pending
changes by bisection (O(k log n) plus a pointer memmove per change), or by one
re-sort when most of the queue changed (the first load, a full sync).

Snoozed conversations sleep apart (a few, with their wake times) and join the
order when `view(now)` is asked at or after their wake time, so no tick ever walks
the queue to find them either.

A `QueueView` is an immutable snapshot: the sorted entries, and the few waiting
conversations that are escalated, wrote to the CEO or were acknowledged. Counts
for the status bar come from bisection on the absolute deadlines (the order's
first key) plus that small set, so a tick or a reload never walks the queue.
Pure: no clock reads, no I/O.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard, overload

from triage.domain.model import Conversation, Status, Tier
from triage.domain.urgency import Counts, as_escalated, escalation_of

FAR_FUTURE = datetime.max.replace(tzinfo=UTC)
NO_DEADLINE = FAR_FUTURE.timestamp()  # no deadline: last
# (deadline, tier rank, first arrival, thread id), times in epoch seconds: the thread
# id is unique, so comparisons never reach what an entry carries after the key.
Key = tuple[float, int, float, str]


class Unbuilt:
    """A stored conversation not built yet, with its queue key: built (once) the first
    time it is asked for. At start-up only the rows on screen are."""

    __slots__ = ("_build", "_built", "key", "queued", "source", "thread_id")

    def __init__(
        self, key: Key, source: object, build: Callable[[Any], Conversation], *, queued: bool
    ) -> None:
        self.key = key
        self.thread_id = key[3]
        self.queued = queued  # waiting, with nothing the queue keeps apart; else not listed
        self.source = source  # what it is built from (the stored document)
        self._build = build
        self._built: Conversation | None = None

    @property
    def is_built(self) -> bool:
        return self._built is not None

    def get(self) -> Conversation:
        if self._built is None:
            self._built = self._build(self.source)
        return self._built


Entry = tuple[float, int, float, str, Conversation | Unbuilt]


def entry(c: Conversation) -> Entry:
    """The sort key of a conversation, carrying the conversation: the queue's one order.

    Most urgent first; a stable total order (the thread id breaks the last tie)."""
    tier = 0 if c.tier is Tier.PREMIUM else 1
    deadline = c.deadline.timestamp() if c.deadline is not None else NO_DEADLINE
    return (deadline, tier, c.first_arrival.timestamp(), c.thread_id, c)


def built(c: Conversation | Unbuilt) -> Conversation:
    return c.get() if isinstance(c, Unbuilt) else c


def asleep(c: Conversation, now: datetime | None) -> bool:
    """Snoozed and not yet at its wake time (without a time: snoozed at all)."""
    if c.status is not Status.SNOOZED:
        return False
    return now is None or c.wake_at is None or now < c.wake_at


def _wake_key(c: Conversation) -> tuple[datetime, str]:
    return (c.wake_at or FAR_FUTURE, c.thread_id)


def special(c: Conversation) -> bool:
    """Escalated by hand, CEO contacted, or acknowledged: the counts treat these apart."""
    return c.escalated or c.ceo_contacted or c.acknowledged


def flagged(c: Conversation) -> bool:
    """Kept apart for the counts and the markers column: the special ones, conversations
    whose sender poses as staff or the CEO, and clients asking for another manager."""
    return special(c) or bool(c.impersonation) or c.asked_new_manager


class QueueView(Sequence[Conversation]):
    """The waiting conversations, most urgent first (a snapshot: never changes)."""

    __slots__ = ("_entries", "_list", "_positions", "flagged", "sleeping")

    def __init__(
        self,
        entries: list[Entry],
        flagged: tuple[Conversation, ...],
        positions: dict[str, Entry] | None = None,
        sleeping: tuple[Conversation, ...] = (),
    ) -> None:
        self._entries = entries
        self._list: list[Conversation] | None = None
        # thread id -> its entry in `entries` (this snapshot's own map).
        self._positions = positions or {}
        self.flagged = flagged
        self.sleeping = sleeping  # snoozed, soonest wake first: not in the order yet

    @classmethod
    def of(cls, conversations: Iterable[Conversation], now: datetime | None = None) -> QueueView:
        """A view built from scratch (tests, small services)."""
        q = SortedQueue()
        for c in conversations:
            q.put(c)
        return q.view(now)

    @property
    def next_wake(self) -> datetime | None:
        """When the first sleeping conversation wakes (a view asked then includes it)."""
        return self.sleeping[0].wake_at if self.sleeping else None

    def __len__(self) -> int:
        return len(self._entries)

    @overload
    def __getitem__(self, index: int) -> Conversation: ...
    @overload
    def __getitem__(self, index: slice) -> list[Conversation]: ...
    def __getitem__(self, index: int | slice) -> Conversation | list[Conversation]:
        if isinstance(index, slice):
            return [built(e[4]) for e in self._entries[index]]
        return built(self._entries[index][4])

    def __iter__(self) -> Iterator[Conversation]:
        return (built(e[4]) for e in self._entries)

    def unbuilt(self, stop: int) -> list[Conversation | Unbuilt]:
        """The first `stop`, not built yet where they are not: a caller that can skip
        some by thread id builds only the others (`built`)."""
        return [e[4] for e in self._entries[:stop]]

    def conversations(self) -> list[Conversation]:
        """The same, as a plain list (built once: every conversation in it is built)."""
        if self._list is None:
            self._list = [built(e[4]) for e in self._entries]
        return self._list

    def has(self, thread_id: str) -> bool:
        return thread_id in self._positions

    def index_of(self, thread_id: str) -> int | None:
        """Where `thread_id` is in this view, by bisection (None when it is not listed)."""
        probe = self._positions.get(thread_id)
        return None if probe is None else bisect_left(self._entries, probe)

    def due_by(self, when: datetime) -> int:
        """How many deadlines are at or before `when` (breached at `when`)."""
        return bisect_right(self._entries, (when.timestamp(), 2))  # 2: after every tier rank

    def due_before(self, when: datetime) -> int:
        """How many deadlines are strictly before `when`."""
        return bisect_left(self._entries, (when.timestamp(),))

    def counts(self, now: datetime, at_risk: timedelta, grace: timedelta) -> Counts:
        """The status bar's totals, by bisection: `urgency.state`'s boundaries (breached at
        a deadline <= now, at risk below now + at_risk) and `urgency.escalation_of`'s
        (flagged by hand or by the CEO rule, or breached past the grace)."""
        breached = self.due_by(now)
        risky = self.due_before(now + at_risk) - breached
        specials = [c for c in self.flagged if special(c)]
        by_hand = sum(not c.acknowledged for c in (*specials, *self.sleeping)
                      if c.escalated or c.ceo_contacted)  # fmt: skip
        # Breached past the grace and not special: escalated automatically.
        cutoff = now - grace
        late_special = sum(c.deadline is not None and c.deadline <= cutoff for c in specials)
        escalated = by_hand + self.due_by(cutoff) - late_special
        return Counts(len(self), breached, risky, escalated, len(self.sleeping))

    def escalations(self, now: datetime, grace: timedelta) -> list[Conversation]:
        """The CEO's pane, most urgent first: `urgency.escalation_of` asked only of the
        flagged and the overdue (no other conversation can be escalated)."""
        out = []
        for item in self.escalation_candidates(now, grace):
            c = built(item)
            esc = escalation_of(c, now, grace)
            if esc is not None:
                out.append(as_escalated(c, esc))
        return sorted(out, key=entry)

    def escalation_candidates(
        self, now: datetime, grace: timedelta
    ) -> list[Conversation | Unbuilt]:
        """Every conversation that may be escalated at `now`: the overdue (unbuilt where
        they are), then the flagged and the snoozed (a snoozed escalation stays one)."""
        overdue = self.unbuilt(self.due_by(now - grace))
        ids = {c.thread_id for c in overdue}
        return [*overdue, *(c for c in (*self.flagged, *self.sleeping) if c.thread_id not in ids)]

    def acknowledged(self, now: datetime, grace: timedelta) -> list[Conversation]:
        """The escalations the CEO has acknowledged and the client is still waiting on,
        each with the reason it was escalated for, most urgent first."""
        out = []
        for c in (*self.flagged, *self.sleeping):
            if not c.acknowledged:
                continue
            esc = escalation_of(replace(c, acknowledged=False), now, grace)
            if esc is not None:
                out.append(as_escalated(c, esc))
        return sorted(out, key=entry)


class SortedQueue:
    """The waiting conversations in queue order, updated change by change."""

    # Above this share of changed conversations one re-sort beats bisecting each.
    RESORT_SHARE = 8

    def __init__(self) -> None:
        self._entries: list[Entry] = []
        self._positions: dict[str, Entry] = {}
        self._flagged: dict[str, Conversation] = {}
        self._sleeping: dict[str, Conversation] = {}
        self._pending: dict[str, Conversation | Unbuilt | None] = {}
        self._view: QueueView | None = None
        self._shared = False  # a view holds `_entries` and `_positions`: copy before writing

    def put(self, conv: Conversation | Unbuilt) -> None:
        """`conv` is new or changed (answered ones leave the queue). An unbuilt one goes
        by its key, and must be waiting with nothing kept apart (`flagged`, snoozed) or
        not be listed at all (`Unbuilt.queued`)."""
        self._pending[conv.thread_id] = conv

    def load(self, stored: Iterable[Conversation | Unbuilt]) -> None:
        """Start again from these (the cache at start): the unbuilt ones sorted by their
        keys in one go, the few built ones put as changes."""
        self.clear()
        entries: list[Entry] = []
        for c in stored:
            if not isinstance(c, Unbuilt):
                self._pending[c.thread_id] = c
            elif c.queued:
                entries.append((*c.key, c))
        entries.sort()
        self._entries = entries
        self._positions = {e[3]: e for e in entries}

    def discard(self, thread_id: str) -> None:
        self._pending[thread_id] = None

    def clear(self) -> None:
        self._entries, self._positions, self._view = [], {}, None
        self._shared = False
        self._flagged.clear()
        self._sleeping.clear()
        self._pending.clear()

    def view(self, now: datetime | None = None) -> QueueView:
        """The current queue at `now`; the same object until something changes or a
        sleeping conversation's wake time passes. Without `now`, snoozed ones sleep."""
        woken = self._woken(now)
        if self._pending or woken or self._view is None:
            self._apply(now)
            flagged = tuple(self._flagged.values())
            sleeping = tuple(sorted(self._sleeping.values(), key=_wake_key))
            self._view = QueueView(self._entries, flagged, self._positions, sleeping)
            self._shared = True
        return self._view

    def _woken(self, now: datetime | None) -> bool:
        """Sleeping conversations whose wake time has come move to the pending changes."""
        due = [c for c in self._sleeping.values() if not asleep(c, now)]
        for c in due:
            self._pending.setdefault(c.thread_id, c)
        return bool(due)

    def _apply(self, now: datetime | None) -> None:
        pending, self._pending = self._pending, {}
        for tid, conv in list(pending.items()):
            self._sleeping.pop(tid, None)
            if isinstance(conv, Conversation) and conv.waiting and asleep(conv, now):
                self._sleeping[tid] = conv
                pending[tid] = None  # out of the order (and of its flagged set) for now
        if not pending:
            return
        if len(pending) * self.RESORT_SHARE > len(self._entries):
            self._resort(pending)
            return
        # Copy on write (two pointer copies, ~1 ms at 30k): views handed out stay as they were.
        if self._shared:
            self._entries, self._positions = list(self._entries), dict(self._positions)
            self._shared = False
        entries = self._entries
        for tid, conv in pending.items():
            old = self._positions.pop(tid, None)
            if old is not None:
                del entries[bisect_left(entries, old)]
            self._flagged.pop(tid, None)
            if _queued(conv):
                insort(entries, self._remember(conv))

    def _resort(self, pending: dict[str, Conversation | Unbuilt | None]) -> None:
        kept = [e for e in self._entries if e[3] not in pending]
        if self._shared:
            self._positions, self._shared = dict(self._positions), False
        for tid in pending:
            self._positions.pop(tid, None)
            self._flagged.pop(tid, None)
        kept.extend(self._remember(c) for c in pending.values() if _queued(c))
        kept.sort()
        self._entries = kept

    def _remember(self, conv: Conversation | Unbuilt) -> Entry:
        if isinstance(conv, Unbuilt):
            new: Entry = (*conv.key, conv)
        else:
            new = entry(conv)
            if flagged(conv):
                self._flagged[conv.thread_id] = conv
        self._positions[conv.thread_id] = new
        return new


def _queued(conv: Conversation | Unbuilt | None) -> TypeGuard[Conversation | Unbuilt]:
    """In the queue's order: waiting."""
    if isinstance(conv, Unbuilt):
        return conv.queued
    return conv is not None and conv.waiting
