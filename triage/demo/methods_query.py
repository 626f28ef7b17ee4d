"""Email/query and Email/queryChanges of the in-memory JMAP server (RFC 8621 4.4-4.5).

Owns filter conditions and operators, sorting, collapsing threads, the result
window (position, anchor, limit) and the per-state cache of query results.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from triage.demo.api import Answer, Api
from triage.demo.store import (
    Json,
    MethodError,
    StoredEmail,
    header_text,
    parse_utc,
)

if TYPE_CHECKING:
    from triage.demo.server import JmapServer


Test = Callable[[StoredEmail], bool]


def _text_in(needle: str, *fields: str | None) -> bool:
    return any(needle in (f or "").lower() for f in fields)


def _keyword_test(s: JmapServer, key: str, value: str) -> Test:
    word = value.lower()
    if key == "hasKeyword":
        return lambda e: word in e.keywords
    if key == "notKeyword":
        return lambda e: word not in e.keywords
    pick = {"allInThreadHaveKeyword": all, "someInThreadHaveKeyword": any}.get(key)
    if pick is not None:
        return lambda e: pick(word in m.keywords for m in s.thread_emails(e.thread_id))
    return lambda e: not any(word in m.keywords for m in s.thread_emails(e.thread_id))


def _condition(s: JmapServer, key: str, value: Any) -> Test:
    if key == "inMailbox":
        return lambda e: value in e.mailbox_ids
    if key == "inMailboxOtherThan":
        others = set(value)
        return lambda e: any(m not in others for m in e.mailbox_ids)
    if key in ("after", "before"):
        at = parse_utc(value)
        return (lambda e: e.received_at >= at) if key == "after" else (lambda e: e.received_at < at)
    if key in ("minSize", "maxSize"):
        return (lambda e: e.size >= value) if key == "minSize" else (lambda e: e.size < value)
    if key.endswith("Keyword"):
        return _keyword_test(s, key, value)
    if key in ("from", "to", "cc", "bcc", "subject"):
        needle = str(value).lower()
        return lambda e: _text_in(needle, header_text(e, key))
    if key in ("body", "text"):
        needle = str(value).lower()
        if key == "body":
            return lambda e: _text_in(needle, e.text, e.html)
        heads = ("from", "to", "cc", "subject")
        return lambda e: _text_in(needle, e.text, e.html, *(header_text(e, h) for h in heads))
    if key == "header" and isinstance(value, list) and 1 <= len(value) <= 2:
        want = str(value[1]).lower() if len(value) == 2 else None
        return lambda e: (
            (h := header_text(e, value[0])) is not None and (want is None or want in h.lower())
        )
    raise MethodError("unsupportedFilter", f"Email filter {key!r} is not supported")


def _predicate(s: JmapServer, flt: Any) -> Test:
    if not isinstance(flt, dict):
        raise MethodError("invalidArguments", "a filter must be an object")
    if "operator" in flt:
        subs = [_predicate(s, c) for c in flt.get("conditions", [])]
        op = flt["operator"]
        if op == "AND":
            return lambda e: all(p(e) for p in subs)
        if op == "OR":
            return lambda e: any(p(e) for p in subs)
        if op == "NOT":
            return lambda e: not any(p(e) for p in subs)
        raise MethodError("unsupportedFilter", f"operator {op!r}")
    tests = [_condition(s, k, v) for k, v in flt.items()]
    return lambda e: all(t(e) for t in tests)


SORT_KEYS: dict[str, Callable[[StoredEmail], Any]] = {
    "receivedAt": lambda e: e.received_at,
    "sentAt": lambda e: e.sent_at,
    "size": lambda e: e.size,
    "subject": lambda e: e.subject.lower(),
    "from": lambda e: e.from_[0]["email"] if e.from_ else "",
}


def _sorted_ids(s: JmapServer, sort: list[Json]) -> list[str]:
    if len(sort) == 1 and sort[0].get("property") == "receivedAt":
        ids = [i for _, i in s.sorted_emails()]
        return ids if sort[0].get("isAscending", True) else ids[::-1]
    emails = [s.emails[i] for _, i in s.sorted_emails()]
    for rule in reversed(sort):  # stable sorts, least significant first
        key = SORT_KEYS.get(rule.get("property", ""))
        if key is None:
            raise MethodError("unsupportedSort", f"cannot sort by {rule.get('property')!r}")
        emails.sort(key=key, reverse=not rule.get("isAscending", True))
    return [e.id for e in emails]


def _query_ids(s: JmapServer, flt: Any, sort: list[Json], collapse: bool) -> list[str]:
    cache_key = json.dumps([flt, sort, collapse], sort_keys=True)
    cached = s.query_cache().get(cache_key)
    if cached is not None:
        return cached
    ids = _sorted_ids(s, sort)
    box = flt.get("inMailbox") if isinstance(flt, dict) else None
    if isinstance(box, str):  # the common case: narrow by the mailbox index first
        members = s.by_mailbox.get(box, set())
        ids = [i for i in ids if i in members]
        flt = {k: v for k, v in flt.items() if k != "inMailbox"}
    if flt:
        test = _predicate(s, flt)
        ids = [i for i in ids if test(s.emails[i])]
    if collapse:
        ids = _first_per_thread(s, ids)
    s.query_cache()[cache_key] = ids
    return ids


def _first_per_thread(s: JmapServer, ids: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for email_id in ids:
        thread = s.emails[email_id].thread_id
        if thread not in seen:
            seen.add(thread)
            out.append(email_id)
    return out


def _window(ids: list[str], args: Json) -> tuple[int, list[str]]:
    position = int(args.get("position") or 0)
    anchor = args.get("anchor")
    if anchor is not None:
        if anchor not in ids:
            raise MethodError("anchorNotFound", f"{anchor!r} is not in the results")
        position = max(0, ids.index(anchor) + int(args.get("anchorOffset") or 0))
    elif position < 0:
        position = max(0, len(ids) + position)
    limit = args.get("limit")
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise MethodError("invalidArguments", "limit must be a non-negative integer")
    end = len(ids) if limit is None else position + limit
    return position, ids[position:end]


def email_query(api: Api, args: Json) -> Answer:
    sort = args.get("sort") or [{"property": "receivedAt", "isAscending": False}]
    ids = _query_ids(api.s, args.get("filter"), sort, bool(args.get("collapseThreads")))
    position, window = _window(ids, args)
    answer: Json = {"accountId": api.s.account_id, "queryState": str(api.s.state),
                    "canCalculateChanges": False, "position": position, "ids": window}  # fmt: skip
    if args.get("calculateTotal"):
        answer["total"] = len(ids)
    return [("Email/query", answer)]


def email_query_changes(api: Api, args: Json) -> Answer:
    raise MethodError("cannotCalculateChanges", "re-run Email/query")
