"""Parse and check single config values: durations, hours, days, time zones, holidays.

Each parser takes the text a user wrote and returns a typed value, or raises
ValueError whose message says what would be valid; the config loader turns that
message into a Problem at the right key. Pure functions, but for the holiday
codes, which are remembered in the user's cache (`triage.config.holiday_codes`).
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from difflib import get_close_matches
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from triage.config import holiday_codes
from triage.text.i18n import _

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NEXT_BUSINESS_DAY = "next-business-day"
_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?")
# Counting a reply target through the business calendar costs time per day it spans;
# a month of business time is already more than any promise to a client.
MAX_DURATION = timedelta(days=30)
MAX_DURATION_TEXT = "720h (30 days)"
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")


def parse_duration(text: str) -> timedelta | None:
    """'45m', '1h30m', '2h' -> timedelta; 'next-business-day' -> None."""
    text = text.strip().lower().replace(" ", "")
    if text == NEXT_BUSINESS_DAY:
        return None
    m = _DURATION.fullmatch(text)
    if not text or not m:
        raise ValueError(
            _("bad duration {text!r} (use '45m', '1h30m', '2h' or '{NEXT_BUSINESS_DAY}')").format(
                text=text, NEXT_BUSINESS_DAY=NEXT_BUSINESS_DAY
            )
        )
    if len(m[1] or "") > 6 or len(m[2] or "") > 8:
        raise ValueError(
            _("duration {text!r} is too long (at most {MAX_DURATION_TEXT})").format(
                text=text, MAX_DURATION_TEXT=MAX_DURATION_TEXT
            )
        )
    span = timedelta(hours=int(m[1] or 0), minutes=int(m[2] or 0))
    if span <= timedelta(0):
        raise ValueError(_("duration {text!r} must be longer than zero").format(text=text))
    if span > MAX_DURATION:
        raise ValueError(
            _(
                "duration {text!r} is too long: a reply target is at most {most} of business "
                "time (use 'next-business-day' for a day's wait)"
            ).format(text=text, most=MAX_DURATION_TEXT)
        )
    return span


def _parse_clock(text: str) -> time:
    m = _CLOCK.fullmatch(text.strip())
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise ValueError(
            _("bad time {strip!r} (use HH:MM between 00:00 and 23:59)").format(strip=text.strip())
        )
    return time(int(m[1]), int(m[2]))


def parse_hours(text: str) -> tuple[time, time] | None:
    """'08:00-18:00' -> (open, close); '24x7' -> None."""
    if text.strip().lower() == "24x7":
        return None
    parts = text.split("-")
    if len(parts) != 2:
        raise ValueError(
            _("bad hours {text!r} (use 'HH:MM-HH:MM' such as '08:00-18:00', or '24x7')").format(
                text=text
            )
        )
    opening, closing = _parse_clock(parts[0]), _parse_clock(parts[1])
    if opening >= closing:
        raise ValueError(
            _("hours {text!r} must open before they close (same day)").format(text=text)
        )
    return opening, closing


_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _day(name: str) -> int:
    """A weekday by its three-letter or full English name ("mon", "Monday")."""
    key = name.strip().lower()
    if key in DAY_NAMES:
        return DAY_NAMES.index(key)
    if key in _FULL_DAY_NAMES:
        return _FULL_DAY_NAMES.index(key)
    raise ValueError(
        _("unknown day {strip!r} (use {join} or full names)").format(
            strip=name.strip(), join=", ".join(DAY_NAMES)
        )
    )


def parse_days(text: str) -> frozenset[int]:
    """'mon-fri', 'mon,wed,fri', 'sun-thu' (ranges wrap around) -> weekdays, Monday = 0."""
    days: set[int] = set()
    for item in text.split(","):
        first, _sep, last = item.partition("-")
        start = _day(first)
        end = _day(last) if last else start
        days.update((start + i) % 7 for i in range((end - start) % 7 + 1))
    return frozenset(days)


def check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        near = get_close_matches(name, available_timezones(), n=1)
        hint = (
            f"did you mean {near[0]!r}?" if near else "use an IANA name such as 'America/New_York'"
        )
        raise ValueError(
            _("unknown time zone {name!r} ({hint})").format(name=name, hint=hint)
        ) from None


def check_holidays(code: str) -> str:
    """Validate 'US', 'US-NY', 'CA-QC' (or '') against `holidays`; return it upper-cased."""
    code = code.strip().upper()
    if not code:
        return ""
    country, _sep, subdiv = code.partition("-")
    if country not in holiday_codes.countries():
        raise ValueError(
            _("unknown holiday country {country!r} (use an ISO code such as 'US' or 'CA')").format(
                country=country
            )
        )
    if not subdiv:
        return code
    subdivisions = holiday_codes.subdivisions(country)
    if subdiv not in subdivisions:
        valid = ", ".join(subdivisions) or "none"
        raise ValueError(
            _("unknown subdivision {subdiv!r} of {country} (valid: {valid})").format(
                subdiv=subdiv, country=country, valid=valid
            )
        )
    return code
