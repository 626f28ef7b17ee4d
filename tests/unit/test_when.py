"""Reading a snooze's "when" in the client's time zone (New York here)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from triage.domain.when import parse_when

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)  # Tuesday 15:00 in New York


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=NY).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tomorrow 9:00", local(25, 9)),
        ("Tomorrow  9am", local(25, 9)),
        ("tomorrow", local(25, 9)),
        ("mon 9:00", local(30, 9)),
        ("tuesday 8:30", datetime(2026, 12, 1, 8, 30, tzinfo=NY).astimezone(UTC)),  # next week
        ("17:30", local(24, 17, 30)),
        ("14:00", local(25, 14)),  # already past today: tomorrow's
        ("today 4pm", local(24, 16)),
        ("2h", NOW + timedelta(hours=2)),
        ("90m", NOW + timedelta(minutes=90)),
        ("1h30m", NOW + timedelta(minutes=90)),
        ("1d", NOW + timedelta(days=1)),
        ("2026-11-26T15:00:00Z", datetime(2026, 11, 26, 15, tzinfo=UTC)),
        ("2026-11-26T10:00", local(26, 10)),  # no zone: the client's
    ],
)  # fmt: skip
def test_each_way_of_saying_when(text: str, expected: datetime) -> None:
    assert parse_when(text, NOW, NY) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "say when"),
        ("later", "is not a time such as"),
        ("today 9:00", "in the past"),
        ("25:00", "is not a time"),
        ("13pm", "is not a time"),
        ("400d", "more than a year"),
        ("2026-11-20T10:00Z", "in the past"),
    ],
)
def test_what_cannot_be_read_says_why(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_when(text, NOW, NY)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1am", local(25, 1)),
        ("12am", local(25, 0)),  # midnight
        ("12pm", local(25, 12)),  # noon
        ("11:59pm", local(24, 23, 59)),
        ("23:59", local(24, 23, 59)),
        ("0:00", local(25, 0)),
    ],
)
def test_the_ends_of_the_clock_are_read_as_the_times_they_name(
    text: str, expected: datetime
) -> None:
    assert parse_when(text, NOW, NY) == expected


@pytest.mark.parametrize("text", ["0am", "0pm", "13am", "24:00", "9:60"])
def test_a_time_past_the_ends_of_the_clock_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a time"):
        parse_when(text, NOW, NY)


@pytest.mark.parametrize(
    ("text", "day"),
    [("wed", 25), ("thu", 26), ("fri", 27), ("sat", 28), ("sun", 29), ("monday", 30),
     ("wednesday 9:00", 25), ("thurs", 26), ("friday", 27), ("saturday", 28), ("sunday", 29)],
)  # fmt: skip
def test_every_weekday_is_the_next_one_at_nine_unless_a_time_is_given(text: str, day: int) -> None:
    assert parse_when(text, NOW, NY) == local(day, 9)


def test_the_day_is_the_client_s_even_when_utc_has_already_moved_on() -> None:
    late = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # Tuesday 22:00 in New York
    assert parse_when("tomorrow 9:00", late, NY) == local(25, 9)
    assert parse_when("today 23:00", late, NY) == local(24, 23)


def test_a_bare_time_that_is_now_means_tomorrow_s() -> None:
    assert parse_when("15:00", NOW, NY) == local(25, 15)


def test_now_itself_is_in_the_past_and_a_year_and_a_day_ahead_is_the_limit() -> None:
    with pytest.raises(ValueError, match="in the past"):
        parse_when("0m", NOW, NY)
    with pytest.raises(ValueError, match="in the past"):
        parse_when(NOW.isoformat(), NOW, NY)
    assert parse_when("366d", NOW, NY) == NOW + timedelta(days=366)
    with pytest.raises(ValueError, match="more than a year"):
        parse_when("367d", NOW, NY)


def test_spaces_between_numbers_and_units_are_fine_but_a_lone_number_is_not_a_duration() -> None:
    assert parse_when("1h 30m", NOW, NY) == NOW + timedelta(minutes=90)
    assert parse_when("1 d 2 h", NOW, NY) == NOW + timedelta(days=1, hours=2)
    with pytest.raises(ValueError, match="is not a time"):
        parse_when("1 30m", NOW, NY)  # "1h 30m" mistyped: not read as 130 minutes


def test_the_instant_is_given_in_utc_whatever_zone_the_machine_runs_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        for text in ("2h", "tomorrow 9:00", "2026-11-26T10:00"):
            assert parse_when(text, NOW, NY).utcoffset() == timedelta(0)
        assert parse_when("tomorrow 9:00", NOW, NY) == local(25, 9)
    finally:
        monkeypatch.undo()
        time.tzset()
