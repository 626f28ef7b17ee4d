"""Worked examples for the business calendar, each expected value reasoned out by hand.

Each row is (arrival, expected clock start, expected deadline) as local times
"Www MM-DD HH:MM ZZZ" in 2026. The parser checks the weekday and that the zone
abbreviation is the one the region's zone uses at that instant, so a slip in
a hand-written date or DST offset fails loudly instead of testing nothing.

2026 facts the rows rely on: DST starts Sun 03-08 and ends Sun 11-01 (US and
Canada). The `holidays` package lists Thanksgiving Thu 11-26 but not the
Friday after, Veterans Day Wed 11-11, Independence Day Sat 07-04 observed Fri
07-03 (US only), Canada Day Wed 07-01, and the Fete nationale Wed 06-24 for
CA-QC but not CA-ON. Next-business-day is the close of the next business day
after the local day of arrival (Saturday -> Monday close).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest

from triage.domain import calendar
from triage.domain.model import Region

US_EAST = Region("us-east", "US Northeast", "America/New_York", "US", (time(8), time(18)))
US_EAST_90 = Region(
    "us-east-90",
    "US 90m",
    "America/New_York",
    "US",
    (time(8), time(18)),
    reply_within=timedelta(minutes=90),
)
US_EAST_NBD = Region(
    "us-east-nbd", "US NBD", "America/New_York", "US", (time(8), time(18)), reply_within=None
)
US_WEST = Region(
    "us-west",
    "US West",
    "America/Los_Angeles",
    "US",
    (time(8), time(17)),
    reply_within=timedelta(hours=2),
)
CA_QC = Region(
    "ca-qc", "Quebec", "America/Toronto", "CA-QC", (time(9), time(17)), reply_within=None
)
CA_ON = Region(
    "ca-on", "Ontario", "America/Toronto", "CA-ON", (time(9), time(17)), reply_within=None
)
CA_QC_1H = Region("ca-qc-1h", "Quebec 1h", "America/Toronto", "CA-QC", (time(9), time(17)))
CA_ON_1H = Region("ca-on-1h", "Ontario 1h", "America/Toronto", "CA-ON", (time(9), time(17)))
# 24x7 with a holiday calendar, to show that holidays are ignored.
ALWAYS = Region("always", "24x7", "America/New_York", "US", None, reply_within=timedelta(hours=2))
ALWAYS_NBD = Region("always-nbd", "24x7 NBD", "America/New_York", "US", None, reply_within=None)
# Open 01:00-04:00 every day, so business hours contain the 02:00 DST changes:
# Mar 8 opens 01:00 EST (06:00Z), closes 04:00 EDT (08:00Z): 2 real hours;
# Nov 1 opens 01:00 EDT (05:00Z), closes 04:00 EST (09:00Z): 4 real hours.
NIGHT = Region(
    "night",
    "Night desk",
    "America/New_York",
    "",
    (time(1), time(4)),
    days=frozenset(range(7)),
    reply_within=timedelta(hours=2),
)
# Overnight shift: a weekday's hours run 22:00 to 06:00 the next morning.
OVERNIGHT = Region("overnight", "Overnight", "America/New_York", "", (time(22), time(6)))

US_EAST_ROWS = [
    ("Mon 03-02 10:00 EST", "Mon 03-02 10:00 EST", "Mon 03-02 11:00 EST"),  # mon morning
    ("Mon 03-02 08:00 EST", "Mon 03-02 08:00 EST", "Mon 03-02 09:00 EST"),  # exactly at opening
    ("Mon 03-02 18:00 EST", "Tue 03-03 08:00 EST", "Tue 03-03 09:00 EST"),  # exactly at closing
    ("Tue 03-03 06:15 EST", "Tue 03-03 08:00 EST", "Tue 03-03 09:00 EST"),  # before opening
    ("Mon 03-02 17:30 EST", "Mon 03-02 17:30 EST", "Tue 03-03 08:30 EST"),  # 1h crosses closing
    ("Mon 03-02 17:00 EST", "Mon 03-02 17:00 EST", "Mon 03-02 18:00 EST"),  # due at close
    ("Fri 03-06 19:00 EST", "Mon 03-09 08:00 EDT", "Mon 03-09 09:00 EDT"),  # fri evening, DST
    ("Fri 03-06 17:45 EST", "Fri 03-06 17:45 EST", "Mon 03-09 08:45 EDT"),  # fri rolls over
    ("Sat 03-07 12:00 EST", "Mon 03-09 08:00 EDT", "Mon 03-09 09:00 EDT"),  # saturday
    ("Sun 03-08 03:30 EDT", "Mon 03-09 08:00 EDT", "Mon 03-09 09:00 EDT"),  # sunday, DST
    ("Thu 11-26 10:00 EST", "Fri 11-27 08:00 EST", "Fri 11-27 09:00 EST"),  # thanksgiving
    ("Wed 11-25 17:30 EST", "Wed 11-25 17:30 EST", "Fri 11-27 08:30 EST"),  # thanksgiving eve
    ("Fri 11-27 12:00 EST", "Fri 11-27 12:00 EST", "Fri 11-27 13:00 EST"),  # black friday open
    ("Thu 07-02 17:30 EDT", "Thu 07-02 17:30 EDT", "Mon 07-06 08:30 EDT"),  # july 3 observed
    ("Fri 07-03 10:00 EDT", "Mon 07-06 08:00 EDT", "Mon 07-06 09:00 EDT"),  # on july 3 observed
    ("Wed 07-01 10:00 EDT", "Wed 07-01 10:00 EDT", "Wed 07-01 11:00 EDT"),  # open on canada day
    ("Wed 06-24 10:00 EDT", "Wed 06-24 10:00 EDT", "Wed 06-24 11:00 EDT"),  # fete natl: US open
    ("Sun 11-01 01:30 EDT", "Mon 11-02 08:00 EST", "Mon 11-02 09:00 EST"),  # 1st 01:30
    ("Sun 11-01 01:30 EST", "Mon 11-02 08:00 EST", "Mon 11-02 09:00 EST"),  # 2nd 01:30
    ("Fri 10-30 17:30 EDT", "Fri 10-30 17:30 EDT", "Mon 11-02 08:30 EST"),  # over fall-back
    ("Tue 11-10 17:45 EST", "Tue 11-10 17:45 EST", "Thu 11-12 08:45 EST"),  # veterans day eve
]
US_EAST_90_ROWS = [
    ("Mon 03-02 17:00 EST", "Mon 03-02 17:00 EST", "Tue 03-03 08:30 EST"),  # crosses closing
    ("Mon 03-02 09:15 EST", "Mon 03-02 09:15 EST", "Mon 03-02 10:45 EST"),  # same day
    ("Fri 11-27 17:00 EST", "Fri 11-27 17:00 EST", "Mon 11-30 08:30 EST"),  # black friday
    ("Wed 11-25 16:30 EST", "Wed 11-25 16:30 EST", "Wed 11-25 18:00 EST"),  # exactly at close
]
US_WEST_ROWS = [
    ("Mon 03-02 16:00 PST", "Mon 03-02 16:00 PST", "Tue 03-03 09:00 PST"),  # 2h crosses closing
    ("Fri 03-06 16:30 PST", "Fri 03-06 16:30 PST", "Mon 03-09 09:30 PDT"),  # DST weekend
    ("Wed 11-25 16:00 PST", "Wed 11-25 16:00 PST", "Fri 11-27 09:00 PST"),  # thanksgiving eve
]
US_EAST_NBD_ROWS = [
    ("Mon 03-02 10:00 EST", "Mon 03-02 10:00 EST", "Tue 03-03 18:00 EST"),  # mon morning
    ("Mon 03-02 07:00 EST", "Mon 03-02 08:00 EST", "Tue 03-03 18:00 EST"),  # mon before opening
    ("Fri 03-06 20:00 EST", "Mon 03-09 08:00 EDT", "Mon 03-09 18:00 EDT"),  # fri night
    ("Sat 03-07 11:00 EST", "Mon 03-09 08:00 EDT", "Mon 03-09 18:00 EDT"),  # saturday
    ("Wed 11-25 15:00 EST", "Wed 11-25 15:00 EST", "Fri 11-27 18:00 EST"),  # thanksgiving eve
    ("Thu 11-26 09:00 EST", "Fri 11-27 08:00 EST", "Fri 11-27 18:00 EST"),  # on thanksgiving
    ("Thu 07-02 12:00 EDT", "Thu 07-02 12:00 EDT", "Mon 07-06 18:00 EDT"),  # july 3 observed
]
CA_QC_ROWS = [
    ("Tue 06-23 11:00 EDT", "Tue 06-23 11:00 EDT", "Thu 06-25 17:00 EDT"),  # fete nationale eve
    ("Wed 06-24 10:00 EDT", "Thu 06-25 09:00 EDT", "Thu 06-25 17:00 EDT"),  # on fete nationale
    ("Wed 07-01 10:00 EDT", "Thu 07-02 09:00 EDT", "Thu 07-02 17:00 EDT"),  # on canada day
]
CA_ON_ROWS = [
    ("Tue 06-23 11:00 EDT", "Tue 06-23 11:00 EDT", "Wed 06-24 17:00 EDT"),  # fete nationale eve
    ("Wed 06-24 10:00 EDT", "Wed 06-24 10:00 EDT", "Thu 06-25 17:00 EDT"),  # on fete nationale
    ("Tue 06-30 16:00 EDT", "Tue 06-30 16:00 EDT", "Thu 07-02 17:00 EDT"),  # canada day eve
    ("Thu 07-02 10:00 EDT", "Thu 07-02 10:00 EDT", "Fri 07-03 17:00 EDT"),  # jul 3 open
    ("Fri 07-03 10:00 EDT", "Fri 07-03 10:00 EDT", "Mon 07-06 17:00 EDT"),  # fri july 3
]
CA_QC_1H_ROWS = [
    ("Tue 06-23 16:30 EDT", "Tue 06-23 16:30 EDT", "Thu 06-25 09:30 EDT"),  # QC closed 24th
]
CA_ON_1H_ROWS = [
    ("Tue 06-23 16:30 EDT", "Tue 06-23 16:30 EDT", "Wed 06-24 09:30 EDT"),  # ON open 24th
]
ALWAYS_ROWS = [
    ("Sun 03-08 01:30 EST", "Sun 03-08 01:30 EST", "Sun 03-08 04:30 EDT"),  # skipped hour
    ("Sun 03-08 00:30 EST", "Sun 03-08 00:30 EST", "Sun 03-08 03:30 EDT"),  # skipped hour
    ("Sun 11-01 00:30 EDT", "Sun 11-01 00:30 EDT", "Sun 11-01 01:30 EST"),  # repeated hour
    ("Sun 11-01 01:30 EDT", "Sun 11-01 01:30 EDT", "Sun 11-01 02:30 EST"),  # 1st 01:30
    ("Thu 11-26 10:00 EST", "Thu 11-26 10:00 EST", "Thu 11-26 12:00 EST"),  # thanksgiving
    ("Sat 03-07 23:00 EST", "Sat 03-07 23:00 EST", "Sun 03-08 01:00 EST"),  # sat night
]
ALWAYS_NBD_ROWS = [
    ("Mon 03-02 10:00 EST", "Mon 03-02 10:00 EST", "Wed 03-04 00:00 EST"),  # monday
    ("Sat 03-07 10:00 EST", "Sat 03-07 10:00 EST", "Mon 03-09 00:00 EDT"),  # DST
    ("Sat 10-31 23:30 EDT", "Sat 10-31 23:30 EDT", "Mon 11-02 00:00 EST"),  # DST
]
NIGHT_ROWS = [
    ("Sun 03-08 01:00 EST", "Sun 03-08 01:00 EST", "Sun 03-08 04:00 EDT"),  # spring day is 2h
    ("Sun 03-08 01:30 EST", "Sun 03-08 01:30 EST", "Mon 03-09 01:30 EDT"),  # spring rolls over
    ("Sun 03-08 00:30 EST", "Sun 03-08 01:00 EST", "Sun 03-08 04:00 EDT"),  # before open
    ("Sun 03-08 03:15 EDT", "Sun 03-08 03:15 EDT", "Mon 03-09 02:15 EDT"),  # spring after gap
    ("Sun 11-01 01:00 EDT", "Sun 11-01 01:00 EDT", "Sun 11-01 02:00 EST"),  # fall from opening
    ("Sun 11-01 01:30 EST", "Sun 11-01 01:30 EST", "Sun 11-01 03:30 EST"),  # fall second 0130
    ("Sun 11-01 03:30 EST", "Sun 11-01 03:30 EST", "Mon 11-02 02:30 EST"),  # fall rolls over
]
OVERNIGHT_ROWS = [
    ("Tue 03-03 05:30 EST", "Tue 03-03 05:30 EST", "Tue 03-03 22:30 EST"),  # in monday shift
    ("Sat 03-07 03:00 EST", "Sat 03-07 03:00 EST", "Sat 03-07 04:00 EST"),  # fri shift
    ("Sat 03-07 07:00 EST", "Mon 03-09 22:00 EDT", "Mon 03-09 23:00 EDT"),  # weekend
]

_OFFSETS = {"EST": -5, "EDT": -4, "PST": -8, "PDT": -7}


def _at(text: str, region: Region) -> datetime:
    """Parse "Mon 03-02 10:00 EST" (2026), checking weekday and zone offset."""
    weekday, month_day, hour_minute, abbr = text.split()
    month, day = (int(n) for n in month_day.split("-"))
    hour, minute = (int(n) for n in hour_minute.split(":"))
    parsed = datetime(
        2026, month, day, hour, minute, tzinfo=timezone(timedelta(hours=_OFFSETS[abbr]))
    )
    assert parsed.strftime("%a") == weekday, f"{text}: that date is a {parsed:%a}"
    local = parsed.astimezone(ZoneInfo(region.timezone))
    assert local.tzname() == abbr, f"{text}: {region.timezone} is on {local.tzname()} then"
    assert local.hour == hour, f"{text}: not a wall-clock time in {region.timezone}"
    return parsed


def _table(region: Region, rows: list[tuple[str, str, str]]) -> list[object]:
    return [pytest.param(region, *row, id=f"{region.id} {row[0]}") for row in rows]


EXAMPLES = [
    *_table(US_EAST, US_EAST_ROWS),
    *_table(US_EAST_90, US_EAST_90_ROWS),
    *_table(US_WEST, US_WEST_ROWS),
    *_table(US_EAST_NBD, US_EAST_NBD_ROWS),
    *_table(CA_QC, CA_QC_ROWS),
    *_table(CA_ON, CA_ON_ROWS),
    *_table(CA_QC_1H, CA_QC_1H_ROWS),
    *_table(CA_ON_1H, CA_ON_1H_ROWS),
    *_table(ALWAYS, ALWAYS_ROWS),
    *_table(ALWAYS_NBD, ALWAYS_NBD_ROWS),
    *_table(NIGHT, NIGHT_ROWS),
    *_table(OVERNIGHT, OVERNIGHT_ROWS),
]


@pytest.mark.parametrize(("region", "arrival", "start", "due"), EXAMPLES)
def test_clock_start_and_deadline(region: Region, arrival: str, start: str, due: str) -> None:
    arrived = _at(arrival, region)
    got_start = calendar.clock_start(arrived, region)
    got_due = calendar.deadline(arrived, region)
    assert got_start == _at(start, region)
    assert got_due == _at(due, region)
    assert got_start.tzinfo is UTC and got_due.tzinfo is UTC


def test_there_are_at_least_forty_worked_examples() -> None:
    assert len(EXAMPLES) >= 40


def test_the_table_parser_rejects_a_wrong_weekday_or_offset() -> None:
    with pytest.raises(AssertionError):
        _at("Tue 03-02 10:00 EST", US_EAST)
    with pytest.raises(AssertionError):
        _at("Mon 03-09 10:00 EST", US_EAST)


@pytest.mark.parametrize(
    ("region", "at", "expected"),
    [
        pytest.param(US_EAST, "Mon 03-02 07:59 EST", False, id="before-opening"),
        pytest.param(US_EAST, "Mon 03-02 08:00 EST", True, id="at-opening"),
        pytest.param(US_EAST, "Mon 03-02 17:59 EST", True, id="before-closing"),
        pytest.param(US_EAST, "Mon 03-02 18:00 EST", False, id="at-closing"),
        pytest.param(US_EAST, "Sat 03-07 12:00 EST", False, id="saturday"),
        pytest.param(US_EAST, "Thu 11-26 12:00 EST", False, id="thanksgiving"),
        pytest.param(US_EAST, "Fri 07-03 12:00 EDT", False, id="july-3-observed"),
        pytest.param(CA_ON, "Fri 07-03 12:00 EDT", True, id="ontario-july-3"),
        pytest.param(CA_QC, "Wed 06-24 12:00 EDT", False, id="quebec-fete-nationale"),
        pytest.param(CA_ON, "Wed 06-24 12:00 EDT", True, id="ontario-fete-nationale"),
        pytest.param(ALWAYS, "Thu 11-26 03:00 EST", True, id="24x7-holiday-night"),
        pytest.param(OVERNIGHT, "Sat 03-07 05:59 EST", True, id="overnight-friday-shift"),
        pytest.param(OVERNIGHT, "Sat 03-07 06:00 EST", False, id="overnight-shift-end"),
    ],
)
def test_is_open(region: Region, at: str, expected: bool) -> None:
    assert calendar.is_open(_at(at, region), region) is expected


def test_local_time_is_the_regions_wall_clock() -> None:
    local = calendar.local_time(datetime(2026, 7, 1, 16, 0, tzinfo=UTC), US_WEST)
    assert (local.hour, local.minute, local.tzname()) == (9, 0, "PDT")


class _NoOffset(tzinfo):
    """A tzinfo that does not know its offset: as unusable as no tzinfo at all."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None


