"""What the queue and the escalation pane share: a table, a status bar, a tick.

Owns turning the service's sorted queue (`QueueView`) into rows and keeping the
status bar's counts current; the subclasses choose which rows and which keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from textual import on
from textual.app import ComposeResult
from textual.widgets import Footer

from triage.domain.model import Conversation
from triage.domain.ordering import QueueView
from triage.domain.urgency import Counts, Filter
from triage.service.api import OutboxStatus, Service
from triage.text.i18n import _
from triage.ui.screens.base import ConversationScreen, user_zone
from triage.ui.widgets.queue_table import QueueTable
from triage.ui.widgets.status_bar import StatusBar


class TableScreen(ConversationScreen):
    """A table of conversations with live countdowns."""

    def __init__(self, service: Service, mode: str) -> None:
        super().__init__(service)
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

    def reload(self, changed: frozenset[str] | None = None) -> None:
        """Rebuild the rows from the service (after a sync or an action).

        The service keeps the queue sorted as syncs change it (`QueueView`), so
        nothing here walks all the conversations unless a filter is on."""
        now = self.service.now()
        self._queue = self.service.queue_view()
        drafts = self.service.drafts()
        markers = {d.thread_id: _("queued") for d in drafts if d.status.on_its_way}
        markers.update(
            {d.thread_id: _("unsent") for d in drafts if d.status is OutboxStatus.FAILED}
        )
        table = self.table
        table.away = frozenset(self.service.absences(now))  # each row says AW as it is drawn
        table.empty_text = self.empty_text()
        table.set_rows(self.rows_for(self._queue, now), now, markers)
        self._show_status(now)

    def empty_text(self) -> str:
        return _("No conversation is waiting.")

    def tick(self, now: datetime) -> None:
        """Once a second: countdowns and status only; no sync, no re-sort, unless a
        snoozed conversation's wake time has come (then it joins the queue now)."""
        wake = self._queue.next_wake
        if wake is not None and now >= wake:
            self.reload()
            return
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
        held = getattr(self.app, "held_notice", None)
        bar.show(self.service.status(), self.counts(now), self.status_label(), now,
                 held(now) if held else "")  # fmt: skip

    def status_label(self) -> str:
        """What the rows are narrowed to, for the status bar."""
        return self.filter.describe()

    def current_thread(self) -> str | None:
        thread_id = self.table.highlighted
        if thread_id is None:
            self.notify(_("No conversation selected."), severity="warning", markup=False)
        return thread_id

    def action_open(self) -> None:
        thread_id = self.current_thread()
        if thread_id is not None:
            self.open_thread(thread_id)

    def open_thread(self, thread_id: str) -> None:
        from triage.ui.screens.thread import ThreadScreen

        self.app.push_screen(ThreadScreen(self.service, thread_id,
                                          user_zone=user_zone(self.service)))  # fmt: skip

    @on(QueueTable.Selected)
    def _selected(self, event: QueueTable.Selected) -> None:
        self.open_thread(event.thread_id)

    def action_report(self) -> None:
        from triage.ui.screens.report import ReportScreen

        self.app.push_screen(ReportScreen(self.service))

    def action_sync(self) -> None:
        self.triage.sync_now()

    async def action_quit(self) -> None:
        await self.app.run_action("app.quit")
