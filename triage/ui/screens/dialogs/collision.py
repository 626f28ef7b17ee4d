"""Before a reply goes: what arrived in the thread while it was being written.

Shown when the provider has messages the reply screen had not seen when it
opened (a client's follow-up, a colleague's reply). Dismissed with True to send
anyway, False to go back to editing. Senders and text come from email: shown
only through `triage.ui.text.safe`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from triage.domain.model import Message
from triage.text.datefmt import weekday_time
from triage.text.i18n import N_, _
from triage.text.mailtext import address_display
from triage.ui.keys import binding
from triage.ui.screens.base import close_burst
from triage.ui.text import safe

_SHOWN = 5


class CollisionScreen(ModalScreen[bool]):
    """New messages in the thread: send anyway (s) or back to editing (esc)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        binding("confirm", keys="s", title=N_("Send anyway")),
        binding("cancel", title=N_("Back to editing")),
    ]

    DEFAULT_CSS = """
    CollisionScreen { align: center middle; }
    CollisionScreen #dialog {
        width: 80; max-width: 100%; height: auto; max-height: 100%;
        border: thick $warning; padding: 0 1; background: $surface;
    }
    CollisionScreen #dialog > Static { height: auto; }
    CollisionScreen #title { text-style: bold reverse; }
    CollisionScreen #hint { margin-top: 1; }
    """

    def __init__(self, arrived: Sequence[Message], staff: Sequence[bool]) -> None:
        super().__init__()
        self.arrived = list(arrived)
        self.staff = list(staff)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(_(" New in this conversation since you started writing ")),
                         id="title")  # fmt: skip
            yield Static(self._list())
            yield Static(Text(_("s send anyway · esc back to editing (your text is kept)")),
                         id="hint")  # fmt: skip

    def _list(self) -> Text:
        text = Text()
        for m, staff in list(zip(self.arrived, self.staff, strict=True))[-_SHOWN:]:
            who = "a colleague replied" if staff else "the client wrote"
            first = next((line for line in m.body.splitlines() if line.strip()), m.preview)
            text.append("\n• ")
            text.append_text(safe(address_display(m.sender_name, m.sender), max_len=40,
                                  style="bold"))  # fmt: skip
            text.append(f" ({who}, {weekday_time(m.received_at.astimezone())}): ")
            text.append_text(safe(first, max_len=120))
        if len(self.arrived) > _SHOWN:
            text.append(_("\n… and {n} more before these").format(n=len(self.arrived) - _SHOWN),
                        style="dim")  # fmt: skip
        return text

    def action_confirm(self) -> None:
        close_burst(self)
        self.dismiss(True)

    def action_cancel(self) -> None:
        close_burst(self)
        self.dismiss(False)