@pytest.mark.parametrize(
    "entry", [calendar.local_time, calendar.is_open, calendar.clock_start, calendar.deadline]
)
@pytest.mark.parametrize(
    "at",
    [datetime(2026, 3, 2, 10), datetime(2026, 3, 2, 10, tzinfo=_NoOffset())],
    ids=["naive", "no-offset"],
)
def test_every_entry_point_refuses_a_time_without_an_offset(
    entry: Callable[[datetime, Region], object], at: datetime
) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        entry(at, US_EAST)


def test_a_24x7_region_has_a_business_day_on_every_holiday_and_weekend() -> None:
    assert calendar.is_business_day(date(2026, 11, 26), ALWAYS)  # thanksgiving
    assert calendar.is_business_day(date(2026, 3, 7), ALWAYS)  # saturday
    assert not calendar.is_business_day(date(2026, 11, 26), US_EAST)


# Hours that open and close at the same minute: each business day is 24 hours long,
# from its opening to the same time the next day (the close is not after the open).
ROUND_THE_CLOCK = Region("rtc", "Weekdays round the clock", "America/New_York", "",
                         (time(9), time(9)))  # fmt: skip


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("Mon 03-02 08:59 EST", False),  # sunday's shift: none
        ("Mon 03-02 09:00 EST", True),
        ("Tue 03-03 03:00 EST", True),  # monday's shift, overnight
        ("Sat 03-07 08:59 EST", True),  # friday's shift ends saturday 09:00
        ("Sat 03-07 09:00 EST", False),
    ],
)
def test_hours_that_open_and_close_at_the_same_minute_last_a_whole_day(
    at: str, expected: bool
) -> None:
    assert calendar.is_open(_at(at, ROUND_THE_CLOCK), ROUND_THE_CLOCK) is expected


