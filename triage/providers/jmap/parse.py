"""Reading JMAP answers (RFC 8620/8621) into triage's values, and building requests.

Pure functions: every wrong type or missing field becomes a ProviderError that
names the method, never a KeyError or TypeError deep in the sync engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from triage.providers.base import (
    CannotCalculateChanges,
    OutgoingReply,
    ProviderError,
    UnclearOutcome,
)
from triage.providers.common import received_time
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
    problems: tuple[str, ...] = ()  # what could not be read (the email is kept regardless)
    readable: bool = True  # False: not even fetched (too large, undecodable)
    mailboxes_known: bool = True  # False: taken as in the watched mailbox (stays visible)


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


def summary_of(e: dict[str, Any], now: datetime, thread_hint: str = "") -> EmailSummary:
    """An `Email/get` object -> EmailSummary. Each field is read on its own: one of the
    wrong type is noted as a problem of this email, which stays visible (never an
    error that stops the sync for everyone)."""
    problems: list[str] = []
    thread_id = e.get("threadId")
    if not isinstance(thread_id, str):
        problems.append("its thread id is unreadable")
        thread_id = thread_hint
    mailboxes, keywords = e.get("mailboxIds"), e.get("keywords")
    if not isinstance(mailboxes, dict):
        problems.append("its mailboxes are unreadable")
    if not isinstance(keywords, dict | None):
        problems.append("its flags are unreadable")
    received, problem = received_time(e.get("receivedAt"), now)
    problems += [problem] if problem else []
    subject = e.get("subject")
    if not isinstance(subject, str | None):
        problems.append("its subject is unreadable")
    sender = addresses(e.get("from"))
    mids = [str(m) for m in as_list(e.get("messageId"))]
    return EmailSummary(
        id=str(e["id"]),
        thread_id=str(thread_id),
        mailbox_ids=frozenset(k for k, v in mailboxes.items() if v)
        if isinstance(mailboxes, dict) else frozenset(),
        keywords=frozenset(k.casefold() for k, v in keywords.items() if v)
        if isinstance(keywords, dict) else frozenset(),
        from_name=sender[0][0] if sender else "",
        from_email=sender[0][1] if sender else "",
        to=tuple(a for _n, a in addresses(e.get("to"))),
        cc=tuple(a for _n, a in addresses(e.get("cc"))),
        subject=subject if isinstance(subject, str) else "",
        received_at=received,
        message_id=mids[0] if mids else "",
        references=_kept_references(as_list(e.get("references"))),
        preview=str(e.get("preview") or ""),
        problems=tuple(problems),
        mailboxes_known=isinstance(mailboxes, dict),
    )  # fmt: skip


REFERENCES_READ = 20  # the root and the latest: all a reply or a note needs to join


def _kept_references(refs: list[Any]) -> tuple[str, ...]:
    """The thread's root and the latest References (some mailers send hundreds)."""
    kept = refs if len(refs) <= REFERENCES_READ else [refs[0], *refs[-(REFERENCES_READ - 1) :]]
    return tuple(str(m) for m in kept)


def unreadable(email_id: str, thread_id: str, now: datetime, why: str) -> EmailSummary:
    """An email that could not be fetched at all: kept, so its thread keeps a deadline."""
    return EmailSummary(email_id, thread_id, frozenset(), frozenset(), "", "", (), (), "", now,
                        "", problems=(why,), readable=False, mailboxes_known=False)  # fmt: skip


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
