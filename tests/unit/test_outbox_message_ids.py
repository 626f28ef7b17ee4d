"""Our own Message-IDs: unique, and carrying when they were made, so the sent-reply lookup
knows which days of Sent to search; anyone else's (or an older one of ours) says no time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.builders import T0
from triage.domain.outbox import message_id_time, new_message_id

TOKEN = "0123456789abcdef0123456789abcdef"
MADE = T0 + timedelta(milliseconds=250)  # 2026-11-26 10:15:00.250 UTC
OURS = f"triage.1795688100250.{TOKEN}@agency.example"


def test_a_message_id_is_ours_unique_by_its_token_and_says_the_millisecond_it_was_made() -> None:
    assert new_message_id("agency.example", MADE, TOKEN) == OURS


@pytest.mark.parametrize("written", [OURS, f"<{OURS}>"], ids=["bare", "in angle brackets"])
def test_our_message_id_gives_back_when_it_was_made(written: str) -> None:
    assert message_id_time(written) == MADE  # the same instant, in UTC


@pytest.mark.parametrize(
    "message_id",
    [
        "<CAFx8=abc@mail.gmail.com>",
        f"<triage.{TOKEN}@agency.example>",  # an older one of ours: no time in it
        f"<triage.179568810.{TOKEN}@agency.example>",  # too few digits for milliseconds
        f"<Xtriage.1795688100250.{TOKEN}@agency.example>",  # ours only after a prefix
        f"<triage.9999999999999999.{TOKEN}@agency.example>",  # past any year a clock reads
    ],
    ids=["someone else's", "older", "too short", "prefixed", "out of range"],
)
def test_any_other_message_id_says_no_time(message_id: str) -> None:
    assert message_id_time(message_id) is None
