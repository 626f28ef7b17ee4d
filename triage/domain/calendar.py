"""Regional business calendars: when a region is open, when the clock starts, when a reply is due.

Owns the business-time arithmetic behind every deadline. Which message starts the
clock is `triage.domain.conversation`'s rule, how urgent the time left is belongs to
`triage.domain.urgency`, and how a countdown reads is `triage.text.timefmt`.
Pure functions: no clock reads (`now` is always a parameter) and no I/O beyond
the `holidays` package's in-memory calendars.

DST: each business day's opening and closing are built as local wall-clock
times with zoneinfo and converted to UTC at once; every comparison and every
duration is then done on UTC instants, so a business interval that crosses a
DST change is measured in real elapsed time and arrivals inside a repeated
hour (which are aware instants already) compare correctly.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from triage.domain.model import Region

# No valid region goes this long without a business day; the guard turns a
# misconfigured region (no days, empty hours) into an error instead of a hang.
MAX_CLOSED_DAYS = 400

_Interval = tuple[datetime, datetime]


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=256)
def _holiday_dates(code: str, year: int) -> frozenset[date]:
    """Closed days of one calendar year, observed days included ("US", "CA-QC")."""
    if not code:
        return frozenset()
    import holidays  # ~180 ms: only when a deadline needs a holiday calendar, not at start

    country, _, subdiv = code.partition("-")
    calendar = holidays.country_holidays(country, subdiv=subdiv or None, years=year)
    return frozenset(calendar.keys())


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"timezone-aware datetime required, got {at!r}")


def local_time(at: datetime, region: Region) -> datetime:
    """The instant `at` on the region's wall clock."""
    _require_aware(at)
    return at.astimezone(_zone(region.timezone))


def is_business_day(day: date, region: Region) -> bool:
    """Whether a local calendar day has business hours (24x7 regions: every day).
    A day in `hours_on` is open whatever its weekday; one in `closed` never is."""
    if region.is_24x7:
        return True
    if day in region.closed:
        return False
    if day in region.special_hours:
        return True
    return day.weekday() in region.days and day not in _holiday_dates(region.holidays, day.year)


def closed_because(day: date, region: Region) -> str:
    """Why a local day has no business hours, in words ("" when it has some)."""
    if is_business_day(day, region):
        return ""
    if day in region.closed:
        return "closed (the region's closures)"
    if day.weekday() not in region.days:
        return "not a business day of the week"
    return "a public holiday"


def _day_interval(day: date, region: Region) -> _Interval | None:
    """The UTC [open, close) of a local business day, or None when closed.

    Wall times that fall in a skipped or repeated hour use fold=0 (zoneinfo's
    default: the offset in force before the change). Hours whose close is not
    after the open ("22:00-06:00") close on the following day.
    """
    assert region.hours is not None
    if not is_business_day(day, region):
        return None
    zone = _zone(region.timezone)
    opens, closes = region.special_hours.get(day, region.hours)
    close_day = day if closes > opens else day + timedelta(days=1)
    start = datetime.combine(day, opens, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(close_day, closes, tzinfo=zone).astimezone(UTC)
    return (start, end) if end > start else None


def _intervals_from(at: datetime, region: Region) -> Iterator[_Interval]:
    """Business intervals, in order, that have not closed by `at` (UTC, aware).

    Starts one local day early so that overnight hours begun yesterday count.
    """
    day = local_time(at, region).date() - timedelta(days=1)
    closed_run = 0
    while closed_run < MAX_CLOSED_DAYS:
        interval = _day_interval(day, region)
        day += timedelta(days=1)
        if interval is None:
            closed_run += 1
            continue
        closed_run = 0
        if interval[1] > at:
            yield interval
    raise ValueError(f"region {region.id!r} has no business day in {MAX_CLOSED_DAYS} days")


def is_open(at: datetime, region: Region) -> bool:
    """Whether the region is open at `at`; the closing instant itself is closed."""
    _require_aware(at)
    if region.is_24x7:
        return True
    opens, _ = next(_intervals_from(at.astimezone(UTC), region))
    return opens <= at


def closing_after(at: datetime, region: Region) -> datetime:
    """When the business hours open at `at` (or next opening after it) close."""
    _require_aware(at)
    if region.is_24x7:
        raise ValueError(f"region {region.id!r} is open 24x7: it never closes")
    _, closes = next(_intervals_from(at.astimezone(UTC), region))
    return closes


def clock_start(arrival: datetime, region: Region) -> datetime:
    """When the reply clock starts: the arrival if open then, else the next opening."""
    _require_aware(arrival)
    arrival = arrival.astimezone(UTC)
    if region.is_24x7:
        return arrival
    opens, _ = next(_intervals_from(arrival, region))
    return max(opens, arrival)


class RegionsOwn:
    """The default target of `deadline`: the region's `reply_within`."""


REGIONS_OWN = RegionsOwn()


def deadline(
    arrival: datetime, region: Region, within: timedelta | RegionsOwn | None = REGIONS_OWN
) -> datetime:
    """When the reply is due (UTC) for a client message that arrived at `arrival`:
    `within` of business time (None: the end of the next business day); by default
    the region's own target. Which target applies is `triage.domain.targets`'."""
    _require_aware(arrival)
    arrival = arrival.astimezone(UTC)
    target = region.reply_within if isinstance(within, RegionsOwn) else within
    if target is None:
        return _next_business_day_close(arrival, region)
    if region.is_24x7:
        # Wall-clock regions count real elapsed time, DST changes included.
        return arrival + target
    return _add_business_time(arrival, target, region)


def business_time(start: datetime, end: datetime, region: Region) -> timedelta:
    """The business time between two instants (zero when `end` is not after `start`):
    how long a reply took in the hours that count against the target."""
    _require_aware(start)
    _require_aware(end)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return timedelta(0)
    if region.is_24x7:
        return end - start
    total = timedelta(0)
    for opens, closes in _intervals_from(start, region):
        if opens >= end:
            break
        total += min(closes, end) - max(opens, start)
    return total


def _add_business_time(start: datetime, target: timedelta, region: Region) -> datetime:
    """`start` plus `target` of business time, rolling over each closing."""
    remaining = target
    for opens, closes in _intervals_from(start, region):
        begin = max(opens, start)
        available = closes - begin
        # `<=`: a deadline landing exactly on the close stays on it.
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise AssertionError("unreachable: _intervals_from raises when it runs out")


def _next_business_day_close(arrival: datetime, region: Region) -> datetime:
    """Close of the next business day after the local day the message arrived on.

    Counted from the arrival's calendar day whatever its hour, so Monday 07:00
    and Monday 20:00 are both due Tuesday at close, and a Saturday or Sunday
    arrival is due Monday at close (Monday is the next business day after the
    weekend day). 24x7 regions: the end of the next calendar day (local midnight).
    """
    zone = _zone(region.timezone)
    arrived_on = local_time(arrival, region).date()
    if region.is_24x7:
        return datetime.combine(arrived_on + timedelta(days=2), time(0), tzinfo=zone).astimezone(
            UTC
        )
    day = arrived_on
    for _ in range(MAX_CLOSED_DAYS):
        day += timedelta(days=1)
        interval = _day_interval(day, region)
        if interval is not None:
            return interval[1]
    raise ValueError(f"region {region.id!r} has no business day in {MAX_CLOSED_DAYS} days")
