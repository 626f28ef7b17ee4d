"""Reading JMAP answers (RFC 8620/8621) into triage's values, and building requests.

Pure functions: every wrong type or missing field becomes a ProviderError that
names the method, never a KeyError or TypeError deep in the sync engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from triage.providers.base import (
    CannotCalculateChanges,
    OutgoingReply,
    ProviderError,
    UnclearOutcome,
)
from triage.text.mailtext import html_to_text


@dataclass(frozen=True)
class EmailSummary:
    """One email's JMAP properties as sync reads them (no body)."""

    id: str
    thread_id: str
    mailbox_ids: frozenset[str]
    keywords: frozenset[str]
    from_name: str
    from_email: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    received_at: datetime
    message_id: str
    references: tuple[str, ...] = ()
    preview: str = ""


class Unanswered(ProviderError):
    """The server's answer has no response to one of our calls."""


def result(responses: list[list[Any]], call_id: str, method: str) -> dict[str, Any]:
    """The arguments of one method response, or a typed error (RFC 8620 section 3.6.2)."""
    for name, args, cid in responses:
        if cid != call_id:
            continue
        if name == "error":
            raise method_error(method, args)
        if name == method:  # implicit calls (onSuccessUpdateEmail) share the call id
            return dict(args)
    raise Unanswered(f"{method}: the server did not answer this call")


def method_error(method: str, args: dict[str, Any]) -> ProviderError:
    kind = str(args.get("type", "serverFail"))
    detail = str(args.get("description", ""))[:200]
    if kind == "serverPartialFail":  # some of it may have been applied
        return UnclearOutcome(f"{method}: the server partly failed")
    if kind == "cannotCalculateChanges":
        return CannotCalculateChanges(f"{method}: the server cannot calculate changes")
    if kind == "invalidArguments" and "sinceState" in as_list(args.get("arguments")):
        # Cyrus answers a state it cannot parse (another server's, a garbled cache) this
        # way instead of cannotCalculateChanges: either way only a full resync helps.
        return CannotCalculateChanges(f"{method}: the server does not know our sync state")
    text = {
        "unknownMethod": "the server does not support this method",
        "invalidArguments": "the server rejected the arguments",
        "accountNotFound": "the account was not found (check provider.account)",
        "accountNotSupportedByMethod": "the account does not support mail",
        "accountReadOnly": "the account is read-only",
        "forbidden": "the server forbids this for this account",
        "requestTooLarge": "the request was too large for the server",
        "serverUnavailable": "the server is temporarily unavailable",
        "serverFail": "the server failed",
        "serverPartialFail": "the server partly failed",
        "stateMismatch": "the data changed on the server meanwhile",
        "tooManyChanges": "too many changes at once",
    }.get(kind, f"the server answered with an error ({kind})")
    return ProviderError(f"{method}: {text}" + (f": {detail}" if detail else ""))


def check_set(r: dict[str, Any], key: str, what: str) -> None:
    failed = r.get(key)
    if failed:
        first = next(iter(failed.values())) if isinstance(failed, dict) else None
        kind = first.get("type", "error") if isinstance(first, dict) else "error"
        desc = first.get("description", "") if isinstance(first, dict) else ""
        raise ProviderError(f"{what}: {kind} {desc}".strip())


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# A malformed answer must fail the round, never read as "no mail": an empty list
# here would make the sync drop conversations from the cache.
def ids_of(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
        raise ProviderError(f"{what}: the server's answer is not a list of ids")
    return value


def objects_of(r: dict[str, Any], method: str) -> list[dict[str, Any]]:
    """The `list` of a Foo/get answer: objects with a string id, or an error."""
    items = r.get("list")
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and isinstance(i.get("id"), str) for i in items
    ):
        raise ProviderError(f"{method}: the server sent a malformed list")
    return items


def thread_of(e: dict[str, Any]) -> str:
    if not isinstance(e.get("threadId"), str):
        raise ProviderError("the server sent an email without threadId")
    return str(e["threadId"])


