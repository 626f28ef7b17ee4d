"""What every HTTP mail provider reads the same way: Retry-After, JSON answers, arrival times.

Pure helpers shared by the providers (JMAP, Microsoft Graph, Gmail), so that one
rule lives in one place: how long a `Retry-After` header makes us wait, how an
answer that strict JSON refuses is still read, and what an absurd arrival date
becomes.
"""

from __future__ import annotations

import email.utils
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from triage.providers.base import ProviderError
from triage.text.isotime import parse_iso

MAX_RETRY_AFTER = 60.0
FUTURE_SLACK = timedelta(days=1)  # clocks disagree a little; a later date is absurd
_SURROGATE = re.compile("[\ud800-\udfff]")


class Undecodable(ProviderError):
    """An answer that is not JSON even to the tolerant decoder."""


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, min((when - now).total_seconds(), MAX_RETRY_AFTER))


def decode_json(data: bytes) -> Any:
    """The answer as JSON. A string the strict decoder refuses (a lone surrogate from
    one broken email, invalid UTF-8) is read by the tolerant one and made valid text
    (U+FFFD), so one email cannot make a whole answer unreadable."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    try:
        return _scrub(json.loads(data.decode("utf-8", "replace")))
    except (ValueError, RecursionError):
        raise Undecodable("the server's answer is not valid JSON") from None


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return value if value.isascii() else _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    return value


def received_time(value: Any, now: datetime) -> tuple[datetime, str]:
    """An email's arrival, and what was wrong with it ("" when nothing).

    Policy: a date that cannot be read, or that Python cannot represent, or that
    lies before 1970 or more than a day in the future, is taken as `now` (when this
    sync first saw the email) with a problem noted: the message keeps a deadline
    counted from then, so an absurd date can neither hide it at the bottom of the
    queue nor break the calendar arithmetic."""
    if not isinstance(value, str):
        return now, "its arrival time is missing"
    try:
        at = parse_iso(value)
    except (ValueError, OverflowError):
        return now, f"its arrival time is unreadable ({value[:40]!r})"
    if at > now + FUTURE_SLACK:
        return now, f"it is dated in the future ({value[:40]!r})"
    if at.year < 1970:
        return now, f"it is dated before 1970 ({value[:40]!r})"
    return at, ""


REFERENCES_READ = 20  # the root and the latest: all a reply or a note needs to join


def kept_references(refs: list[str]) -> tuple[str, ...]:
    """A thread's root and its latest References (some mailers send hundreds)."""
    kept = refs if len(refs) <= REFERENCES_READ else [refs[0], *refs[-(REFERENCES_READ - 1) :]]
    return tuple(kept)
