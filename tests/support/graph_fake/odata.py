"""The OData pieces of Graph the fake understands: `$select`, `$top`, `$skip` and the few
`$filter` expressions the provider sends, and a message as Graph renders it.

A `$filter` outside that set, or a `$select` of a property messages do not have, is
a 400 (as Graph answers an unknown property), so the provider cannot come to rely on
something the fake would silently ignore. Delta accepts only `receivedDateTime ge|gt`
(learn.microsoft.com/graph/delta-query-messages).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from tests.support.graph_fake.store import FakeMessage, html_as_text, utc
from triage.text.isotime import parse_iso

Json = dict[str, Any]
MESSAGE_PROPS = frozenset(
    {
        "id",
        "conversationId",
        "parentFolderId",
        "from",
        "sender",
        "toRecipients",
        "ccRecipients",
        "subject",
        "receivedDateTime",
        "sentDateTime",
        "internetMessageId",
        "categories",
        "isDraft",
        "isRead",
        "body",
        "bodyPreview",
        "internetMessageHeaders",
        "replyTo",
    }
)
_LITERAL = r"'((?:[^']|'')*)'"
FILTERS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"^conversationId eq {_LITERAL}$"), "conversationId"),
    (re.compile(rf"^internetMessageId eq {_LITERAL}$"), "internetMessageId"),
    (re.compile(rf"^displayName eq {_LITERAL}$"), "displayName"),
    (re.compile(rf"^categories/any\(c:c eq {_LITERAL}\)$"), "category"),
    (re.compile(r"^receivedDateTime (ge|gt) (\S+)$"), "received"),
]


class BadQuery(Exception):
    """A query Graph would refuse (400)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def params(query: str) -> dict[str, str]:
    return {k: v for k, v in parse_qsl(query, keep_blank_values=True)}


def select_of(q: dict[str, str]) -> set[str] | None:
    if "$select" not in q:
        return None
    props = {p.strip() for p in q["$select"].split(",") if p.strip()}
    unknown = props - MESSAGE_PROPS - {"displayName", "mail", "userPrincipalName"}
    if unknown:
        raise BadQuery(
            "RequestBroker--ParseUri",
            f"Could not find a property named '{sorted(unknown)[0]}' on type "
            "'microsoft.graph.message'.",
        )
    return props


def top_of(q: dict[str, str], default: int = 10) -> int:
    text = q.get("$top", "")
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= 1000:
        raise BadQuery("ErrorInvalidUrlQuery", f"Invalid $top value '{text}'.")
    return int(text)


def message_filter(text: str, *, delta: bool = False) -> Callable[[FakeMessage], bool]:
    """The predicate of a `$filter` the provider may send on messages."""
    if not text:
        return lambda m: True
    for pattern, kind in FILTERS:
        match = pattern.match(text.strip())
        if match is None or (delta and kind != "received"):
            continue
        if kind == "received":
            return _received(match.group(1), match.group(2))
        value = match.group(1).replace("''", "'")
        return _equals(kind, value)
    raise BadQuery("ErrorInvalidUrlQueryFilter", f"The filter '{text[:80]}' is not supported.")


def _received(op: str, when: str) -> Callable[[FakeMessage], bool]:
    at = parse_iso(when)
    return (lambda m: m.received >= at) if op == "ge" else (lambda m: m.received > at)


def _equals(kind: str, value: str) -> Callable[[FakeMessage], bool]:
    if kind == "conversationId":
        return lambda m: m.conversation_id == value
    if kind == "internetMessageId":
        return lambda m: m.internet_message_id == value
    if kind == "category":
        return lambda m: any(c.casefold() == value.casefold() for c in m.categories)
    raise BadQuery("ErrorInvalidUrlQueryFilter", f"messages cannot be filtered by {kind}")


def recipient(name: str, address: str) -> Json:
    return {"emailAddress": {"name": name, "address": address}}


def render(m: FakeMessage, select: set[str] | None, *, text_body: bool = False) -> Json:
    """A message as Graph sends it: the selected properties (all but headers without one)."""
    body = html_as_text(m.body) if text_body and m.body_type == "html" else m.body
    kind = "text" if text_body else m.body_type
    full: Json = {
        "id": m.id,
        "conversationId": m.conversation_id,
        "parentFolderId": m.folder,
        "subject": m.subject,
        "from": recipient(*m.sender),
        "sender": recipient(*m.sender),
        "toRecipients": [recipient(*r) for r in m.to],
        "ccRecipients": [recipient(*r) for r in m.cc],
        "receivedDateTime": utc(m.received),
        "sentDateTime": utc(m.received),
        "internetMessageId": m.internet_message_id,
        "categories": list(m.categories),
        "isDraft": m.is_draft,
        "isRead": True,
        "replyTo": [],
        "body": {"contentType": kind, "content": body},
        "bodyPreview": html_as_text(m.body)[:255],
    }
    if select is None:
        out = full
    else:
        out = {k: v for k, v in full.items() if k in select or k == "id"}
        if "internetMessageHeaders" in select:
            out["internetMessageHeaders"] = m.headers()
    return {"@odata.etag": m.etag, **out}


def when(text: str) -> datetime:
    return parse_iso(text)
