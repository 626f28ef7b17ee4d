"""The cache's documents: one typed definition each, and the one converter to and from it.

What is stored is JSON (TinyDB over `triage.store.storage`); what the rest of the
program sees are the domain's values. Times are ISO 8601 UTC strings on disk.
A document that does not have the shape written here raises `DocumentError`;
the cache treats that like a corrupt file (moved aside, rebuilt from the provider).

The keys of a conversation document are short and stable: a cache written by an
earlier version of triage is read as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from triage.domain import history
from triage.domain.history import AccountOwners
from triage.domain.model import Conversation, Mark, MarkKind, Message, Note, Status, ThreadRef, Tier
from triage.domain.outbox import Draft, OutboxStatus, QueuedAction
from triage.text.isotime import iso, parse_iso


class DocumentError(ValueError):
    """A stored document does not have the shape this version of triage writes."""


# ---- conversations (cache.json) ----


class ConversationDoc(TypedDict):
    thread_id: str
    subject: str
    client_email: str
    client_name: str
    client_key: str
    region: str
    region_guessed: bool
    owner: str
    owner_kw: str  # the owner mark on the provider ("" = none)
    tier: str
    waiting: bool
    first_arrival: str
    last_message_at: str
    message_count: int
    waiting_since: str | None
    clock_start: str | None
    deadline: str | None
    escalated: bool
    escalation_reason: str
    escalated_by: str
    escalated_at: str | None
    ceo_contacted: bool
    acknowledged: bool
    notes: list[dict[str, Any]]
    email_ids: list[str]
    note_ids: list[str]
    reply_to: str
    refs: list[str]
    staff_mids: list[str]
    impersonation: str
    problem: str
    workflow: dict[str, Any]  # the status and what it rests on ({} while waiting)
    asked_new: bool  # the client asked for another manager (older caches: absent, False)


def conversation_doc(c: Conversation) -> ConversationDoc:
    ref = c.thread
    return {
        "thread_id": c.thread_id,
        "subject": c.subject,
        "client_email": c.client_email,
        "client_name": c.client_name,
        "client_key": c.client_key,
        "region": c.region,
        "region_guessed": c.region_guessed,
        "owner": c.owner,
        "owner_kw": c.owner_mark,
        "tier": c.tier.value,
        "waiting": c.waiting,
        "first_arrival": iso(c.first_arrival),
        "last_message_at": iso(c.last_message_at),
        "message_count": c.message_count,
        "waiting_since": _opt_iso(c.waiting_since),
        "clock_start": _opt_iso(c.clock_start),
        "deadline": _opt_iso(c.deadline),
        "escalated": c.escalated,
        "escalation_reason": c.escalation_reason,
        "escalated_by": c.escalated_by,
        "escalated_at": _opt_iso(c.escalated_at),
        "ceo_contacted": c.ceo_contacted,
        "acknowledged": c.acknowledged,
        "notes": [history.fields(n) for n in c.notes],
        "email_ids": list(ref.message_ids),
        "note_ids": list(ref.note_ids),
        "reply_to": ref.reply_to,
        "refs": list(ref.references),
        "staff_mids": list(ref.staff_message_ids),
        "impersonation": c.impersonation,
        "problem": c.problem,
        "workflow": _workflow_doc(c),
        "asked_new": c.asked_new_manager,
    }


# The workflow fields by their stored key: the times, the text, and the rest as they are.
_WORKFLOW_TIMES = {"wake_at": "wake_at", "snoozed_until": "snoozed_until",
                   "done_at": "done_at", "replying_until": "replying_until",
                   "replied_at": "replied_at"}  # fmt: skip
_WORKFLOW_TEXT = {"done_reason": "done_reason", "done_by": "done_by",
                  "replying": "replying", "replied_by": "replied_by",
                  "target": "target", "target_source": "target_source"}  # fmt: skip


def _workflow_doc(c: Conversation) -> dict[str, Any]:
    """The workflow fields that are set (a waiting conversation's are all empty)."""
    out: dict[str, Any] = {"status": c.status.value}
    for key in _WORKFLOW_TIMES:
        if (value := getattr(c, key)) is not None:
            out[key] = iso(value)
    for key in _WORKFLOW_TEXT:
        if value := getattr(c, key):
            out[key] = value
    if c.follow_up:
        out["follow_up"] = True
    if c.reply_seconds is not None:
        out["reply_seconds"] = c.reply_seconds
    if c.reply_on_time is not None:
        out["reply_on_time"] = c.reply_on_time
    return out


def _workflow_fields(d: Mapping[str, Any]) -> dict[str, Any]:
    """The Conversation fields a stored workflow object holds (older caches: none)."""
    raw = d.get("workflow") or {}
    if not isinstance(raw, Mapping):
        raise TypeError("workflow is not an object")
    out: dict[str, Any] = {"status": Status(raw.get("status", Status.WAITING.value))}
    out.update({key: _opt_time(raw.get(key)) for key in _WORKFLOW_TIMES})
    out.update({key: _str(raw.get(key, "")) for key in _WORKFLOW_TEXT})
    out["follow_up"] = raw.get("follow_up") is True
    seconds = raw.get("reply_seconds")
    out["reply_seconds"] = float(seconds) if seconds is not None else None
    on_time = raw.get("reply_on_time")
    out["reply_on_time"] = on_time if isinstance(on_time, bool) else None
    return out


def conversation_from_doc(d: Mapping[str, Any]) -> Conversation:
    """The conversation a document holds; DocumentError when it is malformed."""
    try:
        tid = _str(d["thread_id"])
        return Conversation(
            thread_id=tid,
            subject=_str(d["subject"]),
            client_email=_str(d["client_email"]),
            client_name=_str(d["client_name"]),
            client_key=_str(d["client_key"]),
            region=_str(d["region"]),
            region_guessed=bool(d["region_guessed"]),
            owner=_str(d["owner"]),
            tier=Tier(d.get("tier", "standard")),
            waiting=bool(d["waiting"]),
            first_arrival=parse_iso(d["first_arrival"]),
            last_message_at=parse_iso(d["last_message_at"]),
            message_count=int(d["message_count"]),
            waiting_since=_opt_time(d.get("waiting_since")),
            clock_start=_opt_time(d.get("clock_start")),
            deadline=_opt_time(d.get("deadline")),
            escalated=bool(d.get("escalated", False)),
            escalation_reason=_str(d.get("escalation_reason", "")),
            escalated_by=_str(d.get("escalated_by", "")),
            escalated_at=_opt_time(d.get("escalated_at")),
            ceo_contacted=bool(d.get("ceo_contacted", False)),
            acknowledged=bool(d.get("acknowledged", False)),
            owner_mark=_str(d.get("owner_kw") or ""),
            notes=tuple(_note(n) for n in d.get("notes", ())),
            ref=ThreadRef(
                thread_id=tid,
                subject=_str(d["subject"]),
                message_ids=_strs(d.get("email_ids", ())),
                note_ids=_strs(d.get("note_ids", ())),
                reply_to=_str(d.get("reply_to", "")),
                references=_strs(d.get("refs", ())),
                staff_message_ids=_strs(d.get("staff_mids", ())),
            ),
            impersonation=_str(d.get("impersonation", "")),
            problem=_str(d.get("problem", "")),
            asked_new_manager=d.get("asked_new") is True,
            **_workflow_fields(d),
        )
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
        raise DocumentError(f"a conversation document is malformed ({exc!r:.80})") from None


def _note(d: Any) -> Note:
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
            id=_str(d["id"]),
            thread_id=thread_id,
            sender=_str(d["from"]),
            sender_name=_str(d.get("name", "")),
            received_at=parse_iso(d["at"]),
            subject=_str(d.get("subject", "")),
            to=_strs(d.get("to", ())),
            cc=_strs(d.get("cc", ())),
            message_id=_str(d.get("mid", "")),
            body=_str(d.get("text", "")),
            warnings=_strs(d.get("warnings", ())),
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
        return SyncState(_str(d.get("state") or ""), _opt_time(d.get("at")), accounts)
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
        item_id, thread_id = _str(d["id"]), _str(d["thread_id"])
        status = OutboxStatus(d.get("status", "draft"))
        attempts, error = int(d.get("attempts", 0)), _str(d.get("error") or "")
        by, updated_at = _str(d.get("by") or ""), _opt_time(d.get("updated_at"))
        if d.get("kind", "reply") == "reply":
            body, message_id = _str(d.get("body", "")), _str(d.get("message_id", ""))
            return Draft(item_id, thread_id, body, status, message_id, by, attempts, error,
                         updated_at, _opt_time(d.get("not_before")))  # fmt: skip
        marks = _marks(d["marks"]) if "marks" in d else _legacy_marks(d.get("keywords") or {})
        return QueuedAction(item_id, thread_id, _str(d["action"]), marks, _note(d["note"]),
                            status, attempts, error, by, updated_at)  # fmt: skip
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
        raise DocumentError(f"an outbox item is malformed ({exc!r:.80})") from None


def _marks(raw: Any) -> tuple[tuple[Mark, bool], ...]:
    return tuple((Mark(MarkKind(kind), _str(value)), bool(on)) for kind, value, on in raw)


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


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _strs(values: Any) -> tuple[str, ...]:
    if not isinstance(values, list | tuple):
        raise TypeError("expected a list of strings")
    return tuple(_str(v) for v in values)


def _opt_iso(at: datetime | None) -> str | None:
    return iso(at) if at is not None else None


def _opt_time(value: Any) -> datetime | None:
    return parse_iso(_str(value)) if value else None
