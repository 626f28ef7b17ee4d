"""Reading a snooze's "when" in the client's time zone (New York here)."""

from __future__ import annotations

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
