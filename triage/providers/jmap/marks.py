"""How triage's shared state looks in JMAP: marks as keywords, notes as emails.

A mark is a keyword on every email of the thread, lowercase (servers such as
Cyrus lowercase keywords): `triage-owner-<manager id>`, `triage-escalated`,
`triage-ack`. A note is an email in a mailbox of its own ("Triage Notes"), with
the keyword `triage-note` (and `triage-account-note` for an account-level
reassignment), joined to the client's thread by its References.
"""

from __future__ import annotations

from collections.abc import Iterable

from triage.domain.model import Mark, MarkKind

KW_OWNER_PREFIX = "triage-owner-"
KW_ESCALATED = "triage-escalated"
KW_ACK = "triage-ack"
KW_NOTE = "triage-note"
KW_ACCOUNT_NOTE = "triage-account-note"
_FLAGS = {KW_ESCALATED: MarkKind.ESCALATED, KW_ACK: MarkKind.ACK}
_KEYWORDS = {kind: kw for kw, kind in _FLAGS.items()}


def keyword(mark: Mark) -> str:
    """The JMAP keyword that stores `mark`."""
    if mark.kind is MarkKind.OWNER:
        return KW_OWNER_PREFIX + mark.value.casefold()
    return _KEYWORDS[mark.kind]


def mark_of(keyword_: str) -> Mark | None:
    """The mark a keyword stores, or None for keywords that are not triage's marks."""
    if keyword_.startswith(KW_OWNER_PREFIX) and len(keyword_) > len(KW_OWNER_PREFIX):
        return Mark(MarkKind.OWNER, keyword_[len(KW_OWNER_PREFIX) :])
    kind = _FLAGS.get(keyword_)
    return Mark(kind) if kind is not None else None


def marks_of(keywords: Iterable[str]) -> frozenset[Mark]:
    return frozenset(m for m in map(mark_of, keywords) if m is not None)