def test_an_hour_left_of_a_round_the_clock_friday_runs_on_monday() -> None:
    arrival = _at("Sat 03-07 08:30 EST", ROUND_THE_CLOCK)
    assert calendar.deadline(arrival, ROUND_THE_CLOCK) == _at(
        "Mon 03-09 09:30 EDT", ROUND_THE_CLOCK
    )


# Open 02:00-03:00 every day: on Sun 03-08 that hour does not exist (02:00 EST is
# 03:00 EDT), so that day has no business time at all.
SKIPPED = Region("skipped", "Skipped hour", "America/New_York", "", (time(2), time(3)),
                 days=frozenset(range(7)))  # fmt: skip


def test_a_day_whose_business_hour_is_skipped_by_dst_is_closed() -> None:
    arrival = _at("Sun 03-08 00:30 EST", SKIPPED)
    assert calendar.clock_start(arrival, SKIPPED) == _at("Mon 03-09 02:00 EDT", SKIPPED)
    assert calendar.deadline(arrival, SKIPPED) == _at("Mon 03-09 03:00 EDT", SKIPPED)
    assert not calendar.is_open(_at("Sun 03-08 03:00 EDT", SKIPPED), SKIPPED)


MONDAYS = Region("mondays", "Mondays only", "America/New_York", "", days=frozenset({0}))


