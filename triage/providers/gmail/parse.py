"""Reading Gmail's message resources into triage's values, defensively.

A message's headers, labels and arrival (`internalDate`) become a `MailSummary`;
its MIME tree (`payload`, base64url parts) becomes text. Every field is read on
its own: one of the wrong type, an undecodable part, a charset nobody knows, a
body of megabytes or a tree nested a thousand deep is noted as a problem or a
warning of that message, which stays visible; it never stops a sync.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email.header
import email.message
import email.utils
import html
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from triage.providers.common import kept_references, received_time
from triage.text.isotime import iso
from triage.text.mailtext import html_to_text

MAX_BODY_BYTES = 1_000_000  # of text shown for one message
MAX_PARTS = 500  # MIME parts read per message
MAX_DEPTH = 32  # MIME nesting followed
B64_CUT = (MAX_BODY_BYTES // 3 + 1) * 4  # base64 text read of one part: a whole quantum
Json = dict[str, Any]


@dataclass(frozen=True)
class MailSummary:
    """One message as sync reads it (headers, labels, arrival; no body)."""

    id: str
    thread_id: str
    label_ids: frozenset[str]
    from_name: str
    from_email: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    received_at: datetime
    message_id: str = ""
    references: tuple[str, ...] = ()
    preview: str = ""
    problems: tuple[str, ...] = ()
    labels_known: bool = True  # False: taken as in the watched label (stays visible)


def summary_of(m: Json, now: datetime, thread_hint: str = "") -> MailSummary:
    """A message resource (format metadata or full) -> MailSummary."""
    problems: list[str] = []
    thread_id = m.get("threadId")
    if not isinstance(thread_id, str):
        problems.append("its thread id is unreadable")
        thread_id = thread_hint
    labels = m.get("labelIds", [])
    labels_known = isinstance(labels, list) and all(isinstance(x, str) for x in labels)
    if not labels_known:
        problems.append("its labels are unreadable")
    received, problem = received_time(_internal_date(m.get("internalDate")), now)
    problems += [problem] if problem else []
    heads = headers_of(m.get("payload"))
    sender = _addresses(heads.get("from", ""))
    own_ids = _ids(heads.get("message-id", ""))
    return MailSummary(
        id=str(m["id"]), thread_id=str(thread_id),
        label_ids=frozenset(labels) if labels_known else frozenset(),
        from_name=sender[0][0] if sender else "", from_email=sender[0][1] if sender else "",
        to=tuple(a for _n, a in _addresses(heads.get("to", ""))),
        cc=tuple(a for _n, a in _addresses(heads.get("cc", ""))),
        subject=heads.get("subject", ""), received_at=received,
        message_id=own_ids[0] if own_ids else "",
        references=kept_references(_ids(heads.get("references", ""))),
        preview=html.unescape(m["snippet"]) if isinstance(m.get("snippet"), str) else "",
        problems=tuple(problems), labels_known=labels_known,
    )  # fmt: skip


def unreadable(message_id: str, thread_id: str, now: datetime, why: str) -> MailSummary:
    """A message that could not be fetched: kept, so its thread keeps a deadline."""
    return MailSummary(message_id, thread_id, frozenset(), "", "", (), (), "", now,
                       problems=(why,), labels_known=False)  # fmt: skip


def _internal_date(value: Any) -> Any:
    """Gmail's internalDate (milliseconds since the epoch, as text) as ISO text, for the one
    rule on arrival times; anything unreadable is handed on as it is, to be named."""
    if isinstance(value, str | int) and str(value).isdigit():
        try:
            return iso(datetime.fromtimestamp(int(value) / 1000, UTC))
        except (OverflowError, OSError, ValueError):
            return str(value)
    return value


def headers_of(payload: Any) -> dict[str, str]:
    """The top-level headers, by lowercase name (the first of each), encoded words decoded."""
    out: dict[str, str] = {}
    heads = payload.get("headers") if isinstance(payload, dict) else None
    for h in heads if isinstance(heads, list) else []:
        if isinstance(h, dict) and isinstance(h.get("name"), str):
            out.setdefault(h["name"].casefold(), decoded(str(h.get("value") or "")))
    return out


def decoded(value: str) -> str:
    """A header value with RFC 2047 encoded words decoded; undecodable ones kept as they are."""
    if "=?" not in value:
        return value
    try:
        parts = email.header.decode_header(value)
    except (ValueError, binascii.Error, LookupError):
        return value
    text = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            text.append(chunk)
            continue
        try:
            text.append(chunk.decode(charset or "ascii", "replace"))
        except LookupError:
            text.append(chunk.decode("utf-8", "replace"))
    return "".join(text)


def _addresses(value: str) -> list[tuple[str, str]]:
    try:
        return [(n, a) for n, a in email.utils.getaddresses([value]) if a]
    except (ValueError, IndexError, TypeError):
        return []


def _ids(value: str) -> list[str]:
    """Message-IDs of a header, without angle brackets."""
    return [t.strip("<>") for t in value.replace(",", " ").split() if t.strip("<>")]


# -- bodies ----------------------------------------------------------------------------


def body_of(m: Json) -> tuple[str, tuple[str, ...]]:
    """The text of a message (format full): its plain parts, else its HTML ones as text."""
    plain: list[str] = []
    rich: list[str] = []
    warnings: list[str] = []
    for part in _parts(m.get("payload"), warnings):
        kind = str(part.get("mimeType") or "").casefold()
        if kind not in ("text/plain", "text/html") or _is_attachment(part):
            continue
        text = _part_text(part, warnings)
        (plain if kind == "text/plain" else rich).append(text)
    text = "\n".join(plain)
    if not text.strip():
        text = "\n".join(html_to_text(h) for h in rich) or text
    if len(text) > MAX_BODY_BYTES:
        text = text[:MAX_BODY_BYTES]
        warnings.append("this message is long: only the first part is shown")
    return text, tuple(dict.fromkeys(warnings))


def _parts(payload: Any, warnings: list[str]) -> list[Json]:
    """The MIME tree's parts, depth first, within MAX_PARTS and MAX_DEPTH."""
    out: list[Json] = []
    stack: list[tuple[Any, int]] = [(payload, 0)]
    while stack:
        part, depth = stack.pop()
        if not isinstance(part, dict):
            continue
        if len(out) >= MAX_PARTS or depth > MAX_DEPTH:
            warnings.append("this message has too many parts: some are not shown")
            break
        out.append(part)
        children = part.get("parts")
        if isinstance(children, list):
            stack.extend((c, depth + 1) for c in reversed(children))
    return out


