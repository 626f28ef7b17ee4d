"""The French catalogue is complete, compiled, and every string shown to users is in it.

Re-run after a merge brings new strings: `make i18n` lists the same two things these
tests check (strings given to the console or the CLI unwrapped, and catalogue entries
missing, empty or fuzzy), and refreshes the .pot, the .po and the .mo.
"""

from __future__ import annotations

import ast
import gettext
import re
import string

from babel.messages.pofile import read_po

from tools.i18n import PO, _findings, missing, untranslated
from triage.text.i18n import DOMAIN, LOCALE_DIR


def _catalog():  # type: ignore[no-untyped-def]
    with open(PO, "rb") as f:
        return read_po(f)


def test_no_string_shown_to_users_is_left_out_of_the_catalogue() -> None:
    found = untranslated()
    assert not found, "wrap these in _() (or N_ for constants):\n" + "\n".join(map(str, found))


def test_the_french_catalogue_translates_every_message() -> None:
    gaps = missing()
    assert not gaps, "no French for (run `make i18n`, then translate):\n" + "\n".join(gaps)


def test_the_scan_finds_bare_strings_and_f_strings_in_user_facing_calls() -> None:
    source = """
def show(self, n):
    self.notify("Saved")
    self.notify(_("Saved"))
    Static(f"{n} waiting")
    print(_(f"{n} left"))
    parser.add_argument("--x", help="the x option")
    return "Nothing here yet."
"""
    texts = [f.text for f in _findings(ast.parse(source), "sample.py")]
    assert "'Saved'" in texts and "'the x option'" in texts and "'Nothing here yet.'" in texts
    assert any("waiting" in t for t in texts) and any("left" in t for t in texts)
    assert len(texts) == 5  # the wrapped notify is not reported


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_translation_keeps_its_placeholders() -> None:
    """A {name} dropped or misspelt in French would be a KeyError on screen."""
    for m in _catalog():
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        for s in strings:
            assert _fields(s) == _fields(ids[-1]), (m.id, s)
            assert re.findall(r"%\(\w+\)\w|%\w", s) == re.findall(r"%\(\w+\)\w|%\w", ids[0]), s


def test_the_compiled_catalogue_is_the_po_file() -> None:
    """The .mo the package ships says what the .po says (`make i18n` compiles it)."""
    mo = gettext.translation(DOMAIN, LOCALE_DIR, ["fr"])
    for m in _catalog():
        if m.id and isinstance(m.id, str):
            assert mo.gettext(m.id) == m.string, m.id
