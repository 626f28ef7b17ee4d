"""Conversation records: provider threads -> compact cache documents -> Conversations.

A cache document holds just enough of each email (sender, time, Message-ID,
triage keywords) to re-derive the conversation without asking the provider,
and the derived fields the queue sorts on (the absolute deadline). Bodies are
stored apart (`Cache.store_bodies`) so the hot file every action rewrites stays small.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from triage.config.loader import Config
from triage.domain import calendar as sla
from triage.domain import routing
from triage.domain.model import Conversation, Note, Tier
from triage.providers.base import KW_ACK, KW_ESCALATED, KW_NOTE, KW_OWNER_PREFIX, ThreadEmails

Doc = dict[str, Any]


def thread_record(thread: ThreadEmails, watched: str, cfg: Config) -> list[Doc]:
    """The compact per-email list stored in a conversation document."""
    out = []
    for e in thread.emails:
        out.append(
            {
                "id": e.id,
                "from": e.from_email,
                "name": e.from_name,
                "at": iso(e.received_at),
                "mid": e.message_id,
                "refs": list(e.references[-20:]),
                "subject": e.subject,
                "kw": sorted(k for k in e.keywords if k.startswith("triage-")),
                "watched": watched in e.mailbox_ids,
                "staff": routing.is_staff(e.from_email, cfg),
                "note": KW_NOTE in e.keywords,
                "to_ceo": any(routing.is_ceo(a, cfg) for a in (*e.to, *e.cc)),
            }
        )
    return out


def parse_notes(emails: list[Doc], bodies: Mapping[str, str]) -> list[Doc]:
    """Note emails of a thread -> note dicts (escalations, reassignments), oldest first."""
    notes = []
    for e in emails:
        if not e["note"] or e["id"] not in bodies:
            continue
        try:
            data = json.loads(bodies[e["id"]])
        except ValueError:
            continue  # someone else's message in our notes mailbox: not ours to read
        if isinstance(data, dict) and isinstance(data.get("action"), str):
            note = {k: data[k] for k in ("action", "by", "at", "reason", "to", "account",
                                         "client") if k in data}  # fmt: skip
            if note not in notes:  # a note filed twice (a retried write) shows once
                notes.append(note)
    notes.sort(key=lambda n: str(n.get("at", "")))
    return notes


def derive(
    thread_id: str,
    emails: list[Doc],
    notes: list[Doc],
    cfg: Config,
    account_owners: Mapping[str, str],
) -> Doc | None:
    """A conversation document, or None when the thread is not an open client conversation."""
    mail = sorted((e for e in emails if not e["note"]), key=lambda e: e["at"])
    client_msgs = [e for e in mail if not e["staff"]]
    if not client_msgs or not any(e["watched"] for e in mail):
        return None
    first = client_msgs[0]
    route = routing.route(first["from"], first["name"], cfg)
    unanswered = _unanswered(mail)
    waiting = bool(unanswered)
    deadline = clock = None
    region = cfg.regions.get(route.region)
    if waiting and region is not None:
        arrival = parse_iso(unanswered[0]["at"])
        clock = sla.clock_start(arrival, region)
        deadline = sla.deadline(arrival, region)
    escalation = _last(notes, "escalate")
    last_client = client_msgs[-1]
    owner_kw = _owner_keyword(mail)
    return {
        "thread_id": thread_id,
        "subject": first["subject"] or mail[0]["subject"],
        "client_email": first["from"],
        "client_name": route.client_name,
        "client_key": route.client_key,
        "region": route.region,
        "region_guessed": route.region_guessed,
        "owner": owner_kw or account_owners.get(route.client_key, route.owner),
        "owner_kw": owner_kw,
        "tier": route.tier.value,
        "waiting": waiting,
        "first_arrival": first["at"],
        "last_message_at": mail[-1]["at"],
        "message_count": len(mail),
        "waiting_since": unanswered[0]["at"] if unanswered else None,
        "clock_start": iso(clock) if clock else None,
        "deadline": iso(deadline) if deadline else None,
        "escalated": any(KW_ESCALATED in e["kw"] for e in mail),
        "escalation_reason": str(escalation.get("reason", "")) if escalation else "",
        "escalated_by": str(escalation.get("by", "")) if escalation else "",
        "escalated_at": str(escalation.get("at", "")) if escalation else None,
        "ceo_contacted": any(e["to_ceo"] for e in client_msgs),
        "acknowledged": KW_ACK in mail[-1]["kw"],
        "notes": notes,
        # Just what actions need, so the file every sync rewrites stays small:
        # the full per-message summaries are fetched with the bodies when a thread opens.
        "email_ids": [e["id"] for e in mail],
        "note_ids": [e["id"] for e in emails if e["note"]],
        "reply_to": last_client["from"],
        "refs": _reply_refs(last_client),
        "staff_mids": [e["mid"] for e in mail if e["staff"] and e["mid"]][-3:],
    }


def _reply_refs(e: Doc) -> list[str]:
    """References for a reply to `e`: the thread's root and the latest few (RFC 5322 3.6.4)."""
    refs = [*e.get("refs", []), e["mid"]] if e["mid"] else list(e.get("refs", []))
    return refs if len(refs) <= 5 else [refs[0], *refs[-4:]]


