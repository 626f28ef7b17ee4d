"""Checking a config's `[keys]` remaps before the console starts.

A remap must name a console action, use keys a terminal can send (Textual's key
names: a character, "question_mark", "f5", "ctrl+r", ...), and not give a key
that another action already has where both are active (on the same screen, in
its table or text box, or everywhere). A key doing two things would make one of
them silently dead, which is the mistake users remap keys to avoid.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache

from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import Keys, _character_to_key

from triage.config import hint
from triage.text.i18n import _
from triage.ui.keys import ACTIONS

MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")


@cache
def key_names() -> frozenset[str]:
    """Every key name Textual reports, apart from modifier combinations."""
    named = {k.value for k in Keys if "+" not in k.value and not k.value.startswith("<")}
    chars = {_character_to_key(chr(c)) for c in (*range(0x21, 0x7F), *range(0xA1, 0x180))}
    return frozenset(named | chars | {"newline"})


def key_problem(key: str) -> str:
    """Why `key` is not a key a terminal can send ("" when it is one)."""
    *mods, base = key.split("+") if key != "+" else [key]
    bad = [m for m in mods if m not in MODIFIERS]
    if bad:
        return _("{bad!r} in {key!r} is not a modifier ({known})").format(
            bad=bad[0], key=key, known=", ".join(MODIFIERS)
        )
    if (len(base) == 1 and base.isprintable()) or base in key_names():
        return ""
    return _(
        "{key!r} is not a key name: use a character such as 'r', or a name such as 'enter', "
        "'escape', 'f5', 'pageup', 'question_mark', 'ctrl+r'"
    ).format(key=key)


def _normal(key: str) -> str:
    *mods, base = key.split("+")
    return "+".join([*mods, _character_to_key(base) if len(base) == 1 else base])


def surfaces() -> Iterator[tuple[str, list[type[DOMNode]]]]:
    """Where keys are read: each screen with the widgets that hold focus on it."""
    from triage.ui.app import TriageApp
    from triage.ui.screens.dialogs.confirm import ConfirmDiscard
    from triage.ui.screens.dialogs.escalate import EscalateScreen
    from triage.ui.screens.dialogs.reassign import ReassignScreen
    from triage.ui.screens.escalations import EscalationsScreen
    from triage.ui.screens.help import HelpScreen
    from triage.ui.screens.queue import QueueScreen
    from triage.ui.screens.reply import ReplyScreen
    from triage.ui.screens.report import ReportScreen
    from triage.ui.screens.thread import ThreadScreen
    from triage.ui.widgets.filter_bar import FilterBar
    from triage.ui.widgets.queue_table import QueueTable

    yield "the queue", [QueueTable, QueueScreen, TriageApp]
    yield "the queue's filter box", [FilterBar, QueueScreen, TriageApp]
    yield "the escalation pane", [QueueTable, EscalationsScreen, TriageApp]
    yield "a conversation", [ThreadScreen, TriageApp]
    yield "the reply editor", [ReplyScreen, TriageApp]
    yield "the escalate dialog", [EscalateScreen, TriageApp]
    yield "the reassign dialog", [ReassignScreen, TriageApp]
    yield "the discard question", [ConfirmDiscard, TriageApp]
    yield "the help screen", [HelpScreen, TriageApp]
    yield "the report", [ReportScreen, TriageApp]


def _bindings(cls: type[DOMNode]) -> Iterator[Binding]:
    for b in Binding.make_bindings(cls.BINDINGS):
        if b.id:
            yield b


def keymap_problems(keymap: Mapping[str, str]) -> list[tuple[str, str]]:
    """(action id, why) for each mistake in a [keys] table, in the table's order."""
    out: list[tuple[str, str]] = []
    for action, keys in keymap.items():
        if action not in ACTIONS:
            out.append((action, f"unknown action {action!r} ({hint(action, ACTIONS, 'known')})"))
            continue
        out.extend((action, why) for k in keys.split(",") if (why := key_problem(k)))
    out.extend(_clashes(keymap))
    return out


def _clashes(keymap: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """A remapped key that another action holds on the same surface, told once per
    pair, under the action whose keys the config changed."""
    told: set[frozenset[str]] = set()
    for where, classes in surfaces():
        held: dict[str, str] = {}  # key -> action id
        for cls in classes:
            for b in _bindings(cls):
                action = b.id or ""
                for key in keymap.get(action, b.key).split(","):
                    key = _normal(key.strip())
                    other = held.setdefault(key, action)
                    pair = frozenset((other, action))
                    if other == action or not pair & set(keymap) or pair in told:
                        continue
                    told.add(pair)
                    mine, theirs = sorted((action, other), key=lambda a: not _changed(a, keymap))
                    yield mine, f"{key!r} is also the key of {theirs!r} in {where}"


def _changed(action: str, keymap: Mapping[str, str]) -> bool:
    return action in keymap and keymap[action] != ACTIONS[action].keys
