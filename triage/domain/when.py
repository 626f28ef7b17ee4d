"""Reading "when" for a snooze: an ISO 8601 instant, a duration, or a local phrase.

A phrase is read in the client's time zone, since that is whose day it is about:
"tomorrow 9:00", "mon 9:00", "17:30" (the next one), "today 16:00". A duration
("2h", "90m", "1d", "1h30m", "in 2h") counts wall-clock time from now; business time
is not needed for a reminder. French is read too, whatever the console's language:
"demain 9 h", "lundi 9:00", "aujourd'hui 16 h 30", "dans 2 h", "1 h 30", "2 j".
Pure: `now` is given, nothing reads the clock.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from triage.text.i18n import N_, _

_DURATION = re.compile(r"(?:(\d+)\s*[dj])?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?", re.I)
_HOURS_MINUTES = re.compile(r"(\d+)\s*h\s*(\d{1,2})")  # French "1 h 30": an hour and a half
_CLOCK = re.compile(r"(\d{1,2})(?:[:h](\d{2})?)?\s*(am|pm)?", re.I)
_FRENCH_CLOCK = re.compile(r"\b(\d{1,2}) ?h(?: ?(\d{2}))?$")  # "9 h", "9 h 30", "9h30"
_IN = ("in ", "dans ")
_DAY_WORDS = {"today": 0, "aujourd'hui": 0, "aujourd’hui": 0, "auj": 0, "tomorrow": 1,
              "demain": 1}  # fmt: skip
_WEEKDAYS = (("monday", "lundi"), ("tuesday", "mardi"), ("wednesday", "mercredi"),
             ("thursday", "jeudi"), ("friday", "vendredi"), ("saturday", "samedi"),
             ("sunday", "dimanche"))  # fmt: skip
MAX_AHEAD = timedelta(days=366)
HELP = N_("a time such as 'tomorrow 9:00', 'mon 9:00', '17:30', '2h', '90m' or an ISO 8601 "
          "instant")  # fmt: skip


def parse_when(text: str, now: datetime, zone: tzinfo) -> datetime:
    """The instant `text` names (UTC), after `now` and within a year; ValueError if not."""
    words = " ".join(text.strip().lower().split())
    if not words:
        raise ValueError(_("say when: {help}").format(help=_(HELP)))
    said = text.strip()
    if words.startswith(_IN):  # "in 2h", "dans 2 h": a duration and nothing else
        at = _duration(words.partition(" ")[2], now)
    elif words.startswith(("at ", "à ")):  # "à 17 h", "at 5pm": a time of day
        at = _phrase(words.partition(" ")[2], now, zone)
    else:
        at = _duration(words, now) or _iso(words, zone) or _phrase(words, now, zone)
    if at is None:
        raise ValueError(_("{said!r} is not {help}").format(said=said, help=_(HELP)))
    if at <= now:
        raise ValueError(_("{said!r} is in the past").format(said=said))
    if at - now > MAX_AHEAD:
        raise ValueError(_("{said!r} is more than a year away").format(said=said))
    return at.astimezone(UTC)


def _duration(words: str, now: datetime) -> datetime | None:
    if hm := _HOURS_MINUTES.fullmatch(words):
        words = f"{hm.group(1)}h{hm.group(2)}m"
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
    """`[today|tomorrow|<weekday>] [H[:MM][am|pm]]`, local to `zone`; French too
    (`demain [à] 9 h 30`)."""
    words = words.replace(" à ", " ")
    words = _FRENCH_CLOCK.sub(lambda m: f"{m.group(1)}:{m.group(2) or '00'}", words)
    day, _sep, clock = words.partition(" ")
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
    if word == "":
        return today
    if word in _DAY_WORDS:
        return today + timedelta(days=_DAY_WORDS[word])
    word = word.rstrip(".")  # "lun." as the console writes it in French
    for i, names in enumerate(_WEEKDAYS):
        if len(word) >= 3 and any(name.startswith(word) for name in names):
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
