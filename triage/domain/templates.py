"""Canned replies and signatures: placeholders filled from the conversation, or left.

A template's body names placeholders in braces (`{client_first_name}`); `render`
fills those it has a value for and leaves the others in place, so the manager
sees what to write, and `unfilled` finds what is left: a reply that still has
one is not sent. A signature follows the standard "-- " separator line and is
added once: a reply that ends with it already is left as it is.
Pure: the values are given, nothing here reads the clock or the config file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from triage.domain.model import Conversation, Manager, Region
from triage.text.datefmt import weekday_time

PLACEHOLDERS = {
    "client_name": "the client's name (the contact's, else the account's)",
    "client_first_name": "the contact's first name, from their latest message",
    "manager_name": "your name",
    "manager_first_name": "your first name",
    "deadline": "the reply deadline in the client's time (Wed 17:00 EST)",
    "region": "the client's region",
}
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
SEPARATOR = "-- "


@dataclass(frozen=True)
class Template:
    """One `[templates.NAME]` of the config."""

    name: str
    body: str
    title: str = ""  # what the picker shows (default: the name)
    language: str = ""  # "fr", "en": offered first to clients writing in it; "": any client


def for_language(templates: Iterable[Template], language: str) -> list[Template]:
    """The picker's order: the client's language first (the default pick), then the
    templates for any language, then the others; the config's order within each."""

    def rank(t: Template) -> int:
        return 0 if t.language == language else 1 if not t.language else 2

    return sorted(templates, key=rank)


def unknown_placeholders(body: str) -> list[str]:
    """The `{names}` in `body` that no conversation can fill (a typo, most often)."""
    return sorted({n for n in _PLACEHOLDER.findall(body) if n not in PLACEHOLDERS})


def unfilled(text: str) -> list[str]:
    """The placeholders still in `text`, in order, once each: the reply is not ready."""
    return list(dict.fromkeys(n for n in _PLACEHOLDER.findall(text) if n in PLACEHOLDERS))


def render(body: str, values: Mapping[str, str]) -> str:
    """`body` with every placeholder that has a (non-empty) value filled in."""

    def fill(m: re.Match[str]) -> str:
        return values.get(m.group(1)) or m.group(0)

    return _PLACEHOLDER.sub(fill, body)


def values_for(
    conv: Conversation, contact: str, manager: Manager | None, region: Region | None,
    language: str = "",
) -> dict[str, str]:  # fmt: skip
    """What the placeholders of a reply on `conv` are; `contact` is the display name of
    the client's latest message ("" when it had none: the first name stays to fill).
    `language` is the template's: its {deadline} reads "mer. 17 h 00" in French."""
    values = {"client_name": contact or conv.client_name, "client_first_name": _first(contact)}
    if manager is not None:
        values.update(manager_name=manager.name, manager_first_name=_first(manager.name))
    if region is not None:
        values["region"] = region.label
        if conv.deadline is not None:
            values["deadline"] = _local(conv.deadline, region.timezone, language)
    return {k: plain for k, v in values.items() if (plain := _inert(v))}


def _inert(text: str) -> str:
    """One line of printable text: email's display names may carry terminal escapes,
    bidi controls or line breaks, and the filled template is the manager's text."""
    return " ".join("".join(ch for ch in text if ch.isprintable() or ch.isspace()).split())


def _first(name: str) -> str:
    """The first word of a person's name; "" for an address or nothing."""
    word = name.split()[0] if name.split() else ""
    return "" if "@" in word else word.strip(",")


def _local(at: datetime, zone: str, language: str) -> str:
    local = at.astimezone(ZoneInfo(zone))
    return f"{weekday_time(local, language=language or 'en')} {local.tzname()}"


def with_signature(body: str, signature: str) -> str:
    """`body` ending with the signature block, added once (never twice on a re-open)."""
    sig = signature.strip("\n")
    if not sig:
        return body
    block = f"{SEPARATOR}\n{sig}"
    if body.rstrip().endswith(block):
        return body
    return f"{body.rstrip()}\n\n{block}" if body.strip() else f"\n\n{block}"


def without_signature(body: str) -> str:
    """The text above the signature separator (what the manager wrote)."""
    lines = body.split("\n")
    cut = next((i for i in range(len(lines) - 1, -1, -1) if lines[i] == SEPARATOR), None)
    return "\n".join(lines[:cut]) if cut is not None else body
