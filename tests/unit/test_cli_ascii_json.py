"""`triage queue --json` prints with orjson, escaped to ASCII exactly as `json.dumps`
would: email text never reaches the terminal as raw control or bidi characters."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from triage.cli.commands import ascii_json

HOSTILE = ["\x1b]52;c;ZXZpbA==\x07", "\x9b31m", "abc\u202edcba", "naïve café", "😀 \U0010ffff",
           "tab\tnew\nline", "\x00\x7f", "quote \" back \\ slash"]  # fmt: skip


def test_hostile_text_comes_out_as_json_dumps_would_print_it() -> None:
    rows = [{"subject": text, "n": i, "ok": True, "none": None} for i, text in enumerate(HOSTILE)]
    out = ascii_json(rows)
    assert out.isascii() and out == json.dumps(rows, indent=2)
    assert json.loads(out) == rows


@given(st.text())
def test_any_text_round_trips_and_stays_ascii(text: str) -> None:
    out = ascii_json({"subject": text, "list": [text]})
    assert out.isascii()
    assert json.loads(out) == {"subject": text, "list": [text]}
    assert out == json.dumps({"subject": text, "list": [text]}, indent=2)
