"""The mailbox behind the Gmail fake: messages, threads, labels and the history log.

Shaped from Google's Gmail API reference (users.messages, users.threads,
users.labels, users.history) and its threading guide, not from a live account.
What it models:
- messages kept as raw RFC 5322 bytes and served as Gmail does (format minimal,
  metadata with metadataHeaders, full MIME trees with base64url parts, raw),
  ids as hex strings, `internalDate` in milliseconds, HTML-escaped snippets;
- threading: a message joins a thread when it cites one of its messages
  (In-Reply-To / References) and its subject matches ("Re:" and "Fwd:" aside);
  a send or insert must also name the thread (`threadId`), else it starts its own;
- labels: system labels, user labels created by name (a clash is refused),
  label changes on every message of a thread;
- history: one record per change (messageAdded / messageDeleted / labelAdded /
  labelRemoved) with increasing ids; old records can be forgotten, after which
  an older start id is refused as Gmail does (404).
Plain data and pure functions of it: the HTTP face is `tests.support.gmail_fake`.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from typing import Any

from triage.clock import Clock

Json = dict[str, Any]
SYSTEM_LABELS = ("INBOX", "SENT", "DRAFT", "TRASH", "SPAM", "UNREAD", "STARRED", "IMPORTANT")
INLINE_LIMIT = 512 * 1024  # bigger parts are served by attachmentId, as Gmail does
_PREFIX = re.compile(r"^\s*((re|fwd?|aw|tr)\s*:\s*)+", re.IGNORECASE)


class Missing(Exception):
    """The id asked for does not exist (HTTP 404)."""


class Clash(Exception):
    """A label of that name exists already (HTTP 409)."""


class TooOld(Exception):
    """A history id Gmail no longer has records from (HTTP 404)."""


@dataclass
class Stored:
    """One message: its raw bytes, where it is filed, and when it changed last."""

    id: str
    thread_id: str
    raw: bytes
    labels: set[str]
    internal_ms: int
    history_id: int
    parsed: Message = field(repr=False, default_factory=EmailMessage)


def normal_subject(subject: str) -> str:
    return " ".join(_PREFIX.sub("", subject or "").split()).casefold()


def _ids(value: str | None) -> list[str]:
    return [t.strip("<>") for t in (value or "").replace(",", " ").split() if t.strip("<>")]


class GmailStore:
    """The mailbox of one user."""

    def __init__(self, clock: Clock, address: str) -> None:
        self.clock = clock
        self.address = address
        self.messages: dict[str, Stored] = {}
        self.threads: dict[str, list[str]] = {}
        self.labels: dict[str, Json] = {
            name: {"id": name, "name": name, "type": "system"} for name in SYSTEM_LABELS
        }
        self.history: list[Json] = []
        self.history_id = 4000
        self.history_floor = 0  # records up to this id are forgotten
        self._serial = 0x18C0000000000000
        self._label_serial = 0

    # -- writing -------------------------------------------------------------------------

    def add(
        self,
        raw: bytes,
        labels: set[str],
        *,
        at_ms: int | None = None,
        thread_id: str | None = None,
        need_thread_id: bool = False,
    ) -> Stored:
        """File a message; it joins the thread it cites (and, for a send or an insert, names)."""
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        self._serial += 0x1A3F
        mid = f"{self._serial:016x}"
        thread = self._thread_for(parsed, thread_id, need_thread_id) or mid
        ms = at_ms if at_ms is not None else int(self.clock.now().timestamp() * 1000)
        m = Stored(mid, thread, raw, set(labels), ms, self._next_history(), parsed)
        self.messages[mid] = m
        self.threads.setdefault(thread, []).append(mid)
        self._record("messagesAdded", [m], None)
        return m

    def _thread_for(self, parsed: Message, wanted: str | None, need: bool) -> str | None:
        if need and not wanted:
            return None
        if wanted is not None and wanted not in self.threads:
            raise Missing(f"thread {wanted}")
        cited = set(_ids(parsed.get("In-Reply-To"))) | set(_ids(parsed.get("References")))
        subject = normal_subject(str(parsed.get("Subject") or ""))
        for m in reversed(list(self.messages.values())):
            if wanted is not None and m.thread_id != wanted:
                continue
            own = _ids(m.parsed.get("Message-ID"))
            if (
                own
                and own[0] in cited
                and normal_subject(str(m.parsed.get("Subject") or "")) == subject
            ):
                return m.thread_id
        return None

    def delete(self, message_id: str) -> None:
        m = self.messages.pop(message_id)
        self.threads[m.thread_id].remove(message_id)
        if not self.threads[m.thread_id]:
            del self.threads[m.thread_id]
        self._next_history()
        self._record("messagesDeleted", [m], None)

    def modify(self, message_ids: list[str], add: list[str], remove: list[str]) -> None:
        for name in (*add, *remove):
            if name not in self.labels:
                raise KeyError(name)
        for mid in message_ids:
            m = self.messages[mid]
            added = [x for x in add if x not in m.labels]
            removed = [x for x in remove if x in m.labels and x not in add]
            if added or removed:
                m.history_id = self._next_history()
                m.labels |= set(added)
                m.labels -= set(removed)
            if added:
                self._record("labelsAdded", [m], added)
            if removed:
                self._record("labelsRemoved", [m], removed)

    def create_label(self, name: str) -> Json:
        clash = name.casefold() in {x["name"].casefold() for x in self.labels.values()}
        if clash or not name.strip():
            raise Clash(name)
        self._label_serial += 1
        label = {
            "id": f"Label_{self._label_serial}",
            "name": name,
            "type": "user",
            "labelListVisibility": "labelShow",
            "messageListVisibility": "show",
        }
        self.labels[label["id"]] = label
        return label

    def _next_history(self) -> int:
        self.history_id += 1
        return self.history_id

    def _record(self, kind: str, msgs: list[Stored], label_ids: list[str] | None) -> None:
        item: list[Json] = []
        for m in msgs:
            entry: Json = {
                "message": {"id": m.id, "threadId": m.thread_id, "labelIds": sorted(m.labels)}
            }
            if label_ids is not None:
                entry["labelIds"] = label_ids
            item.append(entry)
        self.history.append(
            {
                "id": str(self.history_id),
                kind: item,
                "messages": [{"id": m.id, "threadId": m.thread_id} for m in msgs],
            }
        )

    # -- history -----------------------------------------------------------------------

    def history_since(self, start: int) -> list[Json]:
        if start < self.history_floor or start > self.history_id:
            raise TooOld(str(start))
        return [r for r in self.history if int(r["id"]) > start]

    def forget_history(self) -> None:
        """Drop every record so far: the ids before now are refused (as after a week)."""
        self.history_floor = self.history_id
        self.history.clear()

    # -- reading -----------------------------------------------------------------------

    def thread_messages(self, thread_id: str) -> list[Stored]:
        if thread_id not in self.threads:
            raise Missing(f"thread {thread_id}")
        return sorted(
            (self.messages[i] for i in self.threads[thread_id]), key=lambda m: m.internal_ms
        )

    def resource(self, m: Stored, fmt: str = "full", headers: list[str] | None = None) -> Json:
        """A message as users.messages.get answers it in `fmt`."""
        out: Json = {
            "id": m.id,
            "threadId": m.thread_id,
            "labelIds": sorted(m.labels),
            "snippet": snippet(m.parsed),
            "historyId": str(m.history_id),
            "internalDate": str(m.internal_ms),
            "sizeEstimate": len(m.raw),
        }
        if fmt == "raw":
            out["raw"] = base64.urlsafe_b64encode(m.raw).decode()
        elif fmt == "metadata":
            wanted = {h.casefold() for h in headers or []}
            heads = [
                h for h in header_list(m.parsed) if not wanted or h["name"].casefold() in wanted
            ]
            out["payload"] = {"mimeType": m.parsed.get_content_type(), "headers": heads}
        elif fmt == "full":
            out["payload"] = part_json(m.parsed, "")
        return out


def header_list(part: Message) -> list[Json]:
    out = []
    for name, value in part.items():
        try:
            text = str(value)
        except Exception:  # a header the parser cannot even render: given as it came
            text = repr(value)
        out.append({"name": name, "value": text})
    return out


def part_json(part: Message, part_id: str) -> Json:
    """One MIME part as Gmail's MessagePart (children numbered "0", "0.1", ...)."""
    out: Json = {
        "partId": part_id,
        "mimeType": part.get_content_type(),
        "filename": part.get_filename() or "",
        "headers": header_list(part),
    }
    if part.is_multipart():
        children = part.get_payload()
        assert isinstance(children, list)
        prefix = f"{part_id}." if part_id else ""
        out["body"] = {"size": 0}
        out["parts"] = [part_json(c, f"{prefix}{i}") for i, c in enumerate(children)]
        return out
    data = part.get_payload(decode=True)
    data = data if isinstance(data, bytes) else b""
    if out["filename"] or len(data) > INLINE_LIMIT:
        out["body"] = {"size": len(data), "attachmentId": f"att-{part_id or 'root'}"}
    else:
        out["body"] = {"size": len(data), "data": base64.urlsafe_b64encode(data).decode()}
    return out


def snippet(parsed: Message) -> str:
    try:
        body = parsed.get_body(("plain", "html")) if isinstance(parsed, EmailMessage) else None
        text = body.get_content() if body is not None else ""
    except (KeyError, LookupError, ValueError, AssertionError):
        text = ""
    text = re.sub(r"<[^>]*>", " ", str(text))
    return html.escape(" ".join(text.split())[:100], quote=True)
