"""The sanitizer makes hostile email text inert, visibly and reversibly.

"Dangerous" is defined here again, independently of `triage.text.sanitize`, from
Unicode categories and a list of named attack characters, so a bug in the module's own
classification cannot hide itself.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.text import sanitize as sanitize_module
from triage.text.sanitize import is_inert, restore, sanitize, sanitize_line

_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
# Characters attacks are known to use; some are letters or marks, not format characters.
_NAMED = [
    *(0x200E, 0x200F, 0x061C, 0x00AD, 0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0, 0x180E, 0xFEFF),
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    *range(0x200B, 0x200E),
    *range(0x2060, 0x2065),
    *(0x2028, 0x2029, 0xE0001, 0xE0041, 0xE007F, 0x0085, 0x009B, 0x009D, 0x009C),
]
_NAMED_CHARS = frozenset(map(chr, _NAMED))


def dangerous(text: str, *, keep: str = "\n\t") -> list[str]:
    """Characters in `text` that must never reach the terminal."""
    return [
        ch
        for ch in text
        if ch not in keep and (unicodedata.category(ch) in _BAD_CATEGORIES or ch in _NAMED_CHARS)
    ]


ATTACKS = [
    "\x1b]52;c;ZXZpbA==\x07",  # OSC 52: write the clipboard
    "\x1b[2J",  # clear screen
    "\x9b2J",  # 8-bit CSI
    "\x9d0;title\x9c",  # 8-bit OSC: set the window title
    "nul\x00byte",
    "bell\x07",
    "unterminated \x1b[",
    "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "invoice\u202egpj.exe",
    "\u2066isolate\u2069",
    "zero\u200bwidth\u200c\u200d",
    "\ufeffbom",
    "back\x08\x08space\x7f",
    "line\u2028para\u2029",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_attacks_become_visible_and_inert(attack: str) -> None:
    for out in (sanitize(attack), sanitize_line(attack)):
        assert dangerous(out, keep="") == []
        assert "\x1b" not in out and "\x9b" not in out
        assert restore(out) == attack
        assert len(out) >= len(attack)  # nothing was dropped


def test_exact_placeholders() -> None:
    assert sanitize("\x1b]52;c;ZXZpbA==\x07") == "␛]52;c;ZXZpbA==␇"
    assert sanitize("\x9b2J") == "⟨U+009B⟩2J"
    assert sanitize("a\u202eb") == "a⟨U+202E⟩b"
    assert sanitize("nul\x00 del\x7f") == "nul␀ del␡"
    assert sanitize("tag\U000e0041") == "tag⟨U+E0041⟩"


@pytest.mark.parametrize("code", _NAMED, ids=[f"U+{c:04X}" for c in _NAMED])
def test_every_named_character_is_replaced(code: int) -> None:
    out = sanitize(f"a{chr(code)}b")
    assert chr(code) not in out
    assert out == f"a⟨U+{code:04X}⟩b" or (code < 0x20 and len(out) == 3)
    assert not is_inert(chr(code))


@pytest.mark.parametrize("markup", ["[@click=app.quit]", "[link=x]", "[/", "[URGENT] Invoice"])
def test_brackets_are_left_to_the_ui(markup: str) -> None:
    assert sanitize(markup) == markup
    assert sanitize_line(markup) == markup


def test_newlines_and_tabs() -> None:
    assert sanitize("a\n\tb") == "a\n\tb"
    assert sanitize("a\r\nb") == "a␍\nb"
    assert sanitize_line("a\r\nb\tc") == "a␍⏎b␉c"
    assert is_inert("a\nb") and not is_inert("a\nb", single_line=True)


def test_safe_text_is_returned_untouched() -> None:
    text = "Re: Invoice — café 日本語 ❤️ a\u00a0b e\u0301"
    assert sanitize(text) is text  # the fast path: no copy
    assert sanitize_line(text) is text
    emoji = "👍🏽 🎉 𝒜"  # non-BMP: checked one by one, kept
    assert sanitize_line(emoji) == emoji
    assert is_inert(text + emoji, single_line=True)


def test_placeholder_look_alikes_are_escaped() -> None:
    text = "␛ ⟨U+202E⟩ ⏎ ␡ ⟩"
    out = sanitize_line(text)
    assert out == "⟨U+241B⟩ ⟨U+27E8⟩U+202E⟩ ⟨U+23CE⟩ ⟨U+2421⟩ ⟩"
    assert restore(out) == text
    assert restore("⟨U+110000⟩ ⟨U+12⟩") == "⟨U+110000⟩ ⟨U+12⟩"


def test_truncation_counts_characters_and_keeps_placeholders_whole() -> None:
    assert sanitize_line("abcdef", 5) == "abcd…"
    assert sanitize_line("abcde", 5) == "abcde"
    assert sanitize_line("abc\u202edef", 5) == "abc…"  # not "abc⟨…"
    assert sanitize_line("ab\u202edef", 11) == "ab⟨U+202E⟩…"
    out = sanitize_line("\x1b" * 50, 10)
    assert out == "␛" * 9 + "…"
    with pytest.raises(ValueError):
        sanitize_line("abc", 0)


@given(st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())))
@settings(max_examples=400)
def test_any_text_is_inert_and_reversible(text: str) -> None:
    _check(text)


_NASTY = st.sampled_from(
    [chr(c) for c in range(0x20)]
    + ["\x7f", "\x85", "\x9b", "\x9c", "\x9d", "\ud800", "\udfff", "\ue000", "\U0010ffff"]
    + sorted(_NAMED_CHARS)
    + ["␀", "␛", "␟", "␡", "⏎", "⟨", "⟩", "U+", "⟨U+", "⟨U+202E⟩", "⟨U+1B", "⟨U+110000⟩"]
    + ["1B", "202E", "[", "]", "\ufe0f", "\u00a0", "a", "é", "👍"]
)


@given(st.lists(_NASTY, max_size=30).map("".join))
@settings(max_examples=600)
def test_dangerous_and_look_alike_text_is_inert_and_reversible(text: str) -> None:
    _check(text)


def _check(text: str) -> None:
    once = sanitize(text)
    line = sanitize_line(text)
    assert dangerous(once) == []
    assert dangerous(line, keep="") == []
    assert restore(once) == text
    assert restore(line) == text
    assert is_inert(once) and is_inert(line, single_line=True)
    twice = sanitize(once)
    assert dangerous(twice) == []
    assert restore(restore(twice)) == text
    cut = sanitize_line(text, 8)
    assert len(cut) <= 8 and dangerous(cut, keep="") == []


@pytest.mark.parametrize(
    ("text", "max_len", "expected"),
    [
        ("abcdef", 1, "…"),
        ("\u202eabc", 5, "…"),  # a placeholder at the very start, cut: nothing of it shown
        ("ab\u202edef", 10, "ab…"),  # its closing "⟩" would be the first character cut
        ("a\u202eb\u202ecd", 15, "a⟨U+202E⟩b…"),  # the second one straddles the cut
        ("a\u202ebcccc\u202e", 14, "a⟨U+202E⟩bccc…"),  # the first is whole: kept
    ],
)
def test_a_cut_never_splits_a_placeholder(text: str, max_len: int, expected: str) -> None:
    out = sanitize_line(text, max_len)
    assert out == expected and len(out) <= max_len


def test_a_length_below_one_is_refused_with_the_length() -> None:
    with pytest.raises(ValueError, match="max_len must be at least 1, got 0"):
        sanitize_line("abc", 0)


def test_the_character_classes_match_exactly_the_code_points_they_list() -> None:
    codes = [0x2D, 0x41, 0x42, 0x43, 0x45, 0x5C, 0x5D, 0x5E, 0x60]  # "-", A-C, E, "\\", "]", "^"
    body = sanitize_module._regex_class(codes)
    pattern = re.compile(f"[{body}]")
    assert [c for c in range(0x20, 0x80) if pattern.fullmatch(chr(c))] == codes
    # Runs are written as ranges, so the class of every unsafe character stays small.
    assert body == r"\-A-CE\\-\^`"
