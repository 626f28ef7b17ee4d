"""The problem-collecting reader of a parsed TOML tree, and the Problem it records.

Typed access (tables, strings, numbers, string arrays, parsed values) that never
raises: each mistake becomes a Problem naming the file, the key path and what would
be valid, so triage.config.loader can report every problem in one pass. Also the small
helpers the section builders share: key paths, "did you mean" hints, addresses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any, TypeVar

from triage.text.i18n import N_, _

T = TypeVar("T")

# A lower-case DNS name with at least one dot, such as 'acme.example'.
HOST = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+")


@dataclass(frozen=True)
class Problem:
    """One mistake in a config file: where it is and what would be valid."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        return f"{where}: {self.message}"


def kind_of(value: object) -> str:
    """How a TOML value's type reads in a problem message ('a string', 'a table')."""
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    names.update({list: "an array", dict: "a table"})
    return names.get(type(value), "a date or time")


class Reader:
    """Collects problems while the sections are read, so all are reported at once."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.file, key, message))

    def table(self, value: object, key: str) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        self.problem(key, _("expected a table, got {kind_of}").format(kind_of=kind_of(value)))
        return {}

    def known(self, tbl: Mapping[str, object], allowed: Iterable[str], prefix: str) -> None:
        allowed = list(allowed)
        for key in tbl:
            if key not in allowed:
                near = hint(key, allowed, "valid")
                self.problem(
                    join_key(prefix, key),
                    _("unknown key {key!r} ({near})").format(key=key, near=near),
                )

    def string(self, tbl: Mapping[str, object], key: str, prefix: str, default: str | None) -> str:
        value = tbl.get(key, default)
        if value is None:
            self.problem(join_key(prefix, key), _("missing (required)"))
            return ""
        if not isinstance(value, str):
            self.problem(
                join_key(prefix, key),
                _("expected a string, got {kind_of}").format(kind_of=kind_of(value)),
            )
            return ""
        return value

    def boolean(self, tbl: Mapping[str, object], key: str, prefix: str, default: bool) -> bool:
        value = tbl.get(key, default)
        if not isinstance(value, bool):
            self.problem(
                join_key(prefix, key),
                _("expected true or false, got {kind_of}").format(kind_of=kind_of(value)),
            )
            return default
        return value

    def number(
        self,
        tbl: Mapping[str, object],
        key: str,
        prefix: str,
        default: float,
        *,
        minimum: float,
        maximum: float,
        integer: bool = False,
    ) -> float:
        value = tbl.get(key, default)
        want = "an integer" if integer else "a number"
        ok = int if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, ok):
            self.problem(
                join_key(prefix, key),
                _("expected {want}, got {kind_of}").format(want=want, kind_of=kind_of(value)),
            )
            return default
        if not minimum <= value <= maximum:  # also refuses nan
            why = _("must be between {minimum:g} and {maximum:g}, got {value}")
            self.problem(join_key(prefix, key),
                         why.format(minimum=minimum, maximum=maximum, value=value))  # fmt: skip
            return default
        return float(value)

    def strings(self, tbl: Mapping[str, object], key: str, prefix: str) -> tuple[str, ...]:
        value = tbl.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(join_key(prefix, key), _("expected an array of strings"))
            return ()
        return tuple(value)

    def parsed(self, key: str, parse: Callable[[str], T], text: str) -> T | None:
        """Run a value parser; a ValueError becomes a problem at `key`."""
        try:
            return parse(text)
        except ValueError as exc:
            self.problem(key, str(exc))
            return None


def join_key(prefix: str, key: str) -> str:
    """The dotted key path a user would write, quoting keys TOML needs quoted."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", key):
        key = f'"{key}"'
    return f"{prefix}.{key}" if prefix else key


def is_address(text: str) -> bool:
    local, at, host = text.rpartition("@")
    return bool(at and local and " " not in local and HOST.fullmatch(host))


# The words hint() and undefined() put in a message, in the language spoken.
_WORDS = {"defined": N_("defined"), "valid": N_("valid"), "manager": N_("manager"),
          "region": N_("region"), "none": N_("none")}  # fmt: skip


def hint(value: str, choices: Iterable[str], label: str = "defined") -> str:
    """'did you mean ...?' for a near miss, else the list of valid choices."""
    choices = sorted(choices)
    near = get_close_matches(value, choices, n=1)
    return (
        _("did you mean {near!r}?").format(near=near[0])
        if near
        else f"{_(_WORDS.get(label, label))}: {', '.join(choices) or _(_WORDS['none'])}"
    )


def undefined(what: str, value: str, defined: Iterable[str]) -> str:
    return _("{what} {value!r} is not defined ({hint})").format(
        what=_(_WORDS.get(what, what)), value=value, hint=hint(value, defined)
    )


def choice(r: Reader, key: str, value: str, choices: Iterable[str]) -> None:
    choices = list(choices)
    if value not in choices:
        r.problem(
            key,
            _("{value!r} is not one of {join}").format(
                value=value, join=", ".join(repr(c) for c in choices)
            ),
        )
