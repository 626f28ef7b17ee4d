"""What the in-memory JMAP server stores, and the JMAP value helpers around it.

Owns the capability names, URLs and limits the server advertises; the method errors;
the stored records (StoredEmail, Mailbox, Login); the per-type change log
behind `*/changes`; and the small conversions every part shares: UTC date text,
addresses, message ids, keywords, JSON pointers and an email's header text and raw
RFC 5322 form. Plain data and pure functions: no HTTP, no clock reads.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

CORE = "urn:ietf:params:jmap:core"
MAIL = "urn:ietf:params:jmap:mail"
SUBMISSION = "urn:ietf:params:jmap:submission"
BASE_URL = "https://demo.invalid"
WELL_KNOWN = "/.well-known/jmap"
SESSION_PATH = "/jmap/session"
API_PATH = "/jmap/api/"
LIMITS = {
    "maxSizeUpload": 10_000_000,
    "maxConcurrentUpload": 4,
    "maxSizeRequest": 10_000_000,
    "maxConcurrentRequests": 4,
    "maxCallsInRequest": 16,
    "maxObjectsInGet": 500,
    "maxObjectsInSet": 500,
    "collationAlgorithms": ["i;ascii-casemap"],
}
KEEP_CHANGES = 10_000
_KEYWORD = re.compile(r"[\x21-\x7e]+")
_KEYWORD_FORBIDDEN = set('(){]%*"\\')
Json = dict[str, Any]


class MethodError(Exception):
    """A JMAP method-level error (RFC 8620 3.6.2), answered as an "error" response."""

    def __init__(self, kind: str, description: str = "", **extra: Any) -> None:
        super().__init__(description or kind)
        self.kind, self.description, self.extra = kind, description, extra

    def as_json(self) -> Json:
        out: Json = {"type": self.kind, **self.extra}
        if self.description:
            out["description"] = self.description
        return out


class SetError(MethodError):
    """A per-object error inside a /set answer (notCreated, notUpdated, notDestroyed)."""


@dataclass(frozen=True)
class Login:
    """Accepted credentials: Basic (username, password) or Bearer (token)."""

    username: str
    password: str
    bearer: str


@dataclass(slots=True)
class StoredEmail:
    """One message as the server keeps it (a parsed view; no MIME tree)."""

    id: str
    thread_id: str
    mailbox_ids: dict[str, bool]
    keywords: dict[str, bool]
    from_: list[Json]
    to: list[Json]
    cc: list[Json]
    subject: str
    received_at: datetime
    sent_at: datetime
    message_id: list[str]
    in_reply_to: list[str] | None
    references: list[str] | None
    text: str
    html: str | None = None
    bcc: list[Json] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # extra headers, lowercased names

    @property
    def size(self) -> int:
        return 400 + len(self.text.encode()) + len((self.html or "").encode())

    @property
    def preview(self) -> str:
        source = self.text or re.sub(r"<[^>]*>", " ", self.html or "")
        return " ".join(source.split())[:256]


@dataclass
class Mailbox:
    id: str
    name: str
    role: str | None
    sort_order: int = 0
    parent_id: str | None = None


class ChangeLog:
    """Created/updated/destroyed ids per state for one type, keeping the last `keep`."""

    def __init__(self, keep: int = KEEP_CHANGES) -> None:
        self.keep = keep
        self.entries: list[tuple[int, str, str]] = []  # (state, id, kind)
        self.floor = 0  # changes since a state below this cannot be calculated

    def add(self, state: int, item_id: str, kind: str) -> None:
        self.entries.append((state, item_id, kind))
        if len(self.entries) > 2 * self.keep:  # trim in bulk: amortised O(1) per add
            drop = len(self.entries) - self.keep
            self.floor = self.entries[drop - 1][0]
            del self.entries[:drop]

    def forget(self, state: int) -> None:
        self.entries.clear()
        self.floor = state

    def since(self, since: str, max_changes: int | None, current: int) -> Json:
        if not since.isdigit() or not self.floor <= int(since) <= current:
            raise MethodError("cannotCalculateChanges", f"state {since!r} is too old or unknown")
        start = bisect.bisect_right(self.entries, int(since), key=lambda e: e[0])
        window = self.entries[start:]
        more = max_changes is not None and len(window) > max_changes
        if more and max_changes is not None:
            window = window[:max_changes]
        first: dict[str, str] = {}
        last: dict[str, str] = {}
        for _, item_id, kind in window:
            first.setdefault(item_id, kind)
            last[item_id] = kind
        out: dict[str, list[str]] = {"created": [], "updated": [], "destroyed": []}
        for item_id, kind in last.items():
            born = first[item_id] == "created"
            if kind == "destroyed":
                if not born:
                    out["destroyed"].append(item_id)
            else:
                out["created" if born else "updated"].append(item_id)
        new_state = window[-1][0] if more else current
        return {"oldState": since, "newState": str(new_state), "hasMoreChanges": more, **out}


def utc_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError, AttributeError):
        raise MethodError("invalidArguments", f"not a date-time: {text!r}") from None
    if at.tzinfo is None:
        raise MethodError("invalidArguments", f"date-time without offset: {text!r}")
    return at.astimezone(UTC)


def bare_id(message_id: str) -> str:
    return message_id.strip().strip("<>").strip()


def address(text: str) -> Json:
    if "<" not in text and " " not in text and "," not in text:  # bulk delivery's fast path
        return {"name": None, "email": text}
    name, email = parseaddr(text)
    return {"name": name or None, "email": email or text}


def _addresses_text(items: list[Json]) -> str | None:
    return ", ".join(formataddr((a.get("name") or "", a["email"])) for a in items) or None


def _ids_text(ids: list[str] | None) -> str | None:
    return " ".join(f"<{i}>" for i in ids) if ids else None


def check_keywords(value: object) -> dict[str, bool]:
    """Validate a keywords map and lowercase it, as Cyrus does."""
    if not isinstance(value, dict):
        raise SetError("invalidProperties", "keywords must be a map", properties=["keywords"])
    out: dict[str, bool] = {}
    for key, flag in value.items():
        if flag is not True or not is_keyword(key):
            raise SetError("invalidProperties", f"bad keyword {key!r}", properties=["keywords"])
        out[key.lower()] = True
    return out


def is_keyword(key: object) -> bool:
    return (
        isinstance(key, str)
        and 0 < len(key) <= 255
        and bool(_KEYWORD.fullmatch(key))
        and not _KEYWORD_FORBIDDEN & set(key)
    )


def pointer(value: Any, path: str) -> Any:
    """Evaluate a JSON pointer with the JMAP `*` extension (RFC 8620 3.7)."""
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in path.split("/")[1:]]
    return _walk(value, tokens) if path else value


def _walk(value: Any, tokens: list[str]) -> Any:
    if not tokens:
        return value
    head, rest = tokens[0], tokens[1:]
    if isinstance(value, list):
        if head != "*":
            return _walk(value[int(head)], rest)
        out: list[Any] = []
        for item in value:
            got = _walk(item, rest)
            out.extend(got if isinstance(got, list) else [got])
        return out
    if isinstance(value, dict):
        return _walk(value[head], rest)
    raise KeyError(head)


def header_text(email: StoredEmail, name: str) -> str | None:
    """The value of a header field as text (unfolded), or None when absent."""
    key = name.lower()
    addresses = {"from": email.from_, "to": email.to, "cc": email.cc, "bcc": email.bcc}
    if key in addresses:
        return _addresses_text(addresses[key])
    ids = {"message-id": email.message_id, "in-reply-to": email.in_reply_to,
           "references": email.references}  # fmt: skip
    if key in ids:
        return _ids_text(ids[key])
    if key == "subject":
        return email.subject
    if key == "date":
        return format_datetime(email.sent_at)
    return email.headers.get(key)


def raw_message(email: StoredEmail) -> bytes:
    lines = []
    for name in ("From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References"):
        value = header_text(email, name)
        if value is not None:
            lines.append(f"{name}: {value}")
    lines += [f"{k}: {v}" for k, v in email.headers.items()]
    kind = "text/plain" if email.text or not email.html else "text/html"
    lines += ["MIME-Version: 1.0", f"Content-Type: {kind}; charset=utf-8", ""]
    return ("\r\n".join(lines) + "\r\n" + (email.text or email.html or "")).encode()
