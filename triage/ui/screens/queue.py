"""The queue screen: every waiting conversation, most urgent first, with one-key actions.

Owns the filter state; the table widget renders the rows. Reply, escalate and
reassign are `ConversationScreen`'s, shared with the thread view.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Footer

from triage.domain.model import Conversation
from triage.domain.ordering import QueueView
from triage.domain.urgency import Filter
from triage.service.api import Service
from triage.ui.keys import bindings
from triage.ui.screens.table import TableScreen
from triage.ui.widgets.filter_bar import FilterBar
from triage.ui.widgets.queue_table import QueueTable
from triage.ui.widgets.status_bar import StatusBar


class QueueScreen(TableScreen):
    """The account manager's start screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *bindings("open", "reply", "escalate", "reassign", "filter", "mine", "region",
                  "clear_filters", "escalations", "sync", "help", "quit"),
    ]  # fmt: skip

    def __init__(self, service: Service) -> None:
        super().__init__(service, "queue")

    def compose(self) -> ComposeResult:
        yield QueueTable(self.service.config, mode="queue")
        yield FilterBar()
        yield StatusBar(self.service.user)
        yield Footer(compact=True)

    def rows_for(self, waiting: QueueView, now: datetime) -> Sequence[Conversation]:
        if self.filter == Filter():
            return waiting  # the service's sorted queue itself: no copy, no walk
        return [c for c in waiting if self.filter.matches(c)]

    def empty_text(self) -> str:
        if self.filter != Filter():
            # The table makes this text safe when it draws it (safe_cell): once is enough.
            return f"Nothing matches filter: {self.filter.describe()} (esc clears)"
        return "No conversation is waiting. Well done."

    def set_filter(self, new: Filter) -> None:
        if new != self.filter:
            self.filter = new
            self.reload()

    # ---- filters ----

    def action_filter(self) -> None:
        self.query_one(FilterBar).open(self.filter.text)

    @on(FilterBar.FilterChanged)
    def _filter_typed(self, event: FilterBar.FilterChanged) -> None:
        self.set_filter(Filter(event.text, self.filter.owner, self.filter.region))

    @on(FilterBar.Closed)
    def _filter_closed(self, event: FilterBar.Closed) -> None:
        self.table.focus()

    def action_mine(self) -> None:
        owner = "" if self.filter.owner else self.service.user
        self.set_filter(Filter(self.filter.text, owner, self.filter.region))

    def action_region(self) -> None:
        order = ["", *self.service.config.regions]
        current = order.index(self.filter.region) if self.filter.region in order else 0
        region = order[(current + 1) % len(order)]
        self.set_filter(Filter(self.filter.text, self.filter.owner, region))

    def action_clear_filters(self) -> None:
        bar = self.query_one(FilterBar)
        bar.value = ""
        bar.close()
        self.set_filter(Filter())

    def action_escalations(self) -> None:
        from triage.ui.screens.escalations import EscalationsScreen

        self.app.push_screen(EscalationsScreen(self.service))