def _unanswered(mail: list[Doc]) -> list[Doc]:
    """Client messages after the last staff message: they keep the clock running."""
    out: list[Doc] = []
    for e in mail:
        out = [] if e["staff"] else [*out, e]
    return out


def _owner_keyword(mail: list[Doc]) -> str:
    """The owner set in the provider (the latest message carrying one wins), or ""."""
    for e in reversed(mail):
        for k in e["kw"]:
            if k.startswith(KW_OWNER_PREFIX):
                return str(k[len(KW_OWNER_PREFIX) :])
    return ""


def reowned(doc: Doc, cfg: Config, account_owners: Mapping[str, str]) -> str:
    """The owner of a cached conversation after the account-level owners changed."""
    if doc.get("owner_kw"):
        return str(doc["owner_kw"])
    route = routing.route(doc["client_email"], "", cfg)
    return account_owners.get(doc["client_key"], route.owner)


def _last(notes: list[Doc], action: str) -> Doc | None:
    matching = [n for n in notes if n.get("action") == action]
    return matching[-1] if matching else None


def fold_account_notes(notes: Mapping[str, str], known: Mapping[str, Any]) -> dict[str, Any]:
    """Fold account-level reassignment notes into {client_key: [manager, at]}, latest wins."""
    merged: dict[str, Any] = {
        k: [str(v[0]), str(v[1])] for k, v in known.items() if isinstance(v, list) and len(v) == 2
    }
    for text in notes.values():
        try:
            data = json.loads(text)
        except ValueError:
            continue
        if not (isinstance(data, dict) and data.get("account") and data.get("client")):
            continue
        key, at, to = str(data["client"]), str(data.get("at", "")), str(data.get("to", ""))
        if to and (key not in merged or merged[key][1] <= at):
            merged[key] = [to, at]
    return merged


def to_conversation(doc: Mapping[str, Any]) -> Conversation:
    """A cache document -> the immutable Conversation the queue and UI use."""
    return Conversation(
        thread_id=doc["thread_id"],
        subject=doc["subject"],
        client_email=doc["client_email"],
        client_name=doc["client_name"],
        client_key=doc["client_key"],
        region=doc["region"],
        region_guessed=doc["region_guessed"],
        owner=doc["owner"],
        tier=Tier(doc.get("tier", "standard")),
        waiting=doc["waiting"],
        first_arrival=parse_iso(doc["first_arrival"]),
        last_message_at=parse_iso(doc["last_message_at"]),
        message_count=doc["message_count"],
        clock_start=parse_iso(doc["clock_start"]) if doc.get("clock_start") else None,
        deadline=parse_iso(doc["deadline"]) if doc.get("deadline") else None,
        escalated=doc.get("escalated", False),
        escalation_reason=doc.get("escalation_reason", ""),
        escalated_by=doc.get("escalated_by", ""),
        escalated_at=parse_iso(doc["escalated_at"]) if doc.get("escalated_at") else None,
        ceo_contacted=doc.get("ceo_contacted", False),
        acknowledged=doc.get("acknowledged", False),
        notes=tuple(_note(n) for n in doc.get("notes", ())),
    )


def _note(n: Mapping[str, Any]) -> Note:
    at = n.get("at")
    return Note(
        action=str(n.get("action", "")),
        by=str(n.get("by", "")),
        at=parse_iso(at) if isinstance(at, str) and at else datetime.min.replace(tzinfo=UTC),
        reason=str(n.get("reason", "")),
        to=str(n.get("to", "")),
        account=bool(n.get("account", False)),
    )


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
