"""ISO 8601 instants as text: the one writer and the one reader.

Every time triage stores or prints is UTC with a "Z" ("2026-11-26T15:00:00Z");
the reader accepts any offset and returns an aware UTC datetime.
"""

from __future__ import annotations

from datetime import UTC, datetime


def iso(at: datetime) -> str:
    """An aware instant as "YYYY-MM-DDTHH:MM:SS[.ffffff]Z"."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """An ISO 8601 instant with a zone ("Z" or an offset) as aware UTC.

    Raises ValueError for anything else, a time without a zone included: a naive
    time would silently be read in the machine's own zone."""
    at = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{text!r} has no time zone")
    return at.astimezone(UTC)