def flags_of(e: dict[str, Any], key: str) -> dict[str, Any]:
    value = e.get(key) or {}
    if not isinstance(value, dict):
        raise ProviderError(f"the server sent an email whose {key} is not an object")
    return value


def went_back(since: str, new: Any) -> bool:
    """True when decimal states (Cyrus's modseqs) go backwards: a full resync is needed."""
    return since.isdigit() and isinstance(new, str) and new.isdigit() and int(new) < int(since)


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), max(1, size)):
        yield items[i : i + size]


def addresses(value: Any) -> list[tuple[str, str]]:
    out = []
    for a in as_list(value):
        if isinstance(a, dict):
            out.append((str(a.get("name") or ""), str(a.get("email") or "")))
    return out


def parse_utc(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ProviderError("an email has no valid receivedAt date")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        raise ProviderError(f"an email has an unreadable date: {value[:40]!r}") from None


def summary_of(e: dict[str, Any]) -> EmailSummary:
    """An `Email/get` object (summary properties) -> EmailSummary; wrong types are errors."""
    if not isinstance(e.get("id"), str) or not isinstance(e.get("threadId"), str):
        raise ProviderError("the server sent an email without id or threadId")
    sender = addresses(e.get("from"))
    to = addresses(e.get("to"))
    mids = [str(m) for m in as_list(e.get("messageId"))]
    return EmailSummary(
        id=e["id"],
        thread_id=e["threadId"],
        mailbox_ids=frozenset(k for k, v in flags_of(e, "mailboxIds").items() if v),
        keywords=frozenset(k.casefold() for k, v in flags_of(e, "keywords").items() if v),
        from_name=sender[0][0] if sender else "",
        from_email=sender[0][1] if sender else "",
        to=tuple(a for _n, a in to),
        cc=tuple(a for _n, a in addresses(e.get("cc"))),
        subject=str(e.get("subject") or ""),
        received_at=parse_utc(e.get("receivedAt")),
        message_id=mids[0] if mids else "",
        references=tuple(str(m) for m in as_list(e.get("references"))),
        preview=str(e.get("preview") or ""),
    )


def body_of(e: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """Text of an email from its body parts; HTML is converted without fetching anything."""
    values = e.get("bodyValues")
    values = values if isinstance(values, dict) else {}
    warnings: list[str] = []

    def text_of(parts: Any) -> str:
        chunks = []
        for p in as_list(parts):
            v = values.get(str(p.get("partId"))) if isinstance(p, dict) else None
            if not isinstance(v, dict):
                continue
            if v.get("isTruncated"):
                warnings.append("this message is long: only the first part is shown")
            if v.get("isEncodingProblem"):
                warnings.append("this message has a broken character set: some text may be wrong")
            value = str(v.get("value") or "")
            # Each HTML part on its own: a plain part beside it keeps its line breaks.
            chunks.append(html_to_text(value) if p.get("type") == "text/html" else value)
        return "\n".join(chunks)

    text = text_of(e.get("textBody"))
    if not text.strip():  # an empty or blank text part: read the HTML one
        text = text_of(e.get("htmlBody")) or text
    return text, tuple(dict.fromkeys(warnings))


def reply_email(reply: OutgoingReply, from_email: str, mailbox: str) -> dict[str, Any]:
    """The Email/set object of a reply (headers already made safe by the caller)."""
    return {
        "mailboxIds": {mailbox: True},
        "keywords": {"$draft": True, "$seen": True},
        "from": [{"name": reply.from_name, "email": from_email}],
        "to": [{"email": a} for a in reply.to],
        "cc": [{"email": a} for a in reply.cc],
        "subject": reply.subject,
        "messageId": [reply.message_id.strip("<>")],
        "inReplyTo": [reply.in_reply_to.strip("<>")] if reply.in_reply_to else None,
        "references": [r.strip("<>") for r in reply.references] or None,
        "bodyValues": {"1": {"value": reply.body}},
        "textBody": [{"partId": "1", "type": "text/plain"}],
    }
