"""Snooze phrases in French, read like the English ones (triage.domain.when)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from triage.domain.when import parse_when
from triage.text.i18n import set_language

TORONTO = ZoneInfo("America/Toronto")
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # Wednesday 10:00 in Toronto


def local(text: str) -> str:
    return parse_when(text, NOW, TORONTO).astimezone(TORONTO).strftime("%a %d %H:%M")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("demain 9 h", "Thu 03 09:00"),
        ("demain à 9 h 30", "Thu 03 09:30"),
        ("demain 9h30", "Thu 03 09:30"),
        ("lundi 9:00", "Mon 07 09:00"),
        ("lun. 9 h", "Mon 07 09:00"),
        ("mer 14 h", "Wed 09 14:00"),  # today's weekday: next week's, as "wed" is
        ("aujourd'hui 16 h", "Wed 02 16:00"),
        ("à 17 h", "Wed 02 17:00"),
        ("à 9 h", "Thu 03 09:00"),  # a bare time already past today: the next one
        ("dans 2 h", "Wed 02 12:00"),
        ("1 h 30", "Wed 02 11:30"),
        ("2 j", "Fri 04 10:00"),
        ("in 2h", "Wed 02 12:00"),
        ("tomorrow 9:00", "Thu 03 09:00"),
    ],
)
def test_french_and_english_phrases(text: str, expected: str) -> None:
    assert local(text) == expected


def test_the_refusal_is_in_the_console_language() -> None:
    set_language("fr")
    with pytest.raises(ValueError, match="n’est pas un moment comme « demain 9 h »"):
        parse_when("bientôt", NOW, TORONTO)
    with pytest.raises(ValueError, match="dans le passé"):
        parse_when("2026-01-01T00:00:00Z", NOW, TORONTO)
