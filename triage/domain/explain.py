"""A deadline in words: when the client wrote, when the clock started and why, which
target applied and where it came from, and when the reply is due.

What `triage explain` prints and the thread view's "why" line rests on. Pure: the
conversation, its region and `now` are given; times are given back as instants (the
caller shows them in the client's and the user's zones).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from triage.domain import calendar
from triage.domain.model import Conversation, Region
from triage.domain.workflow import status_at

MAX_DAYS_LISTED = 14  # closed days named between an arrival and its clock start


@dataclass(frozen=True)
class Explanation:
    """The facts of one conversation's deadline."""

    status: str
    arrival: datetime | None  # the client message that started the clock
    clock_start: datetime | None
    why_later: tuple[str, ...]  # why the clock started after the arrival, oldest first
    target: str  # "first reply, premium tier: 30m"
    target_source: str
    deadline: datetime | None
    seconds_left: float | None


def explain(c: Conversation, region: Region | None, now: datetime) -> Explanation:
    """The deadline of `c` as of `now`, with its reasons."""
    arrival, start = c.waiting_since, c.clock_start
    why: tuple[str, ...] = ()
    if region is not None and arrival is not None and start is not None and start > arrival:
        why = tuple(clock_reasons(arrival, start, region))
    waiting = c.waiting and c.deadline is not None
    return Explanation(
        status=status_at(c, now).value,
        arrival=arrival,
        clock_start=start,
        why_later=why,
        target=c.target,
        target_source=c.target_source,
        deadline=c.deadline,
        seconds_left=c.seconds_left(now) if waiting else None,
    )


def clock_reasons(arrival: datetime, start: datetime, region: Region) -> list[str]:
    """Why a message that arrived at `arrival` started its clock only at `start`:
    after hours or before opening on its own day, then each closed day between."""
    local = calendar.local_time(arrival, region)
    day, last = local.date(), calendar.local_time(start, region).date()
    reasons = []
    closed = calendar.closed_because(day, region)
    if closed:
        reasons.append(f"{day:%a %d %b}: {closed}")
    elif day != last:
        reasons.append(f"{day:%a %d %b}: arrived after closing time")
    else:
        reasons.append(f"{day:%a %d %b}: arrived before opening time")
    day += timedelta(days=1)
    while day < last and len(reasons) < MAX_DAYS_LISTED:
        if why := calendar.closed_because(day, region):
            reasons.append(f"{day:%a %d %b}: {why}")
        day += timedelta(days=1)
    if day == last and day in region.special_hours:
        opens, closes = region.special_hours[day]
        reasons.append(f"{day:%a %d %b}: a short day, {opens:%H:%M}-{closes:%H:%M}")
    return reasons
