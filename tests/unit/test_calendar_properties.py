"""Property tests for triage.domain.calendar: invariants over generated regions and 2026 arrivals.

The business-time checks compare against `_ref_open`, a deliberately naive
reference that reads the local wall clock minute by minute (no intervals, no
UTC arithmetic), so it shares no code with the implementation under test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from triage.domain import calendar
from triage.domain.model import Region

ZONES = ["America/New_York", "America/Toronto", "America/Chicago", "America/Los_Angeles"]
CALENDARS = ["", "US", "US-NY", "CA-QC", "CA-ON"]
# (1, 4) puts the 02:00 DST changes inside business hours; (22, 6) is an overnight shift.
HOURS = [None, (time(8), time(18)), (time(9), time(17)), (time(1), time(4)), (time(22), time(6))]
DAYS = [frozenset(range(5)), frozenset(range(6)), frozenset(range(7)), frozenset({0, 2, 4})]
TARGETS = [timedelta(minutes=30), timedelta(hours=1), timedelta(minutes=90), timedelta(hours=8)]

YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2026, 12, 31, tzinfo=UTC)


@st.composite
def regions(draw: st.DrawFn, targets: list[timedelta | None] | None = None) -> Region:
    choices = targets if targets is not None else [*TARGETS, None]
    return Region(
        id="r",
        label="generated",
        timezone=draw(st.sampled_from(ZONES)),
        holidays=draw(st.sampled_from(CALENDARS)),
        hours=draw(st.sampled_from(HOURS)),
        days=draw(st.sampled_from(DAYS)),
        reply_within=draw(st.sampled_from(choices)),
    )


def _between(start: datetime, end: datetime) -> st.SearchStrategy[datetime]:
    naive = st.datetimes(min_value=start.replace(tzinfo=None), max_value=end.replace(tzinfo=None))
    return naive.map(lambda at: at.replace(tzinfo=UTC))


# Half the arrivals land within two days of a 2026 DST change, where bugs hide.
arrivals = st.one_of(
    _between(YEAR_START, YEAR_END),
    _between(datetime(2026, 3, 6, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC)),
    _between(datetime(2026, 10, 30, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)),
)
minute_arrivals = arrivals.map(lambda at: at.replace(second=0, microsecond=0))
common = settings(max_examples=200, deadline=None)


def _closed_day(day: date, region: Region) -> bool:
    country, _, subdiv = region.holidays.partition("-")
    calendar = holidays.country_holidays(country, subdiv=subdiv or None) if country else {}
    return day.weekday() not in region.days or day in calendar


def _ref_open(at: datetime, region: Region) -> bool:
    """Open per the local wall clock: the naive reading of the region's rules."""
    if region.hours is None:
        return True
    local = at.astimezone(ZoneInfo(region.timezone))
    opens, closes = region.hours
    today, clock = local.date(), local.time().replace(tzinfo=None)
    if opens < closes:
        return not _closed_day(today, region) and opens <= clock < closes
    # Overnight: the evening part of today's shift, or the morning part of yesterday's.
    yesterday = today - timedelta(days=1)
    return (clock >= opens and not _closed_day(today, region)) or (
        clock < closes and not _closed_day(yesterday, region)
    )


@common
@given(regions(), arrivals)
def test_clock_start_and_deadline_are_ordered(region: Region, arrival: datetime) -> None:
    start = calendar.clock_start(arrival, region)
    due = calendar.deadline(arrival, region)
    assert arrival <= start <= due
    assert calendar.is_open(start, region)
    assert calendar.clock_start(start, region) == start


@common
@given(regions(), arrivals)
def test_deadline_is_in_business_hours_or_at_a_closing(region: Region, arrival: datetime) -> None:
    if region.hours is None:
        return
    due = calendar.deadline(arrival, region)
    if calendar.is_open(due, region):
        return
    # Not open at the deadline: then it must be a closing instant.
    assert calendar.is_open(due - timedelta(microseconds=1), region)
    assert calendar.local_time(due, region).time() == region.hours[1]


@common
@given(regions(), arrivals, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10)))
def test_a_later_arrival_never_gets_an_earlier_deadline(
    region: Region, arrival: datetime, later_by: timedelta
) -> None:
    assert calendar.deadline(arrival, region) <= calendar.deadline(arrival + later_by, region)
    assert calendar.clock_start(arrival, region) <= calendar.clock_start(arrival + later_by, region)


@common
@given(regions(targets=TARGETS), arrivals)
def test_duration_deadline_only_depends_on_the_clock_start(
    region: Region, arrival: datetime
) -> None:
    start = calendar.clock_start(arrival, region)
    assert calendar.deadline(start, region) == calendar.deadline(arrival, region)
    if region.hours is None:
        assert calendar.deadline(arrival, region) - start == region.reply_within


@common
@given(regions(targets=[None]), arrivals)
def test_next_business_day_is_the_close_of_the_first_business_day_after_arrival(
    region: Region, arrival: datetime
) -> None:
    due_local = calendar.local_time(calendar.deadline(arrival, region), region)
    arrived_on = calendar.local_time(arrival, region).date()
    if region.hours is None:
        assert due_local.time() == time(0)
        assert due_local.date() == arrived_on + timedelta(days=2)
        return
    assert due_local.time() == region.hours[1]
    shift_day = due_local.date() - timedelta(days=0 if region.hours[0] < region.hours[1] else 1)
    assert shift_day > arrived_on
    assert not _closed_day(shift_day, region)
    between = (arrived_on + timedelta(days=n) for n in range(1, (shift_day - arrived_on).days))
    assert all(_closed_day(day, region) for day in between)


@settings(max_examples=25, deadline=None)
@given(
    regions(targets=[timedelta(minutes=30), timedelta(hours=1), timedelta(minutes=90)]),
    minute_arrivals,
)
def test_business_minutes_match_a_minute_stepping_reference(
    region: Region, arrival: datetime
) -> None:
    if region.hours is None:
        return
    assert region.reply_within is not None
    start = calendar.clock_start(arrival, region)
    due = calendar.deadline(arrival, region)
    minute = timedelta(minutes=1)
    # The clock starts at the first reference-open minute at or after arrival.
    at = arrival
    while not _ref_open(at, region):
        at += minute
    assert start == at
    # Exactly the target's worth of open minutes lie in [start, deadline) ...
    counted = 0
    while at < due:
        counted += _ref_open(at, region)
        at += minute
    assert counted * minute == region.reply_within
    # ... and the last of them is open, so the deadline is the earliest such instant.
    assert _ref_open(due - minute, region)


@common
@given(
    regions(targets=TARGETS),
    st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 30)),
)
def test_a_target_that_ends_exactly_at_closing_stays_on_the_closing(
    region: Region, day: date
) -> None:
    if region.hours is None:
        return
    assert region.reply_within is not None
    opens, closes = region.hours
    close_day = day if opens < closes else day + timedelta(days=1)
    closing = datetime.combine(close_day, closes, tzinfo=ZoneInfo(region.timezone))
    arrival = closing.astimezone(UTC) - region.reply_within
    # Only when the whole target fits in one open stretch before that closing.
    steps = int(region.reply_within / timedelta(minutes=1))
    assume(all(_ref_open(arrival + timedelta(minutes=n), region) for n in range(steps)))
    assert calendar.deadline(arrival, region) == closing
