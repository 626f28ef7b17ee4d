"""Graph's message objects as triage's values: sync's MessageInfo, the thread view's Message.

Pure functions. Each field is read on its own: one of the wrong type becomes a
problem of that message, which stays visible (never an error that stops the sync
for everyone). All text is untrusted and is sanitized above the provider.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from triage.domain.model import Message, MessageInfo
from triage.providers.common import received_time
from triage.providers.graph.marks import NOTE_CATEGORY, marks_of
from triage.text.mailtext import html_to_text

Json = dict[str, Any]
# What sync reads of every message of a conversation (no body).
SUMMARY = ("id,conversationId,parentFolderId,from,sender,toRecipients,ccRecipients,subject,"
           "receivedDateTime,internetMessageId,categories,isDraft,bodyPreview")  # fmt: skip
MAX_BODY_CHARS = 1_000_000
REFERENCES_READ = 20  # the root and the latest: all a reply or a note needs to join


def address(value: Any) -> tuple[str, str]:
    """(name, address) of a recipient object; empty strings when it has none."""
    email = value.get("emailAddress") if isinstance(value, dict) else None
    if not isinstance(email, dict):
        return "", ""
    return str(email.get("name") or ""), str(email.get("address") or "")


def addresses(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else []
    return tuple(a for a in (address(v)[1] for v in items) if a)


def categories(m: Json) -> list[str]:
    value = m.get("categories")
    return [c for c in value if isinstance(c, str)] if isinstance(value, list) else []


def is_note(m: Json, notes_folder: str) -> bool:
    """A note by its category, or by where it is filed (should its categories be
    unreadable, a note must still never count as a staff reply)."""
    in_notes = bool(notes_folder) and m.get("parentFolderId") == notes_folder
    return in_notes or NOTE_CATEGORY in (c.casefold() for c in categories(m))


def is_draft(m: Json) -> bool:
    return m.get("isDraft") is True


def _sender(m: Json) -> tuple[str, str]:
    name, addr = address(m.get("from"))
    return (name, addr) if addr else address(m.get("sender"))


def _problems(m: Json, problem: str) -> list[str]:
    out = [problem] if problem else []
    if not isinstance(m.get("conversationId"), str):
        out.append("its conversation id is unreadable")
    if not isinstance(m.get("subject"), str | None):
        out.append("its subject is unreadable")
    if not isinstance(m.get("categories"), list | None):
        out.append("its categories are unreadable")
    return out


def info_of(m: Json, watched: str, now: datetime, thread_hint: str = "") -> MessageInfo:
    """Sync's view of one message of a conversation."""
    received, problem = received_time(m.get("receivedDateTime"), now)
    name, sender = _sender(m)
    subject = m.get("subject")
    folder = m.get("parentFolderId")
    return MessageInfo(
        id=str(m["id"]),
        thread_id=str(m.get("conversationId") or thread_hint),
        sender=sender,
        sender_name=name,
        to=addresses(m.get("toRecipients")),
        cc=addresses(m.get("ccRecipients")),
        subject=subject if isinstance(subject, str) else "",
        received_at=received,
        message_id=str(m.get("internetMessageId") or ""),
        in_watched=folder == watched or not isinstance(folder, str),
        marks=marks_of(categories(m)),
        problem="; ".join(_problems(m, problem)),
        preview=str(m.get("bodyPreview") or ""),
    )


def body_text(m: Json) -> tuple[str, tuple[str, ...]]:
    """The text of a message's body (HTML converted without fetching anything)."""
    body = m.get("body")
    if not isinstance(body, dict):
        return "", ()
    content = str(body.get("content") or "")
    warnings: tuple[str, ...] = ()
    if len(content) > MAX_BODY_CHARS:
        content, warnings = content[:MAX_BODY_CHARS], ("this message is long: only the first "
                                                       "part is shown",)  # fmt: skip
    if str(body.get("contentType") or "").casefold() == "html":
        return html_to_text(content), warnings
    return content, warnings


def references(m: Json) -> tuple[str, ...]:
    """The References (else In-Reply-To) header of a received message, when Graph gave
    its headers: the root and the latest ones."""
    headers = m.get("internetMessageHeaders")
    by_name: dict[str, str] = {}
    for h in headers if isinstance(headers, list) else []:
        if isinstance(h, dict) and isinstance(h.get("name"), str):
            by_name.setdefault(h["name"].casefold(), str(h.get("value") or ""))
    refs = (by_name.get("references") or by_name.get("in-reply-to") or "").split()
    kept = refs if len(refs) <= REFERENCES_READ else [refs[0], *refs[-(REFERENCES_READ - 1) :]]
    return tuple(kept)


def message_of(m: Json, now: datetime) -> Message:
    """The thread view's message, with its text."""
    info = info_of(m, "", now)
    text, warnings = body_text(m)
    problems = (info.problem,) if info.problem else ()
    return Message(
        id=info.id,
        thread_id=info.thread_id,
        sender=info.sender,
        sender_name=info.sender_name,
        received_at=info.received_at,
        subject=info.subject,
        to=info.to,
        cc=info.cc,
        message_id=info.message_id,
        preview=str(m.get("bodyPreview") or ""),
        body=text,
        warnings=(*problems, *warnings),
        references=references(m),
    )


def unreadable(message_id: str, thread_id: str, now: datetime, why: str) -> Message:
    return Message(message_id, thread_id, "", "", now, warnings=(why,))