def _is_attachment(part: Json) -> bool:
    if part.get("filename"):
        return True
    disposition = headers_of(part).get("content-disposition", "")
    return disposition.strip().casefold().startswith("attachment")


def _part_text(part: Json, warnings: list[str]) -> str:
    body = part.get("body")
    body = body if isinstance(body, dict) else {}
    data = body.get("data")
    if not isinstance(data, str):
        if body.get("attachmentId"):
            warnings.append("a part of this message is too large to show here")
        return ""
    cut = len(data) > B64_CUT
    raw = _unbase64(data[:B64_CUT], warnings)
    return _text(raw, _charset(part), warnings, final=not cut)


def _unbase64(data: str, warnings: list[str]) -> bytes:
    try:
        return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        warnings.append("a part of this message is damaged: it cannot be shown")
        return b""


def _charset(part: Json) -> str:
    content_type = headers_of(part).get("content-type", "")
    msg = email.message.Message()
    msg["Content-Type"] = content_type or "text/plain"
    return msg.get_content_charset() or "utf-8"


def _text(raw: bytes, charset: str, warnings: list[str], *, final: bool) -> str:
    """Decoded text; a part cut short may end inside a character, which is dropped."""
    try:
        text = codecs.getincrementaldecoder(charset)().decode(raw, final=final)
    except LookupError:
        warnings.append(f"this message names an unknown character set ({charset[:40]!r})")
        text = raw.decode("utf-8", "replace")
    except UnicodeDecodeError:
        warnings.append("this message has a broken character set: some text may be wrong")
        text = raw.decode(charset, "replace")
    return text.replace("\r\n", "\n")
