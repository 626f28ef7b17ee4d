"""Yes or no before something that cannot be undone (throwing a draft away)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import ModalScreen
from textual.widgets import Static

from triage.ui.keys import binding


class ConfirmDiscard(ModalScreen[bool]):
    """Asks before throwing a draft away: it cannot be undone."""

    BINDINGS: ClassVar[list[BindingType]] = [
        binding("confirm", keys="y", title="Discard"),
        binding("cancel", keys="n,escape", title="Keep"),
    ]
    DEFAULT_CSS = """
    ConfirmDiscard { align: center middle; }
    ConfirmDiscard > Static { width: 50; height: auto; border: thick $error; padding: 1 2; }
    """

    def compose(self) -> ComposeResult:
        yield Static(
            Text.assemble(("Discard this draft?", "bold"), "\nThe text will be lost.  y / n")
        )

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
