"""How triage's shared state looks in JMAP: marks as keywords, notes as emails.

A mark is a keyword on every email of the thread, lowercase (servers such as
Cyrus lowercase keywords): `triage-<kind>` (`triage-escalated`, `triage-done`), or
`triage-<kind>-<value>` for a mark with a value (`triage-owner-<manager id>`). A
note is an email in a mailbox of its own ("Triage Notes"), with the keyword
`triage-note` (and `triage-account-note` for an account-level reassignment),
joined to the client's thread by its References.
"""

from __future__ import annotations

from collections.abc import Iterable

from triage.domain.model import Mark, MarkKind

KW_PREFIX = "triage-"
KW_OWNER_PREFIX = "triage-owner-"
KW_ESCALATED = "triage-escalated"
KW_ACK = "triage-ack"
KW_NOTE = "triage-note"
KW_ACCOUNT_NOTE = "triage-account-note"
_KINDS = {kind.value: kind for kind in MarkKind}


def keyword(mark: Mark) -> str:
    """The JMAP keyword that stores `mark`: `triage-<kind>`, or `triage-<kind>-<value>`."""
    if mark.value:
        return f"{KW_PREFIX}{mark.kind.value}-{mark.value.casefold()}"
    return KW_PREFIX + mark.kind.value


def mark_of(keyword_: str) -> Mark | None:
    """The mark a keyword stores, or None for keywords that are not triage's marks
    (the notes' own keywords, and the marks of a kind this version does not know)."""
    if not keyword_.startswith(KW_PREFIX):
        return None
    name, _, value = keyword_[len(KW_PREFIX) :].partition("-")
    kind = _KINDS.get(name)
    if kind is None or bool(value) != (kind in _VALUED):
        return None
    return Mark(kind, value)


_VALUED = frozenset({MarkKind.OWNER, MarkKind.REPLYING, MarkKind.NUDGE})


def marks_of(keywords: Iterable[str]) -> frozenset[Mark]:
    return frozenset(m for m in map(mark_of, keywords) if m is not None)
