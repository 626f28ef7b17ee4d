"""Dates, times and durations as the language spoken writes them.

English keeps the console's compact forms ("Wed 17:00", "Wed 02 Dec 17:00");
French writes "mer. 17 h 00", "mer. 2 déc. 17 h 00", "dans 45 min", "il y a 2 h"
(Office québécois de la langue française usage). A small table of our own, not
Babel: importing babel.dates costs ~30 ms at start, and these few forms are all
the console needs. The instant is formatted in the zone it carries: callers
convert to the client's or the manager's zone first, as before.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

from triage.text.i18n import _, current

_FR_DAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
_FR_MONTHS = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.",
              "oct.", "nov.", "déc.")  # fmt: skip


def _french(language: str | None = None) -> bool:
    return (language or current()) == "fr"


def clock(at: datetime, *, compact: bool = False, language: str | None = None) -> str:
    """The time of day: "17:00"; French "17 h 00" (`compact`: "17:00", for narrow cells).
    `language`: this one rather than the console's (a reply template's)."""
    if _french(language) and not compact:
        return f"{at.hour} h {at.minute:02d}"
    return f"{at:%H:%M}"


def weekday(at: datetime, language: str | None = None) -> str:
    """The abbreviated weekday: "Wed", "mer."."""
    return _FR_DAYS[at.weekday()] if _french(language) else f"{at:%a}"


def weekday_time(at: datetime, *, compact: bool = False, language: str | None = None) -> str:
    """ "Wed 17:00", "mer. 17 h 00" (`compact`, for a 9-cell column: "mer 17:00")."""
    day = weekday(at, language)
    return f"{day.rstrip('.') if compact else day} {clock(at, compact=compact, language=language)}"


def day(at: datetime) -> str:
    """ "Wed 02 Dec", "mer. 2 déc."."""
    if _french():
        return f"{weekday(at)} {at.day} {_FR_MONTHS[at.month - 1]}"
    return f"{at:%a %d %b}"


def day_time(at: datetime, *, compact: bool = False) -> str:
    """ "Wed 02 Dec 17:00", "mer. 2 déc. 17 h 00" (`compact`, for a line that must
    fit 80 columns: "2 déc. 17:00"; English is compact already)."""
    if compact and _french():
        return f"{day_month(at)} {clock(at, compact=True)}"
    return f"{day(at)} {clock(at)}"


def day_month(at: date) -> str:
    """The day of the month and the month: "02 Dec", "2 déc."."""
    return f"{at.day} {_FR_MONTHS[at.month - 1]}" if _french() else f"{at:%d %b}"


def day_month_time(at: datetime) -> str:
    """ "02 Dec 17:00", "2 déc. 17 h 00" (a table cell: the weekday left out)."""
    return f"{day_month(at)} {clock(at)}"


def weekday_day(at: date) -> str:
    """The weekday and the day of the month: "Wed 02", "mer. 2" (a chart's ticks)."""
    return f"{_FR_DAYS[at.weekday()]} {at.day}" if _french() else f"{at:%a %d}"


def full_date_time(at: datetime) -> str:
    """With the year and zone, for the CLI: "Wed 2026-12-02 17:00 EST"."""
    if _french():
        return f"{weekday(at)} {at:%Y-%m-%d} {clock(at)} {at:%Z}".rstrip()
    return at.strftime("%a %Y-%m-%d %H:%M %Z")


def short_span(delta: timedelta) -> str:
    """A rounded length: "45 min", "2 h", "3 d" ("3 j" in French)."""
    minutes = max(0, math.ceil(delta.total_seconds() / 60))
    if minutes < 60:
        return _("{n} min").format(n=minutes)
    if minutes < 48 * 60:
        return _("{n} h").format(n=round(minutes / 60))
    return _("{n} d").format(n=round(minutes / 1440))


def relative(delta: timedelta) -> str:
    """From now: "in 45 min" / "dans 45 min"; in the past "2 h ago" / "il y a 2 h"."""
    if delta >= timedelta(0):
        return _("in {span}").format(span=short_span(delta))
    return _("{span} ago").format(span=short_span(-delta))


_humanize_language = "en"


def natural(delta: timedelta) -> str:
    """humanize's natural delta in the language: "2 hours", "2 heures"."""
    global _humanize_language
    import humanize  # already loaded by the console's columns; only they call this

    wanted = current()
    if wanted != _humanize_language:
        if wanted == "fr":
            humanize.i18n.activate("fr_FR")
        else:
            humanize.i18n.deactivate()
        _humanize_language = wanted
    return str(humanize.naturaldelta(delta))
