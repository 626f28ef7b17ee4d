"""Dates, times and durations as each language writes them (triage.text.datefmt)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from triage.text import datefmt as D
from triage.text.i18n import set_language

WED_5PM = datetime(2026, 12, 2, 17, 0, tzinfo=ZoneInfo("America/Toronto"))


def test_english_keeps_the_compact_forms() -> None:
    assert D.day_time(WED_5PM) == "Wed 02 Dec 17:00"
    assert D.weekday_time(WED_5PM) == "Wed 17:00"
    assert D.clock(WED_5PM) == "17:00"
    assert D.relative(timedelta(minutes=45)) == "in 45 min"
    assert D.relative(-timedelta(hours=2)) == "2 h ago"
    assert D.full_date_time(WED_5PM) == "Wed 2026-12-02 17:00 EST"
    assert D.day_time(WED_5PM, compact=True) == "Wed 02 Dec 17:00"
    assert (D.day_month(WED_5PM), D.day_month_time(WED_5PM)) == ("02 Dec", "02 Dec 17:00")
    assert D.weekday_day(WED_5PM.date()) == "Wed 02"


def test_french_writes_days_months_and_hours_the_quebec_way() -> None:
    set_language("fr")
    assert D.day_time(WED_5PM) == "mer. 2 déc. 17 h 00"
    assert D.weekday_time(WED_5PM) == "mer. 17 h 00"
    assert D.weekday_time(WED_5PM, compact=True) == "mer 17:00"  # a 9-cell column
    assert D.relative(timedelta(minutes=45)) == "dans 45 min"
    assert D.relative(-timedelta(hours=2)) == "il y a 2 h"
    assert D.short_span(timedelta(days=3)) == "3 j"
    assert D.natural(timedelta(hours=2)) == "2 heures"
    assert D.full_date_time(WED_5PM) == "mer. 2026-12-02 17 h 00 EST"
    assert D.day_time(WED_5PM, compact=True) == "2 déc. 17:00"  # a line of 80 columns
    assert (D.day_month(WED_5PM), D.day_month_time(WED_5PM)) == ("2 déc.", "2 déc. 17 h 00")
    assert D.weekday_day(WED_5PM.date()) == "mer. 2"


def test_a_language_can_be_asked_for_whatever_the_console_speaks() -> None:
    assert D.weekday_time(WED_5PM, language="fr") == "mer. 17 h 00"
    set_language("fr")
    assert D.weekday_time(WED_5PM, language="en") == "Wed 17:00"


@pytest.mark.parametrize("month", range(1, 13))
def test_every_month_and_weekday_has_a_french_name(month: int) -> None:
    set_language("fr")
    at = datetime(2026, month, 1, 9, 5)
    day, _, rest = D.day_time(at).partition(" ")
    assert day.endswith(".") and rest.startswith("1 ") and rest.endswith("9 h 05")
    assert D.natural(timedelta(minutes=5)) == "5 minutes"
    set_language("en")
    assert D.natural(timedelta(minutes=5)) == "5 minutes"
