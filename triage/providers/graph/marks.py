"""How triage's shared state looks in Microsoft 365: marks as categories, notes as messages.

A mark is a category on every message of the conversation: `triage:<kind>` for a
mark without a value (`triage:escalated`, `triage:ack`) and `triage:<kind>:<value>`
for one with a value (`triage:owner:alice`). Any `triage:` category whose kind is a
`MarkKind` is read back, so a new kind needs no change here; other `triage:`
categories (a newer triage's kinds) are left alone. Categories carry every value
triage stores (a kind and a short id), so no extended property is needed; they are
also what delta reports when they change, which extended properties are not known to be.

A note is a message in the notes folder (`provider.notes_mailbox`, "Triage Notes")
with the category `triage-note` (and `triage-account-note` for an account-level
reassignment), created as a reply draft of the conversation so it shares its
`conversationId`, and never sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from triage.domain.model import Mark, MarkKind

PREFIX = "triage:"
NOTE_CATEGORY = "triage-note"
ACCOUNT_NOTE_CATEGORY = "triage-account-note"
_KINDS = {k.value: k for k in MarkKind}


def category(mark: Mark) -> str:
    """The category that stores `mark`."""
    return PREFIX + mark.kind.value + (f":{mark.value}" if mark.value else "")


def mark_of(name: str) -> Mark | None:
    """The mark a category stores, or None for categories that are not triage's marks."""
    if not name.casefold().startswith(PREFIX):
        return None
    kind, _, value = name[len(PREFIX) :].partition(":")
    found = _KINDS.get(kind.casefold())
    return Mark(found, value) if found is not None else None


def marks_of(names: Iterable[str]) -> frozenset[Mark]:
    return frozenset(m for m in map(mark_of, names) if m is not None)


def with_marks(names: Iterable[str], marks: Mapping[Mark, bool]) -> list[str]:
    """The categories after setting (True) or clearing (False) each mark; the message's
    other categories (a person's own, other triage kinds) are kept, in their order."""
    drop = {category(m).casefold() for m, on in marks.items() if not on}
    add = [category(m) for m, on in marks.items() if on]
    kept = [n for n in names if n.casefold() not in drop]
    have = {n.casefold() for n in kept}
    return kept + [c for c in dict.fromkeys(add) if c.casefold() not in have]
