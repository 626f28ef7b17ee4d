"""How times left read on screen: "0:42", "-1:10", "14m09s" near the deadline, "0:42:07" ticking.

Presentation only (the console and the CLI's plain queue share it); the deadline
itself is `triage.domain.calendar`'s arithmetic.
"""

from __future__ import annotations

import math


def _whole_units_away_from_zero(seconds: float, unit: int) -> tuple[str, int]:
    """Sign and magnitude rounded up to whole units.

    Rounding away from zero means a countdown never shows "0:00" while time is
    left, nor while the deadline has passed: only at the exact instant.
    """
    if not math.isfinite(seconds):
        raise ValueError(f"cannot format {seconds!r} seconds")
    sign = "-" if seconds < 0 else ""
    return sign, math.ceil(abs(seconds) / unit)


def format_left(seconds: float) -> str:
    """Countdown to the minute: "0:42", "27:05", "-1:10"; 100h and over: "4d 04h"."""
    sign, minutes = _whole_units_away_from_zero(seconds, 60)
    hours, mins = divmod(minutes, 60)
    if hours < 100:
        return f"{sign}{hours}:{mins:02d}"
    days, hours = divmod(hours, 24)
    return f"{sign}{days}d {hours:02d}h"


def format_left_seconds(seconds: float) -> str:
    """Countdown in minutes and seconds, for the last minutes: "14m09s", "0m03s";
    an hour and more falls back to `format_left`."""
    sign, total = _whole_units_away_from_zero(seconds, 1)
    minutes, secs = divmod(total, 60)
    if minutes >= 60:
        return format_left(seconds)
    return f"{sign}{minutes}m{secs:02d}s"


def format_left_precise(seconds: float) -> str:
    """Countdown to the second for a ticking display: "0:42:07", "-1:00:00"."""
    sign, total = _whole_units_away_from_zero(seconds, 1)
    minutes, secs = divmod(total, 60)
    hours, mins = divmod(minutes, 60)
    return f"{sign}{hours}:{mins:02d}:{secs:02d}"
