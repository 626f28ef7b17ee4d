"""The escalate dialog: why this conversation goes to the CEO.

The question and its quick reasons; the asking is `ReasonScreen`'s. When the
conversation is escalated already, the dialog says by whom and why: the new
reason is added to the history, the old one kept.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import BindingType

from triage.domain.reasons import ESCALATE_REASONS, reason_label
from triage.text.i18n import N_, _
from triage.ui.keys import binding
from triage.ui.screens.dialogs.reason import ReasonScreen
from triage.ui.text import safe

QUICK_REASONS = ESCALATE_REASONS


class EscalateScreen(ReasonScreen):
    """Pick or type the reason for an escalation."""

    HEADING = N_("Escalate to the CEO")
    QUICK = QUICK_REASONS
    VERB = N_("escalate")

    BINDINGS: ClassVar[list[BindingType]] = [
        # Before the reason box has focus (the keys right after "e"), the screen picks.
        *(binding(f"escalate_pick_{i}", title=r) for i, r in enumerate(QUICK_REASONS, 1)),
        binding("reason_next"),
        binding("reason_previous"),
        binding("confirm", title=N_("Escalate")),
        binding("cancel"),
    ]

    def already_text(self) -> Text:
        """An escalation already on record: the new reason is added, the old one kept."""
        conv = self.service.conversation(self.thread_id)
        if conv is None or not conv.escalated:
            return Text()
        by = self.service.config.manager_name(conv.escalated_by) if conv.escalated_by else ""
        return Text.assemble(
            (_("Already escalated"), "bold"),
            *((_(" by "), safe(by, max_len=24)) if by else ()),
            ": ",
            safe(reason_label(conv.escalation_reason or "no reason given"), max_len=40),
            (_(" — a new reason is added to the history"), "dim"),
        )
