"""The queue screen: every waiting conversation, most urgent first, with one-key actions.

Owns the filter state and turns the service's conversations into rows; the
table widget renders them. Actions that need a choice open the other screens
(thread, reply, escalate, reassign); the service calls themselves run in app
workers (`TriageApp.perform`) that report back with ActionDone / ActionFailed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer

from triage.domain.model import Conversation
from triage.domain.ordering import QueueView
from triage.domain.urgency import Counts, Filter
from triage.ui.text import safe_plain
from triage.ui.widgets.filter_bar import FilterBar
from triage.ui.widgets.queue_table import QueueTable
from triage.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from triage.service.api import Service

OUTBOX_STATES = ("queued", "sending", "unclear")


def _b(key: str, action: str, text: str, tip: str, *, show: bool = True) -> Binding:
    # The binding id is the action id users remap in the config's [keys] table.
    return Binding(key, action, text, id=action, tooltip=tip, show=show)


class TableScreen(Screen[None]):
    """What the queue and escalation screens share: a table, a status bar, a tick."""

    title_text = "triage"

    def __init__(self, service: Service, mode: str) -> None:
        super().__init__()
        self.service = service
        self.mode = mode
        self.filter = Filter()
        self._queue = QueueView([], ())

    @property
    def table(self) -> QueueTable:
        return self.query_one(QueueTable)

    def compose(self) -> ComposeResult:
        yield QueueTable(self.service.config, mode=self.mode)
        yield StatusBar(self.service.user)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.reload()
        self.table.focus()

    def on_screen_resume(self) -> None:
        # Back from a thread or a modal: an action may have changed the rows.
        self.reload()

    def rows_for(self, waiting: QueueView, now: datetime) -> Sequence[Conversation]:
        raise NotImplementedError

    def reload(self) -> None:
        """Rebuild the rows from the service (after a sync or an action).

        The service keeps the queue sorted as syncs change it (`QueueView`), so
        nothing here walks all the conversations unless a filter is on (issue 6:
        a 500-change re-order at 50k in well under 50 ms)."""
        now = self.service.now()
        self._queue = self.service.queue_view()
        queued = {d.thread_id for d in self.service.drafts() if d.status in OUTBOX_STATES}
        table = self.table
        table.empty_text = self.empty_text()
        table.set_rows(self.rows_for(self._queue, now), now, queued)
        self._show_status(now)

    def empty_text(self) -> str:
        return "No conversation is waiting."

    def tick(self, now: datetime) -> None:
        """Once a second: countdowns and status only; no sync, no re-sort."""
        self.table.tick(now)
        self._show_status(now)

    def counts(self, now: datetime) -> Counts:
        # By bisection on the sorted deadlines plus the few flagged rows: once a second.
        agency = self.service.config.agency
        at_risk = timedelta(minutes=agency.at_risk_minutes)
        grace = timedelta(minutes=agency.escalate_after_minutes)
        return self._queue.counts(now, at_risk, grace)

    def _show_status(self, now: datetime) -> None:
        bar = self.query_one(StatusBar)
        bar.show(self.service.status(), self.counts(now), self.filter.describe(), now)

    def selected(self) -> str | None:
        thread_id = self.table.highlighted
        if thread_id is None:
            self.notify("No conversation selected.", severity="warning", markup=False)
        return thread_id

    def action_open(self) -> None:
        thread_id = self.selected()
        if thread_id is not None:
            self.open_thread(thread_id)

    def open_thread(self, thread_id: str) -> None:
        from triage.ui.screens.thread import ThreadScreen

        self.app.push_screen(ThreadScreen(self.service, thread_id))

    @on(QueueTable.Selected)
    def _selected(self, event: QueueTable.Selected) -> None:
        self.open_thread(event.thread_id)

    def action_sync(self) -> None:
        self.app.sync_now()  # type: ignore[attr-defined]

    def action_help(self) -> None:
        from triage.ui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen.for_screen(self))

    async def action_quit(self) -> None:
        await self.app.run_action("app.quit")


class QueueScreen(TableScreen):
    """The account manager's start screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        _b("enter", "open", "Open", "Read the conversation under the cursor"),
        _b("r", "reply", "Reply", "Write a reply to the client"),
        _b("e", "escalate", "Escalate", "Escalate to the CEO, with a reason"),
        _b("a", "reassign", "Reassign", "Give the conversation to another account manager"),
        _b("slash", "filter", "Filter", "Filter by client, subject or sender as you type"),
        _b("m", "mine", "Mine", "Show only my conversations (toggle)"),
        _b("g", "region", "Region", "Cycle the region filter: all, then each region", show=False),
        _b("escape", "clear_filters", "Clear", "Clear every filter", show=False),
        _b("v", "escalations", "Escalations", "Show the escalation pane"),
        _b("s", "sync", "Sync", "Sync with the mail provider now", show=False),
        _b("question_mark", "help", "Help", "Every key of this screen"),
        _b("q", "quit", "Quit", "Quit triage (drafts are kept)", show=False),
    ]

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

    # ---- actions ----

    def action_reply(self) -> None:
        from triage.ui.screens.reply import ReplyScreen

        thread_id = self.selected()
        if thread_id is not None:
            self.app.push_screen(ReplyScreen(self.service, thread_id), self._replied)

    def _replied(self, draft: object) -> None:
        self.reload()

    def action_escalate(self) -> None:
        from triage.ui.screens.escalate import EscalateScreen

        thread_id = self.selected()
        if thread_id is None:
            return

        def escalate(reason: str | None) -> None:
            if reason:
                self.app.perform(  # type: ignore[attr-defined]
                    f"Escalated: {safe_plain(reason)}",
                    "Could not escalate",
                    lambda: self.service.escalate(thread_id, reason),
                )

        self.app.push_screen(EscalateScreen(self.service, thread_id), escalate)

    def action_reassign(self) -> None:
        from triage.ui.screens.reassign import ReassignScreen

        thread_id = self.selected()
        if thread_id is None:
            return

        def reassign(choice: tuple[str, str, bool] | None) -> None:
            if choice:
                to, reason, account = choice
                who = self.service.config.manager_name(to)
                scope = " (whole account)" if account else ""
                self.app.perform(  # type: ignore[attr-defined]
                    f"Reassigned to {safe_plain(who)}{scope}",
                    "Could not reassign",
                    lambda: self.service.reassign(thread_id, to, reason, account),
                )

        self.app.push_screen(ReassignScreen(self.service, thread_id), reassign)

    def action_escalations(self) -> None:
        from triage.ui.screens.escalations import EscalationsScreen

        self.app.push_screen(EscalationsScreen(self.service))