@pytest.mark.parametrize(
    ("arrival", "guard", "raises"),
    [
        ("Tue 03-03 12:00 EST", 6, True),  # tuesday..sunday: six closed days in a row
        ("Tue 03-03 12:00 EST", 7, False),
        ("Wed 03-04 12:00 EST", 7, False),  # counted from tuesday, the day before
        ("Thu 03-05 12:00 EST", 6, False),  # wednesday..sunday: five
    ],
)
def test_the_guard_counts_closed_days_in_a_row_from_the_day_before_arrival(
    monkeypatch: pytest.MonkeyPatch, arrival: str, guard: int, raises: bool
) -> None:
    """A run of closed days as long as the guard is an error; a shorter one is walked."""
    monkeypatch.setattr(calendar, "MAX_CLOSED_DAYS", guard)
    at = _at(arrival, MONDAYS)
    if raises:
        with pytest.raises(ValueError, match="no business day"):
            calendar.clock_start(at, MONDAYS)
    else:
        assert calendar.clock_start(at, MONDAYS) == _at("Mon 03-09 09:00 EDT", MONDAYS)


def test_a_region_that_never_opens_raises_instead_of_looping() -> None:
    never = Region("never", "Never", "America/New_York", "", (time(9), time(17)), days=frozenset())
    arrival = datetime(2026, 3, 2, 15, tzinfo=UTC)
    with pytest.raises(ValueError, match="no business day"):
        calendar.deadline(arrival, never)
    with pytest.raises(ValueError, match="no business day"):
        calendar.deadline(
            arrival, Region("never-nbd", "N", "UTC", "", days=frozenset(), reply_within=None)
        )
