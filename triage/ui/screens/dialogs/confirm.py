"""Yes or no: before something that cannot be undone (throwing a draft away), or that
someone else may mind (replying on a colleague's conversation)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import ModalScreen
from textual.widgets import Static

from triage.text.i18n import N_, _
from triage.ui.keys import binding
from triage.ui.screens.base import close_burst


class ConfirmDiscard(ModalScreen[bool]):
    """Asks before throwing a draft away: it cannot be undone."""

    BINDINGS: ClassVar[list[BindingType]] = [
        binding("confirm", keys="y", title=N_("Discard")),
        binding("cancel", keys="n,escape", title=N_("Keep")),
    ]
    DEFAULT_CSS = """
    ConfirmDiscard { align: center middle; }
    ConfirmDiscard > Static { width: 50; height: auto; border: thick $error; padding: 1 2; }
    """

    def compose(self) -> ComposeResult:
        yield Static(
            Text.assemble((_("Discard this draft?"), "bold"), _("\nThe text will be lost.  y / n"))
        )

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class Confirm(ModalScreen[bool]):
    """A question with y / n (esc is no). The texts come from code, never from email,
    except names already made safe by the caller."""

    BINDINGS: ClassVar[list[BindingType]] = [
        binding("confirm", keys="y", title=N_("Yes")),
        binding("cancel", keys="n,escape", title=N_("No")),
    ]
    DEFAULT_CSS = """
    Confirm { align: center middle; }
    Confirm > Static { width: 64; max-width: 100%; height: auto; border: thick $warning;
                       padding: 1 2; }
    """

    def __init__(self, question: str, detail: str) -> None:
        super().__init__()
        self.question, self.detail = question, detail

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble((self.question, "bold"), f"\n{self.detail}  y / n"))

    def action_confirm(self) -> None:
        close_burst(self)
        self.dismiss(True)

    def action_cancel(self) -> None:
        close_burst(self)
        self.dismiss(False)
