"""The notes that record triage actions on the provider, in their neutral JSON form.

Every provider files a note as a message whose body is `encode(note)`; reading
one back is `decode`, which turns anything else (someone's message in the notes
folder, a damaged body) into None instead of an error. Account-level
reassignments are folded into the current owner of each client account.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from triage.domain.model import Note, NoteAction
from triage.text.isotime import iso, parse_iso

AccountOwners = dict[str, tuple[str, datetime]]  # client key -> (manager id, since)
_EPOCH = datetime.min.replace(tzinfo=UTC)


def encode(note: Note) -> str:
    """The JSON body of a note message (language-neutral; ISO times in UTC)."""
    return json.dumps(fields(note), ensure_ascii=False)


def fields(note: Note) -> dict[str, Any]:
    """A note as a JSON object: empty fields left out."""
    data: dict[str, Any] = {"action": note.action, "by": note.by, "at": iso(note.at)}
    for key, value in (("reason", note.reason), ("to", note.to), ("from", note.previous),
                       ("client", note.client)):  # fmt: skip
        if value:
            data[key] = value
    if note.account:
        data["account"] = True
    if note.until is not None:
        data["until"] = iso(note.until)
    if note.seen is not None:
        data["seen"] = iso(note.seen)
    return data


def decode(text: str) -> Note | None:
    """A note from a message body, or None when the body is not a triage note."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return decode_fields(data) if isinstance(data, dict) else None


def decode_fields(data: Mapping[str, Any]) -> Note | None:
    """A note from its decoded JSON object (None without an action)."""
    if not isinstance(data.get("action"), str):
        return None
    return Note(
        action=data["action"],
        by=_text(data.get("by")),
        at=_time(data.get("at")),
        reason=_text(data.get("reason")),
        to=_text(data.get("to")),
        account=data.get("account") is True,
        client=_text(data.get("client")),
        previous=_text(data.get("from")),
        until=_time(data["until"]) if isinstance(data.get("until"), str) else None,
        seen=_time(data["seen"]) if isinstance(data.get("seen"), str) else None,
    )


def merged(notes: Iterable[Note]) -> tuple[Note, ...]:
    """Oldest first; a note filed twice (a retried write) counts once."""
    return tuple(sorted(dict.fromkeys(notes), key=lambda n: n.at))


def last(notes: Iterable[Note], action: str) -> Note | None:
    found = [n for n in notes if n.action == action]
    return found[-1] if found else None


def account_owners(
    notes: Iterable[Note], known: Mapping[str, tuple[str, datetime]]
) -> AccountOwners:
    """Fold account-level reassignment notes into each client's owner; the latest wins."""
    owners = dict(known)
    for n in notes:
        if not (n.action == NoteAction.REASSIGN and n.account and n.client and n.to):
            continue
        current = owners.get(n.client)
        if current is None or current[1] <= n.at:
            owners[n.client] = (n.to, n.at)
    return owners


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _time(value: object) -> datetime:
    """A note's time; a missing or unreadable one sorts first instead of failing."""
    if isinstance(value, str) and value:
        try:
            return parse_iso(value)
        except (ValueError, OverflowError):
            return _EPOCH
    return _EPOCH
