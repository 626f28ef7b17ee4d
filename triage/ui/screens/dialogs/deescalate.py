"""The take-back dialog: why an escalation is withdrawn (both stay in the history)."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import BindingType

from triage.ui.keys import binding
from triage.ui.screens.dialogs.reason import ReasonScreen

QUICK_TAKE_BACK = ("escalated by mistake", "resolved with the client", "the CEO has it")


class DeescalateScreen(ReasonScreen):
    """Pick or type why the escalation is taken back."""

    HEADING = "Take the escalation back"
    QUICK = QUICK_TAKE_BACK
    VERB = "take it back"

    BINDINGS: ClassVar[list[BindingType]] = [
        *(binding(f"pick_{i}", title=r) for i, r in enumerate(QUICK_TAKE_BACK, 1)),
        binding("reason_next"),
        binding("reason_previous"),
        binding("confirm", title="Take back"),
        binding("cancel"),
    ]
