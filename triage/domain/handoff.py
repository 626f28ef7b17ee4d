"""The shift handoff: what of a manager's comes due before their next shift, and who can
take it (qualified for the client's region, on shift when this one ends, least loaded).

A manager's shift is their `[managers.ID] timezone`, `hours` and `days`, read with the
same calendar as a region's business hours. A manager without hours has no handoff.
Pure: the queue and `now` are given.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from triage.domain import calendar
from triage.domain.model import Conversation, Manager, Region
from triage.domain.settings import Config

HANDOFF_LEAD = timedelta(minutes=30)  # the handoff is offered this long before a shift ends


@dataclass(frozen=True)
class HandoffItem:
    """One conversation to hand over, and who could take it, best first (with load)."""

    conversation: Conversation
    takers: tuple[tuple[Manager, int], ...]


def shift(manager: Manager) -> Region | None:
    """The manager's working hours as a calendar (None: no hours configured)."""
    if manager.hours is None or not manager.timezone:
        return None
    return Region(manager.id, manager.name, manager.timezone, "", manager.hours, manager.days)


def shift_end(manager: Manager, now: datetime) -> datetime | None:
    """When the shift the manager is on now ends (None: not on shift, or no hours)."""
    hours = shift(manager)
    if hours is None or not calendar.is_open(now, hours):
        return None
    return calendar.closing_after(now, hours)


def handoff_due(manager: Manager, now: datetime, lead: timedelta = HANDOFF_LEAD) -> bool:
    """Whether the manager's shift ends within `lead` (the console offers the handoff)."""
    end = shift_end(manager, now)
    return end is not None and end - now <= lead


def handoff(
    conversations: Iterable[Conversation], manager: Manager, now: datetime, cfg: Config
) -> list[HandoffItem]:
    """The manager's waiting conversations due before their next shift starts, soonest
    first, each with the qualified colleagues on shift when this shift ends."""
    convs = list(conversations)
    hours = shift(manager)
    if hours is None:
        return []
    ends = shift_end(manager, now) or now
    back = calendar.clock_start(ends, hours)  # the next opening after the shift ends
    load = Counter(c.owner for c in convs if c.waiting)
    mine = sorted((c for c in convs if c.owner == manager.id and c.waiting
                   and c.deadline is not None and c.deadline < back),
                  key=lambda c: c.deadline or now)  # fmt: skip
    return [HandoffItem(c, _takers(c, manager, ends, cfg, load)) for c in mine]


def _takers(
    c: Conversation, manager: Manager, at: datetime, cfg: Config, load: Counter[str]
) -> tuple[tuple[Manager, int], ...]:
    on = [m for m in cfg.managers.values()
          if m.id != manager.id and c.region in m.regions and _on_at(m, at)]  # fmt: skip
    return tuple((m, load[m.id]) for m in sorted(on, key=lambda m: (load[m.id], m.id)))


def _on_at(m: Manager, at: datetime) -> bool:
    hours = shift(m)
    return hours is None or calendar.is_open(at, hours)  # no hours: any time
