"""Reasons are stored language-neutral (the English id) and shown in the language spoken."""

from __future__ import annotations

from triage.domain.reasons import ESCALATE_REASONS, KNOWN, reason_label
from triage.domain.workflow import QUICK_DONE_REASONS
from triage.text.i18n import set_language


def test_quick_reasons_read_in_french_and_stay_english_on_disk() -> None:
    set_language("fr")
    assert reason_label("breached") == "en retard"
    assert reason_label("workload: on leave in May") == "charge de travail: on leave in May"
    assert reason_label("out of office") == "absent du bureau"
    assert ESCALATE_REASONS[0] == "client wrote to the CEO"  # what is stored


def test_typed_reasons_and_english_consoles_are_left_alone() -> None:
    set_language("fr")
    assert reason_label("le client a rappelé") == "le client a rappelé"
    assert reason_label("sure: why not") == "sure: why not"
    set_language("en")
    assert all(reason_label(r) == r for r in KNOWN)


def test_every_quick_reason_has_a_french_label() -> None:
    set_language("fr")
    assert all(reason_label(r) != r for r in (*QUICK_DONE_REASONS, *ESCALATE_REASONS))
