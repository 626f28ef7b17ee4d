"""Reading "when" for a snooze: an ISO 8601 instant, a duration, or a local phrase.

A phrase is read in the client's time zone, since that is whose day it is about:
"tomorrow 9:00", "mon 9:00", "17:30" (the next one), "today 16:00". A duration
("2h", "90m", "1d", "1h30m") counts wall-clock time from now; business time is not
needed for a reminder. Pure: `now` is given, nothing reads the clock.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

_DURATION = re.compile(r"(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?", re.I)
_CLOCK = re.compile(r"(\d{1,2})(?:[:h](\d{2}))?\s*(am|pm)?", re.I)
MAX_AHEAD = timedelta(days=366)
HELP = "a time such as 'tomorrow 9:00', 'mon 9:00', '17:30', '2h', '90m' or an ISO 8601 instant"


def parse_when(text: str, now: datetime, zone: tzinfo) -> datetime:
    """The instant `text` names (UTC), after `now` and within a year; ValueError if not."""
    words = " ".join(text.strip().lower().split())
    if not words:
        raise ValueError(f"say when: {HELP}")
    at = _duration(words, now) or _iso(words, zone) or _phrase(words, now, zone)
    if at is None:
        raise ValueError(f"{text.strip()!r} is not {HELP}")
    if at <= now:
        raise ValueError(f"{text.strip()!r} is in the past")
    if at - now > MAX_AHEAD:
        raise ValueError(f"{text.strip()!r} is more than a year away")
    return at.astimezone(UTC)


def _duration(words: str, now: datetime) -> datetime | None:
    m = _DURATION.fullmatch(words)  # spaces may part a number from its unit, not its digits
    if m is None or not any(m.groups()):
        return None
    d, h, mins = (int(g or 0) for g in m.groups())
    return now + timedelta(days=d, hours=h, minutes=mins)


def _iso(words: str, zone: tzinfo) -> datetime | None:
    try:
        at = datetime.fromisoformat(words.upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=zone)


def _phrase(words: str, now: datetime, zone: tzinfo) -> datetime | None:
    """`[today|tomorrow|<weekday>] [H[:MM][am|pm]]`, local to `zone`."""
    day, _, clock = words.partition(" ")
    if _clock(day) is not None and not clock:
        day, clock = "", day
    hour = _clock(clock) if clock else time(9)
    if hour is None:
        return None
    local = now.astimezone(zone)
    start = _day(day, local)
    if start is None:
        return None
    at = datetime.combine(start, hour, tzinfo=zone)
    if not day and at <= local:  # a bare time: the next one
        at = datetime.combine(start + timedelta(days=1), hour, tzinfo=zone)
    return at


def _day(word: str, local: datetime) -> date | None:
    today = local.date()
    if word in ("", "today"):
        return today
    if word == "tomorrow":
        return today + timedelta(days=1)
    full = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    for i, name in enumerate(full):
        if len(word) >= 3 and name.startswith(word):
            ahead = (i - today.weekday()) % 7 or 7  # "mon" on a Monday: next week's
            return today + timedelta(days=ahead)
    return None


def _clock(text: str) -> time | None:
    m = _CLOCK.fullmatch(text)
    if m is None:
        return None
    hour, minute, half = int(m.group(1)), int(m.group(2) or 0), (m.group(3) or "").lower()
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)
