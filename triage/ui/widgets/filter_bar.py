"""The `/` filter line: filters the queue as the user types.

Hidden until asked for; `escape` clears the filter and hides it, `enter` keeps
the filter and hides it (the status bar keeps showing what is active).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.binding import BindingType
from textual.message import Message
from textual.widgets import Input

from triage.ui.keys import bindings


class FilterBar(Input):
    """An Input that posts `FilterBar.Changed` on each keystroke."""

    DEFAULT_CSS = """
    FilterBar {
        height: 3;
        display: none;
    }
    FilterBar.-shown {
        display: block;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = bindings("filter_clear")

    @dataclass
    class FilterChanged(Message):
        """The filter text is now `text` ("" = no text filter)."""

        text: str

    @dataclass
    class Closed(Message):
        """The bar was hidden; `kept` is False when the filter was cleared."""

        kept: bool

    def __init__(self, **kwargs: object) -> None:
        placeholder = "filter: client, subject or sender (enter keeps, esc clears)"
        super().__init__(placeholder=placeholder, **kwargs)  # type: ignore[arg-type]

    def open(self, text: str = "") -> None:
        self.value = text
        self.add_class("-shown")
        self.focus()

    def close(self) -> None:
        """Hide it and give up the focus at once: the next key of the burst that closed it
        must reach the screen, not this box (the Closed message comes after it)."""
        self.remove_class("-shown")
        if self.has_focus:
            self.blur()

    @property
    def is_open(self) -> bool:
        return self.has_class("-shown")

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.FilterChanged(event.value))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.close()
        self.post_message(self.Closed(kept=True))

    def action_clear_filter(self) -> None:
        self.value = ""
        self.close()
        self.post_message(self.FilterChanged(""))
        self.post_message(self.Closed(kept=False))
