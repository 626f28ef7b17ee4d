"""What `triage doctor` asks a provider beyond connecting: the watched mailbox as the
provider names it, the rights triage needs there, and the provider's clock.

A provider offers this with an optional `health()` method; one without it is
checked by connecting only (its rights and clock are then "not checked").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Health:
    """A connected provider's answers: `missing` says, in words, what triage may not do."""

    mailbox: str
    missing: tuple[str, ...]
    server_time: datetime | None  # the provider's Date header
    local_time: datetime | None  # this machine's clock when that answer arrived


@runtime_checkable
class Diagnosable(Protocol):
    async def health(self) -> Health: ...


def http_date(value: str | None) -> datetime | None:
    """An HTTP Date header (RFC 9110) as an aware datetime; None when absent or unreadable."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else None
