"""The template picker: one canned reply, by its number or with the arrows.

Owns only the choice; the reply screen renders the template into the text.
Template names and titles come from the config, never from email, but they are
shown as plain Text all the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from triage.domain.templates import Template
from triage.text.i18n import _
from triage.ui.keys import binding
from triage.ui.screens.base import close_burst


class TemplatePicker(ModalScreen[Template | None]):
    """Choose a template (enter), or none (esc)."""

    BINDINGS: ClassVar[list[BindingType]] = [binding("cancel")]

    DEFAULT_CSS = """
    TemplatePicker { align: center middle; }
    TemplatePicker #dialog {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; padding: 0 1; background: $surface;
    }
    TemplatePicker #title { text-style: bold reverse; }
    TemplatePicker OptionList { height: auto; max-height: 16; }
    TemplatePicker #hint { color: $text-muted; }
    """

    def __init__(self, templates: Iterable[Template]) -> None:
        """`templates` in the order offered: the first is the default pick."""
        super().__init__()
        self.templates = list(templates)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(_(" Insert a template ")), id="title")
            # The config's own words: a title, a name, and the language when it has one.
            options = [Option(Text(f"{t.title}  ({', '.join(filter(None, (t.name, t.language)))})"),
                              id=t.name) for t in self.templates]  # fmt: skip
            yield OptionList(*options, id="templates")
            hint = _("↑↓ choose · enter inserts it · esc cancel · {placeholders} left are yours")
            yield Static(Text(hint), id="hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        close_burst(self)
        self.dismiss(next(t for t in self.templates if t.name == event.option.id))

    def action_cancel(self) -> None:
        close_burst(self)
        self.dismiss(None)
