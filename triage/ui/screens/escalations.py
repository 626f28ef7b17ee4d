"""The escalation pane (the CEO's view): escalated conversations not yet acknowledged.

Reuses the queue table with the escalation column set: reason, who escalated,
owner, how late, the client's local time, and "CEO" when the client wrote to the
CEO directly. `y` records the CEO's acknowledgement in the provider.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import ClassVar

from textual.binding import BindingType

from triage.domain.model import Conversation
from triage.domain.ordering import QueueView
from triage.service.api import Service
from triage.ui.keys import binding, bindings
from triage.ui.screens.table import TableScreen
from triage.ui.text import safe_plain


class EscalationsScreen(TableScreen):
    """Escalated, unacknowledged conversations, most overdue first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *bindings("open", "acknowledge"),
        binding("escalations", title="Queue"),
        *bindings("sync", "help"),
        binding("quit", footer=True),
    ]

    def __init__(self, service: Service) -> None:
        super().__init__(service, "escalations")
        self._overdue = 0

    def rows_for(self, waiting: QueueView, now: datetime) -> Sequence[Conversation]:
        # By hand, by writing to the CEO, or by breaching past the grace: each with its reason.
        self._overdue = waiting.due_by(now - self._grace())
        return waiting.escalations(now, self._grace())

    def _grace(self) -> timedelta:
        return timedelta(minutes=self.service.config.agency.escalate_after_minutes)

    def tick(self, now: datetime) -> None:
        """A conversation that breaches (past the grace) joins the pane at once, not at the
        next sync that happens to change something: one bisection a second tells."""
        if self._queue.due_by(now - self._grace()) != self._overdue:
            self.reload()
        else:
            super().tick(now)

    def empty_text(self) -> str:
        return "No open escalation."

    def action_acknowledge(self) -> None:
        thread_id = self.current_thread()
        conv = self.service.conversation(thread_id) if thread_id else None
        if thread_id is None or conv is None:
            return
        self.triage.perform(
            f"Acknowledged: {safe_plain(conv.client_name or conv.client_email)}",
            "Could not acknowledge",
            lambda: self.service.acknowledge(thread_id),
        )

    def action_escalations(self) -> None:
        # Back to the queue below (the CEO may have started here: then open it).
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            from triage.ui.screens.queue import QueueScreen

            self.app.switch_screen(QueueScreen(self.service))
