"""The cache's documents: one typed definition each, and the one converter to and from it.

What is stored is JSON (TinyDB over `triage.store.storage`); what the rest of the
program sees are the domain's values. Times are ISO 8601 UTC strings in these
files (the conversations' compact documents are in `triage.store.conversation_docs`).
A document that does not have the shape written here raises `DocumentError`;
the cache treats that like a corrupt file (moved aside, rebuilt from the provider).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from triage.domain import history
from triage.domain.history import AccountOwners
from triage.domain.model import Mark, MarkKind, Message, Note
from triage.domain.outbox import Draft, OutboxStatus, QueuedAction
from triage.text.isotime import iso, parse_iso


class DocumentError(ValueError):
    """A stored document does not have the shape this version of triage writes."""


# Conversations (cache.json) are in `triage.store.conversation_docs`.


def read_note(d: Any) -> Note:
    """A stored note (DocumentError when it is not one): every document kind reads it so."""
    if not isinstance(d, Mapping):
        raise DocumentError("a note is not an object")
    note = history.decode_fields(d)
    if note is None:
        raise DocumentError("a note has no action")
    return note


# ---- message bodies (bodies.json) ----


# "from" is a Python keyword: the functional form of TypedDict spells it.
MessageDoc = TypedDict(
    "MessageDoc",
    {"id": str, "from": str, "name": str, "at": str, "subject": str, "to": list[str],
     "cc": list[str], "mid": str, "text": str, "warnings": list[str]},
)  # fmt: skip


def message_doc(m: Message) -> MessageDoc:
    return {"id": m.id, "from": m.sender, "name": m.sender_name, "at": iso(m.received_at),
            "subject": m.subject, "to": list(m.to), "cc": list(m.cc), "mid": m.message_id,
            "text": m.body, "warnings": list(m.warnings)}  # fmt: skip


def message_from_doc(thread_id: str, d: Mapping[str, Any]) -> Message:
    try:
        return Message(
            id=read_str(d["id"]),
            thread_id=thread_id,
            sender=read_str(d["from"]),
            sender_name=read_str(d.get("name", "")),
            received_at=parse_iso(d["at"]),
            subject=read_str(d.get("subject", "")),
            to=read_strs(d.get("to", ())),
            cc=read_strs(d.get("cc", ())),
            message_id=read_str(d.get("mid", "")),
            body=read_str(d.get("text", "")),
            warnings=read_strs(d.get("warnings", ())),
        )
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
        raise DocumentError(f"a stored message is malformed ({exc!r:.80})") from None


# ---- sync state (cache.json, table "sync") ----


@dataclass(frozen=True)
class SyncState:
    """Where the last good sync of one account left off."""

    state: str
    at: datetime | None
    accounts: AccountOwners  # the account-level owners folded so far


def sync_state_doc(s: SyncState) -> dict[str, Any]:
    return {"state": s.state, "at": _opt_iso(s.at),
            "accounts": {k: [to, iso(at)] for k, (to, at) in s.accounts.items()}}  # fmt: skip


def sync_state_from_doc(d: Mapping[str, Any]) -> SyncState:
    accounts: AccountOwners = {}
    raw = d.get("accounts") or {}
    if isinstance(raw, Mapping):
        for key, value in raw.items():
            if isinstance(value, list) and len(value) == 2:
                try:
                    accounts[str(key)] = (str(value[0]), parse_iso(str(value[1])))
                except (ValueError, OverflowError):
                    continue  # an unreadable entry is folded again from the notes
    try:
        return SyncState(read_str(d.get("state") or ""), _opt_time(d.get("at")), accounts)
    except (TypeError, ValueError, OverflowError) as exc:
        raise DocumentError(f"a sync state is malformed ({exc!r:.80})") from None


# ---- the outbox (outbox.json) ----

OutboxItem = Draft | QueuedAction


def outbox_doc(item: OutboxItem) -> dict[str, Any]:
    common = {"id": item.id, "thread_id": item.thread_id, "status": item.status.value,
              "attempts": item.attempts, "error": item.error, "by": item.by,
              "updated_at": _opt_iso(item.updated_at)}  # fmt: skip
    if isinstance(item, Draft):
        return {**common, "kind": "reply", "body": item.body, "message_id": item.message_id,
                "not_before": _opt_iso(item.not_before)}  # fmt: skip
    marks = [[m.kind.value, m.value, on] for m, on in item.marks]
    return {**common, "kind": "action", "action": item.action, "marks": marks,
            "note": history.fields(item.note)}  # fmt: skip


def outbox_from_doc(d: Mapping[str, Any]) -> OutboxItem:
    try:
        item_id, thread_id = read_str(d["id"]), read_str(d["thread_id"])
        status = OutboxStatus(d.get("status", "draft"))
        attempts, error = int(d.get("attempts", 0)), read_str(d.get("error") or "")
        by, updated_at = read_str(d.get("by") or ""), _opt_time(d.get("updated_at"))
        if d.get("kind", "reply") == "reply":
            body, message_id = read_str(d.get("body", "")), read_str(d.get("message_id", ""))
            return Draft(item_id, thread_id, body, status, message_id, by, attempts, error,
                         updated_at, _opt_time(d.get("not_before")))  # fmt: skip
        marks = _marks(d["marks"]) if "marks" in d else _legacy_marks(d.get("keywords") or {})
        return QueuedAction(item_id, thread_id, read_str(d["action"]), marks, read_note(d["note"]),
                            status, attempts, error, by, updated_at)  # fmt: skip
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
        raise DocumentError(f"an outbox item is malformed ({exc!r:.80})") from None


def _marks(raw: Any) -> tuple[tuple[Mark, bool], ...]:
    return tuple((Mark(MarkKind(kind), read_str(value)), bool(on)) for kind, value, on in raw)


def _legacy_marks(keywords: Mapping[str, Any]) -> tuple[tuple[Mark, bool], ...]:
    """Actions queued by triage 0.1, which stored JMAP keywords (its only provider)."""
    out = []
    for kw, on in keywords.items():
        if kw.startswith("triage-owner-"):
            out.append((Mark(MarkKind.OWNER, kw.removeprefix("triage-owner-")), bool(on)))
        elif kw in ("triage-escalated", "triage-ack"):
            kind = MarkKind.ESCALATED if kw == "triage-escalated" else MarkKind.ACK
            out.append((Mark(kind), bool(on)))
    return tuple(out)


# ---- the audit log (outbox.json, table "audit") ----


class AuditDoc(TypedDict):
    actor: str
    action: str
    thread_id: str
    detail: str
    at: str


# ---- values ----


def read_str(value: Any) -> str:
    """A stored text, or TypeError (the callers turn it into a DocumentError)."""
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def read_strs(values: Any) -> tuple[str, ...]:
    """A stored list of texts, or TypeError."""
    if not isinstance(values, list | tuple):
        raise TypeError("expected a list of strings")
    return tuple(read_str(v) for v in values)


def _opt_iso(at: datetime | None) -> str | None:
    return iso(at) if at is not None else None


def _opt_time(value: Any) -> datetime | None:
    return parse_iso(read_str(value)) if value else None
