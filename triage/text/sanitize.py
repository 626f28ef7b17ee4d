"""The one sanitizer for untrusted text (subjects, names, addresses, bodies).

Textual and Rich pass control characters straight to the terminal: an email
subject holding OSC 52 could write the user's clipboard, ``ESC[2J`` or the
8-bit CSI ``0x9b`` could repaint the screen, U+202E could make a name read
backwards. Every string that comes from email goes through `sanitize` (multi-line
text) or `sanitize_line` (table cells, titles) before it is displayed.

What is replaced, always by a *visible* placeholder, never dropped:

- C0 controls as Unicode Control Pictures (ESC -> "␛", NUL -> "␀", CR -> "␍"),
  DEL as "␡". `sanitize` keeps "\\n" (line breaks) and "\\t" (Rich expands tabs
  to spaces, they cannot act on the terminal); `sanitize_line` shows "\\n" as
  "⏎" and "\\t" as "␉" so a cell stays one line and its width is predictable.
- everything else that is not printable as `str.isprintable` defines it, except
  ordinary spaces: C1 controls 0x80-0x9f, format characters (bidi marks,
  embeddings, overrides and isolates, zero-width space/joiners, U+FEFF, soft
  hyphen, tag characters), U+2028/U+2029, surrogates, private-use and
  unassigned code points, as "⟨U+202E⟩".
- a few invisible characters that Unicode counts as letters or marks (Hangul
  fillers, combining grapheme joiner, Mongolian variation selectors, braille
  blank), so a display name cannot be made of nothing.

Decisions: the zero-width joiner is replaced too, which splits emoji ZWJ
sequences (family emoji) into their parts; terminals disagree on their width and
that breaks table layout. Variation selectors U+FE00-FE0F and U+E0100-E01EF are
kept: emoji need U+FE0F and a selector only picks a glyph of the character
before it. Unusual spaces (U+00A0, U+2000-200A, U+3000) are kept: they are
visible as spaces and inert.

Reversible: `restore(sanitize(s)) == s` for every s. The placeholder characters
themselves ("␀".."␟", "␡", "⟨", "⏎") are escaped as "⟨U+241B⟩" when they occur
in the input, so every "⟨" in the output opens a placeholder and every control
picture stands for a control character.

Not handled here: markup. `sanitize` leaves "[" alone; the UI must put this text
into `Text`/`Content` objects with markup off, never into a markup string.
"""

from __future__ import annotations

import re
from itertools import filterfalse

_LT = "⟨"  # U+27E8, opens a code point placeholder
_RT = "⟩"  # U+27E9
_RETURN = "⏎"  # U+23CE, a newline in single-line text
_DEL_PICTURE = "␡"  # U+2421
_PICTURES = "".join(chr(0x2400 + c) for c in range(0x20))

# Letters and marks that render as nothing: hangul fillers, combining grapheme
# joiner, Khmer inherent vowels, Mongolian free variation selectors, braille blank.
_INVISIBLE = "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u2800\u3164\uffa0"
# Characters we emit as placeholders; escaped when the input holds them literally.
_OURS = _PICTURES + _DEL_PICTURE + _LT + _RETURN


def _is_unsafe(ch: str) -> bool:
    """Whether one character must not reach the terminal as itself."""
    if ch in _INVISIBLE:
        return True
    if ch.isprintable():
        return False
    # Spaces other than line/paragraph separators are visible and inert.
    return not (ch.isspace() and ch not in "\x85\u2028\u2029" and ord(ch) > 0x20)


def _regex_class(codes: list[int]) -> str:
    """A regex character class body of `codes` (sorted), written as ranges."""
    ranges: list[tuple[int, int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )


# Every BMP code point that must be looked at, from `str.isprintable` of the
# running Python, so it follows its Unicode version. Non-BMP characters are all
# looked at one by one: that keeps the class small enough for `re` to test each
# character against a bitmap (a class of all unsafe code points is 80x slower).
# (`filterfalse` runs `isprintable` in C: a third of the import time of computing
# `_is_unsafe` for all 65,536, and the printable ones are only unsafe if invisible.)
_NOT_PRINTABLE = filterfalse(str.isprintable, map(chr, range(0x10000)))
_BMP = sorted({ord(ch) for ch in (*_NOT_PRINTABLE, *_INVISIBLE, *_OURS)
               if ch in _OURS or _is_unsafe(ch)})  # fmt: skip
_ASTRAL = "\U00010000-\U0010ffff"
# Candidates only: a non-BMP match may turn out safe (an emoji) in `_replace`.
_SUSPECT_LINE = re.compile(f"[{_regex_class(_BMP)}{_ASTRAL}]")
_SUSPECT_TEXT = re.compile(f"[{_regex_class([c for c in _BMP if c not in (9, 10)])}{_ASTRAL}]")
_PLACEHOLDER = re.compile(r"⟨U\+([0-9A-F]{4,6})⟩|[\u2400-\u241f\u2421\u23ce]")


def _replace(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    if code < 0x20:
        return _RETURN if ch == "\n" else _PICTURES[code]
    if code == 0x7F:
        return _DEL_PICTURE
    if ch in _OURS or _is_unsafe(ch):
        return f"{_LT}U+{code:04X}{_RT}"
    return ch


def sanitize(text: str) -> str:
    """Multi-line text made inert: keeps "\\n" and "\\t", shows everything else."""
    if _SUSPECT_TEXT.search(text) is None:
        return text
    return _SUSPECT_TEXT.sub(_replace, text)


def sanitize_line(text: str, max_len: int | None = None) -> str:
    """Single-line text made inert: "\\n" shows as "⏎", "\\r" as "␍", "\\t" as "␉".

    With `max_len`, the result has at most that many characters and ends with
    "…" when it was cut; a placeholder is never cut in half. A cut result can
    no longer be restored.
    """
    out = text if _SUSPECT_LINE.search(text) is None else _SUSPECT_LINE.sub(_replace, text)
    if max_len is None or len(out) <= max_len:
        return out
    if max_len < 1:
        raise ValueError(f"max_len must be at least 1, got {max_len}")
    cut = max_len - 1
    start = out.rfind(_LT, 0, cut)
    if start != -1 and out.find(_RT, start) >= cut:
        cut = start
    return out[:cut] + "…"


def _unplace(match: re.Match[str]) -> str:
    hex_code = match.group(1)
    if hex_code is None:
        ch = match.group()
        if ch == _RETURN:
            return "\n"
        return "\x7f" if ch == _DEL_PICTURE else chr(ord(ch) - 0x2400)
    code = int(hex_code, 16)
    # Text that only looks like a placeholder (not made by us) stays as it is.
    return chr(code) if code <= 0x10FFFF else match.group()


def restore(text: str) -> str:
    """The exact inverse of `sanitize` and of `sanitize_line` without a cut."""
    return _PLACEHOLDER.sub(_unplace, text)


def is_inert(text: str, *, single_line: bool = False) -> bool:
    """True when `text` holds nothing that `sanitize` (or `sanitize_line`) would replace
    for safety; placeholder look-alikes do not count, they are harmless to show."""
    suspect = _SUSPECT_LINE if single_line else _SUSPECT_TEXT
    return not any(_is_unsafe(m.group()) for m in suspect.finditer(text) if m.group() not in _OURS)
