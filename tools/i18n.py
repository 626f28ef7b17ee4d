"""`make i18n` and the catalogue tests: find strings shown to users but not translated.

Two checks, both re-runnable after a merge brings new strings:

* `untranslated()`: an AST scan of the console and the CLI for string literals
  (and f-strings) given straight to the user-facing APIs (notify, Static/Label,
  Text, print, argparse help, key bindings, ...) without `_()`/`ngettext`/`N_`.
* `missing()`: the messages `pybabel extract` finds in the package that the French
  catalogue lacks or leaves empty or fuzzy.

`python -m tools.i18n` prints both lists (exit 1 when either is non-empty).
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("triage/ui", "triage/cli", "triage/config")
PO = ROOT / "triage" / "locale" / "fr" / "LC_MESSAGES" / "triage.po"
WRAPPERS = {"_", "ngettext", "N_"}
ALL = -1  # every positional argument
# Call name -> (positional indexes that are text, keywords that are text).
USER_CALLS: dict[str, tuple[tuple[int, ...], frozenset[str]]] = {
    "notify": ((0,), frozenset({"message", "title"})),
    "Static": ((0,), frozenset({"content"})),
    "Label": ((0,), frozenset()),
    "Button": ((0,), frozenset({"label"})),
    "Checkbox": ((0,), frozenset({"label"})),
    "RadioButton": ((0,), frozenset({"label"})),
    "Option": ((0,), frozenset({"prompt"})),
    "Input": ((), frozenset({"placeholder"})),
    "TextArea": ((), frozenset({"placeholder"})),
    "Text": ((0,), frozenset()),
    "assemble": ((ALL,), frozenset()),
    "append": ((0,), frozenset()),
    "update": ((0,), frozenset()),
    "print": ((ALL,), frozenset()),
    "error": ((0,), frozenset()),
    "SystemExit": ((0,), frozenset()),
    "Hit": ((2,), frozenset({"text", "help"})),
    "DiscoveryHit": ((0,), frozenset({"display", "text", "help"})),
    "add_argument": ((), frozenset({"help"})),
    "add_parser": ((), frozenset({"help", "description", "epilog"})),
    "add_subparsers": ((), frozenset({"title", "help", "description"})),
    "add_argument_group": ((0, 1), frozenset({"title", "description"})),
    "ArgumentParser": ((), frozenset({"description", "epilog"})),
    "binding": ((), frozenset({"title"})),
    "Action": ((2, 3), frozenset({"name"})),
    "add_column": ((0,), frozenset()),
    "perform": ((0, 1), frozenset()),
    "command": ((1,), frozenset()),
    "Check": ((2,), frozenset()),
    "problem": ((1,), frozenset()),
    "Problem": ((2,), frozenset()),
    "UsageError": ((0,), frozenset()),
    "ValueError": ((0,), frozenset()),
    "ActionFailed": ((0,), frozenset()),
    "ActionDone": ((0,), frozenset()),
    "_notice": ((0,), frozenset()),
    "show_error": ((0,), frozenset()),
}
USER_ATTRS = {"HEADING", "VERB", "TITLE", "SUB_TITLE", "BORDER_TITLE", "border_title"}
# On (or just above) a line that prints code, such as a shell script, rather than words.
NOT_TEXT_MARK = "# i18n: not text"
WORDS = re.compile(r"[A-Za-z]{2}")
NOT_TEXT = re.compile(r"^[a-z0-9_.-]*$|^[#.$]\w|^\w+=")  # ids, styles, CSS selectors, key=value


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text!r}"


def _is_text(s: str) -> bool:
    return bool(WORDS.search(s)) and (" " in s or s.strip()[:1].isupper())


def _literals(node: ast.expr) -> Iterator[ast.expr]:
    """The bare literals an argument is made of (a wrapped call is not bare)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if _is_text(node.value) and not NOT_TEXT.match(node.value):
            yield node
    elif isinstance(node, ast.JoinedStr):
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        if WORDS.search(text):
            yield node
    elif isinstance(node, ast.BinOp):
        yield from _literals(node.left)
        yield from _literals(node.right)
    elif isinstance(node, ast.IfExp):
        yield from _literals(node.body)
        yield from _literals(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _literals(value)
    elif isinstance(node, ast.Tuple) and node.elts:  # Text.assemble's (text, style)
        yield from _literals(node.elts[0])
    elif isinstance(node, ast.Starred):
        yield from _literals(node.value)


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def _call_args(call: ast.Call) -> Iterator[ast.expr]:
    spec = USER_CALLS.get(_name(call.func))
    if spec is None:
        return
    positions, keywords = spec
    for i, arg in enumerate(call.args):
        if ALL in positions or i in positions:
            yield arg
    for kw in call.keywords:
        if kw.arg in keywords:
            yield kw.value


def _findings(tree: ast.AST, rel: str) -> Iterator[Finding]:
    for node in ast.walk(tree):
        values: list[ast.expr] = []
        if isinstance(node, ast.JoinedStr):  # pybabel does not read calls inside f-strings
            for inner in ast.walk(node):
                if (isinstance(inner, ast.Call) and _name(inner.func) in WRAPPERS
                        and inner.args and isinstance(inner.args[0], ast.Constant)):  # fmt: skip
                    yield Finding(rel, inner.lineno, ast.unparse(inner))
        if isinstance(node, ast.Call):
            if _name(node.func) in WRAPPERS and node.args:
                if isinstance(node.args[0], (ast.JoinedStr, ast.BinOp)):  # extraction misses it
                    yield Finding(rel, node.lineno, ast.unparse(node))
                continue
            values = list(_call_args(node))
        elif isinstance(node, ast.Return) and node.value is not None:  # a screen's text
            values = [node.value]
        elif isinstance(node, ast.Assign):
            targets = [_name(t) if isinstance(t, ast.Attribute) else getattr(t, "id", "")
                       for t in node.targets]  # fmt: skip
            if USER_ATTRS & set(targets):
                values = [node.value]
        for value in values:
            for lit in _literals(value):
                yield Finding(rel, lit.lineno, ast.unparse(lit))


def untranslated(root: Path = ROOT) -> list[Finding]:
    """Strings given to a user-facing API without being wrapped for translation."""
    out: list[Finding] = []
    for folder in SCANNED:
        for path in sorted((root / folder).rglob("*.py")):
            rel, source = str(path.relative_to(root)), path.read_text()
            lines = source.splitlines()
            for f in _findings(ast.parse(source, rel), rel):
                if NOT_TEXT_MARK not in " ".join(lines[max(0, f.line - 2) : f.line]):
                    out.append(f)
    return out


def extracted(root: Path = ROOT) -> set[str | tuple[str, str]]:
    """Every message id `pybabel extract -F babel.cfg` finds in the package."""
    from babel.messages.extract import extract_from_dir  # a dev tool: not on the start path

    ids: set[str | tuple[str, str]] = set()
    with open(root / "babel.cfg") as cfg:
        from babel.messages.frontend import parse_mapping_cfg

        method_map, options_map = parse_mapping_cfg(cfg)
    # From the root: babel.cfg's patterns (triage/**.py) are relative to it.
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(root), method_map, options_map, keywords=KEYWORDS
    ):
        ids.add(message if isinstance(message, str) else (message[0], message[1]))
    return ids


KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def missing(root: Path = ROOT) -> list[str]:
    """Extracted messages the French catalogue lacks, leaves empty, or marks fuzzy."""
    from babel.messages.pofile import read_po

    with open(root / PO.relative_to(ROOT), "rb") as f:
        catalog = read_po(f)
    out = []
    for msgid in sorted(extracted(root), key=str):
        key = msgid if isinstance(msgid, str) else msgid[0]
        message = catalog.get(key)
        strings = message.string if message is not None else ""
        empty = not all(strings) if isinstance(strings, tuple) else not strings
        if message is None or empty or message.fuzzy:
            out.append(str(msgid))
    return out


def main() -> int:
    found = untranslated()
    for f in found:
        print(f"not wrapped: {f}")
    gaps = missing()
    for m in gaps:
        print(f"no French: {m!r}")
    return 1 if found or gaps else 0


if __name__ == "__main__":
    sys.exit(main())
