"""The queue screen: every waiting conversation, most urgent first, with one-key actions.

Owns the filter state and which list is shown: the waiting queue, or one of the
views beside it (snoozed, done, answered, all; `l` cycles, 1-5 jump) or a search
over every conversation (`f`). The table widget renders the rows. Reply,
escalate, reassign, done and snooze are `ConversationScreen`'s, shared with the
thread view.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Footer

from triage.domain.model import CEO_ID, Conversation
from triage.domain.ordering import QueueView
from triage.domain.urgency import Filter
from triage.domain.views import VIEWS
from triage.service.api import Service
from triage.text.datefmt import weekday_time
from triage.text.i18n import N_, _
from triage.ui.keys import bindings
from triage.ui.screens.base import close_burst
from triage.ui.screens.table import TableScreen
from triage.ui.widgets.filter_bar import FilterBar
from triage.ui.widgets.queue_table import QueueTable
from triage.ui.widgets.status_bar import StatusBar

FILTER_PROMPT = "filter: client, subject or sender (enter keeps, esc clears)"
FIND_PROMPT = "find in every conversation: subject, client, message text (esc: queue)"
EMPTY_VIEW = {
    "waiting": N_("No conversation is waiting. Well done."),
    "snoozed": N_("Nothing is snoozed."),
    "done": N_("Nothing is marked done."),
    "answered": N_("No answered conversation in the cache."),
    "all": N_("No conversation in the cache yet."),
}
VIEW_HELP = {
    "waiting": N_("the queue, most urgent first"),
    "snoozed": N_("soonest back first; b wakes one now"),
    "done": N_("the latest first; b reopens one"),
    "answered": N_("staff wrote last; the latest reply first"),
    "all": N_("the queue, then everything else by its last message"),
}
VIEW_NAMES = {"waiting": N_("Waiting"), "snoozed": N_("Snoozed"), "done": N_("Done"),
              "answered": N_("Answered"), "all": N_("All"), "search": N_("Find")}  # fmt: skip
VIEW_WORDS = {"waiting": N_("waiting"), "snoozed": N_("snoozed"), "done": N_("done"),
              "answered": N_("answered"), "all": N_("all"), "search": N_("find")}  # fmt: skip


class QueueScreen(TableScreen):
    """The account manager's start screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # The footer shows them in this order: at 80 columns it ends after help.
        *bindings("open", "reply", "done", "snooze", "escalate", "reassign", "next_view",
                  *(f"view_{v}" for v in VIEWS), "filter", "help", "escalations", "mine",
                  "find", "handoff", "away", "report", "region", "clear_filters",
                  "bring_back", "deescalate", "undo", "sync", "quit"),
    ]  # fmt: skip

    def __init__(self, service: Service) -> None:
        super().__init__(service, "queue")
        self.view_name = "waiting"  # one of VIEWS, or "search"
        if service.config.default_filter == "mine" and service.user != CEO_ID:
            self.filter = Filter(owner=service.user)  # [user] default_filter; m shows all

    def compose(self) -> ComposeResult:
        yield QueueTable(self.service.config, mode="queue")
        yield FilterBar()
        yield StatusBar(self.service.user)
        yield Footer(compact=True)

    def rows_for(self, waiting: QueueView, now: datetime) -> Sequence[Conversation]:
        if self.view_name == "search":
            found = self.service.search(self.filter.text) if self.filter.text.strip() else []
            scope = Filter("", self.filter.owner, self.filter.region)
            return [c for c in found if scope.matches(c)]
        if self.view_name != "waiting":
            return [c for c in self.service.view(self.view_name, now) if self.filter.matches(c)]
        if self.filter == Filter():
            return waiting  # the service's sorted queue itself: no copy, no walk
        return [c for c in waiting if self.filter.matches(c)]

    def empty_text(self) -> str:
        if self.view_name == "search":
            if not self.filter.text.strip():
                return _("Type what to find: subject, client, or words of a message (esc: queue)")
            return _("Nothing found for {text!r} (esc: back to the queue)").format(
                text=self.filter.text
            )
        if self.filter != Filter():
            # The table makes this text safe when it draws it (safe_cell): once is enough.
            return _("Nothing matches filter: {filter} (esc clears)").format(
                filter=self.filter.describe()
            )
        return _(EMPTY_VIEW[self.view_name])

    def status_label(self) -> str:
        if self.view_name == "waiting":
            return self.filter.describe()
        if self.view_name == "search":
            return _("find {text!r}").format(text=self.filter.text)
        return _("{filter} · {view} view").format(
            filter=self.filter.describe(), view=_(VIEW_WORDS[self.view_name])
        )

    def set_filter(self, new: Filter) -> None:
        if new != self.filter:
            self.filter = new
            self.reload()

    # ---- filters ----

    def action_filter(self) -> None:
        bar = self.query_one(FilterBar)
        bar.placeholder = FILTER_PROMPT
        bar.open(self.filter.text)

    @on(FilterBar.FilterChanged)
    def _filter_typed(self, event: FilterBar.FilterChanged) -> None:
        self.set_filter(Filter(event.text, self.filter.owner, self.filter.region))

    @on(FilterBar.Closed)
    def _filter_closed(self, event: FilterBar.Closed) -> None:
        if not event.kept and self.view_name == "search":
            self.view_name = "waiting"  # esc out of a search: back to the queue
            self.reload()
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
        self.view_name = "waiting"
        self.filter = Filter()
        self.reload()

    # ---- views and find ----

    def action_show_view(self, name: str) -> None:
        if name != self.view_name:
            self.view_name = name
            self.reload()
        self.notify(f"{_(VIEW_NAMES[name])}: {_(VIEW_HELP[name])}", timeout=3, markup=False)

    def action_next_view(self) -> None:
        current = VIEWS.index(self.view_name) if self.view_name in VIEWS else -1
        self.action_show_view(VIEWS[(current + 1) % len(VIEWS)])

    def action_find(self) -> None:
        self.view_name = "search"
        bar = self.query_one(FilterBar)
        bar.placeholder = FIND_PROMPT
        bar.open(self.filter.text)
        self.reload()

    def action_handoff(self) -> None:
        from triage.ui.screens.handoff import HandoffScreen

        self.app.push_screen(HandoffScreen(self.service))

    def action_away(self) -> None:
        """The user away (or back); the CEO: the owner of the conversation under the cursor."""
        from triage.ui.screens.dialogs.away import AwayChoice, AwayScreen

        who = self.service.user
        if who not in self.service.config.managers:
            conv = self.service.conversation(self.table.highlighted or "")
            who = conv.owner if conv is not None else ""
        if who not in self.service.config.managers:
            close_burst(self)
            self.notify(_("Away is for a manager: pick one of their conversations first"),
                        severity="warning", markup=False)  # fmt: skip
            return

        def record(choice: AwayChoice | None) -> None:
            if choice is None:
                return
            name = self.service.config.manager_name(choice.manager)
            said = (
                _("{name} is back").format(name=name)
                if choice.until is None
                else _("{name} is away until {time} your time").format(
                    name=name, time=weekday_time(choice.until.astimezone())
                )
            )
            self.triage.perform(said, _("Could not record it"), lambda: self.service.set_away(
                choice.manager, choice.until, choice.backup))  # fmt: skip

        self.app.push_screen(AwayScreen(self.service, who), record)

    def action_escalations(self) -> None:
        from triage.ui.screens.escalations import EscalationsScreen

        self.app.push_screen(EscalationsScreen(self.service))
