"""The take-back dialog: why an escalation is withdrawn (both stay in the history)."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import BindingType

from triage.domain.reasons import TAKE_BACK_REASONS
from triage.text.i18n import N_
from triage.ui.keys import binding
from triage.ui.screens.dialogs.reason import ReasonScreen

QUICK_TAKE_BACK = TAKE_BACK_REASONS


class DeescalateScreen(ReasonScreen):
    """Pick or type why the escalation is taken back."""

    HEADING = N_("Take the escalation back")
    QUICK = QUICK_TAKE_BACK
    VERB = N_("take it back")

    BINDINGS: ClassVar[list[BindingType]] = [
        *(binding(f"pick_{i}", title=r) for i, r in enumerate(QUICK_TAKE_BACK, 1)),
        binding("reason_next"),
        binding("reason_previous"),
        binding("confirm", title=N_("Take back")),
        binding("cancel"),
    ]
