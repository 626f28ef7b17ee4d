"""The escalation pane (the CEO's view): escalated conversations not yet acknowledged.

Reuses the queue table with the escalation column set: reason, who escalated,
owner, how late, the client's local time, and "CEO" when the client wrote to the
CEO directly. `y` records the acknowledgement in the provider; `t` switches to the
acknowledged escalations still waiting for a reply, where `u` takes one back.
Acknowledging is for the CEO and the acknowledgers the config names: anyone else
is told so instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import ClassVar

from textual.binding import BindingType

from triage.domain.model import Conversation
from triage.domain.ordering import QueueView
from triage.service.api import Service
from triage.text.i18n import N_, _
from triage.ui.keys import binding, bindings
from triage.ui.screens.table import TableScreen
from triage.ui.text import safe_plain


class EscalationsScreen(TableScreen):
    """Escalated, unacknowledged conversations (or the acknowledged), most overdue first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *bindings("open", "acknowledge", "acknowledged", "unacknowledge"),
        binding("escalations", title=N_("Queue")),
        *bindings("sync", "report", "help"),
        binding("quit", footer=True),
    ]

    def __init__(self, service: Service) -> None:
        super().__init__(service, "escalations")
        self._overdue = 0
        self.showing_acknowledged = False

    def rows_for(self, waiting: QueueView, now: datetime) -> Sequence[Conversation]:
        # By hand, by writing to the CEO, or by breaching past the grace: each with its reason.
        self._overdue = waiting.due_by(now - self._grace())
        if self.showing_acknowledged:
            return waiting.acknowledged(now, self._grace())
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
        if self.showing_acknowledged:
            return _("No acknowledged escalation is waiting for a reply.  t: open escalations")
        return _("No open escalation.")

    def status_label(self) -> str:
        return _("acknowledged (t: open ones)") if self.showing_acknowledged else _("all")

    def _allowed(self, doing: str) -> bool:
        agency, user = self.service.config.agency, self.service.user
        if agency.may_acknowledge(user):
            return True
        names = ", ".join(self.service.config.manager_name(a) for a in agency.acknowledgers)
        self.notify(_("Only {names} can {doing} escalations (the config's [agency] "
                      "acknowledgers); you are {you}.").format(
                        names=names, doing=_(doing), you=self.service.config.manager_name(user)),
                    severity="warning", markup=False)  # fmt: skip
        return False

    def _chosen(self) -> tuple[str, Conversation] | None:
        thread_id = self.current_thread()
        conv = self.service.conversation(thread_id) if thread_id else None
        return (thread_id, conv) if thread_id and conv else None

    def action_acknowledge(self) -> None:
        if self.showing_acknowledged:
            self.notify(_("Already acknowledged: u takes it back."), markup=False)
            return
        chosen = self._chosen()
        if chosen is None or not self._allowed(N_("acknowledge")):
            return
        thread_id, conv = chosen
        self.triage.perform(
            _("Acknowledged: {client}  (t lists them)").format(
                client=safe_plain(conv.client_name or conv.client_email)
            ),
            _("Could not acknowledge"),
            lambda: self.service.acknowledge(thread_id),
        )

    def action_unacknowledge(self) -> None:
        if self.triage.take_back_held():  # a reply in its undo delay comes first
            return
        if not self.showing_acknowledged:
            self.notify(_("t lists the acknowledged escalations; u there takes one back."),
                        markup=False)  # fmt: skip
            return
        chosen = self._chosen()
        if chosen is None or not self._allowed(N_("take back acknowledged")):
            return
        thread_id, conv = chosen
        self.triage.perform(
            _("Acknowledgement taken back: {client} is an open escalation again").format(
                client=safe_plain(conv.client_name or conv.client_email)
            ),
            _("Could not take the acknowledgement back"),
            lambda: self.service.unacknowledge(thread_id),
        )

    def action_acknowledged(self) -> None:
        self.showing_acknowledged = not self.showing_acknowledged
        self.reload()

    def action_escalations(self) -> None:
        # Back to the queue below (the CEO may have started here: then open it).
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            from triage.ui.screens.queue import QueueScreen

            self.app.switch_screen(QueueScreen(self.service))
