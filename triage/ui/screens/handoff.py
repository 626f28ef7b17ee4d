"""The shift handoff: your conversations that come due before your next shift, with who
could take each (qualified, on shift when yours ends, least loaded first).

`h` hands the conversation under the cursor to the first of them (a reassignment with
the reason "handoff", undoable with `u`); `a` picks someone else. The list is
`triage.domain.handoff`'s; names of managers come from the config, subjects and
clients from email (the table and `safe_plain` make them inert).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Footer, Static

from triage.domain.handoff import HandoffItem, handoff, shift_end
from triage.domain.model import Conversation
from triage.domain.ordering import QueueView
from triage.service.api import Service
from triage.text.datefmt import clock
from triage.text.i18n import _
from triage.ui.keys import binding, bindings
from triage.ui.screens.table import TableScreen
from triage.ui.text import safe_plain
from triage.ui.widgets.queue_table import QueueTable
from triage.ui.widgets.status_bar import StatusBar


class HandoffScreen(TableScreen):
    """What to hand over before the shift ends."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *bindings("open", "hand_over", "reassign", "undo", "help"),
        binding("back", keys="escape,q"),
    ]
    DEFAULT_CSS = """
    HandoffScreen #takers { height: auto; padding: 0 1; }
    """

    def __init__(self, service: Service) -> None:
        super().__init__(service, "queue")
        self._items: dict[str, HandoffItem] = {}

    def compose(self) -> ComposeResult:
        yield QueueTable(self.service.config, mode="queue")
        yield Static(id="takers")
        yield StatusBar(self.service.user)
        yield Footer(compact=True)

    def rows_for(self, waiting: QueueView, now: datetime) -> Sequence[Conversation]:
        me = self.service.config.managers.get(self.service.user)
        items = handoff(waiting, me, now, self.service.config) if me else []
        self._items = {i.conversation.thread_id: i for i in items}
        self.query_one("#takers", Static).update(self._takers_text(items, now))
        return [i.conversation for i in items]

    def _takers_text(self, items: list[HandoffItem], now: datetime) -> Text:
        me = self.service.config.managers.get(self.service.user)
        ends = shift_end(me, now) if me else None
        head = (_("Your shift ends {time}").format(time=clock(ends.astimezone())) if ends
                else _("You are off shift"))  # fmt: skip
        lines = [_("{head}: {n} due before your next shift. h hands one over.").format(
            head=head, n=len(items))]  # fmt: skip
        for item in items[:8]:
            best = ", ".join(_("{name} ({n} open)").format(name=safe_plain(m.name, 24), n=n)
                             for m, n in item.takers[:3])  # fmt: skip
            subject = safe_plain(item.conversation.subject or _("(no subject)"), 30)
            nobody = _("nobody qualified is on shift then")
            lines.append(f"  {subject}: {best or nobody}")
        return Text("\n".join(lines))

    def empty_text(self) -> str:
        return _("Nothing of yours comes due before your next shift.")

    def status_label(self) -> str:
        return "handoff"

    def action_hand_over(self) -> None:
        thread_id = self.current_thread()
        item = self._items.get(thread_id) if thread_id else None
        if thread_id is None or item is None:
            return
        if not item.takers:
            self.notify(_("Nobody qualified is on shift then: a picks someone (a)"),
                        severity="warning", markup=False)  # fmt: skip
            return
        to, _taker = item.takers[0]
        me = self.service.user
        self.triage.perform(
            _("Handed over to {name}").format(name=safe_plain(to.name, 30)),
            _("Could not hand it over"),
            lambda: self.service.reassign(thread_id, to.id, "handoff", False),
            (_("the handoff"), lambda: self.service.reassign(thread_id, me, "undone", False)),
        )

    def action_back(self) -> None:
        self.dismiss(None)
