"""`?`: every key of the screen below, with the keys as remapped from the config.

Built from the screen's live bindings (`Screen.active_bindings`), so what it
shows is what the keys do, including the table's movement keys and the app's.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from triage.ui.keys import bindings

HelpEntry = tuple[str, str, str]  # keys, what, tooltip


def help_entries(screen: Screen[Any]) -> list[HelpEntry]:
    """(keys, description, tooltip) for every described binding active on `screen`."""
    grouped: dict[tuple[str, str], list[str]] = {}
    tips: dict[tuple[str, str], str] = {}
    for active in screen.active_bindings.values():
        binding = active.binding
        # Ours all have ids (the keymap needs them); Textual's inherited
        # scrolling and focus keys do not, and only add noise here.
        if not binding.description or not binding.id:
            continue
        ident = (binding.id or binding.action, binding.description)
        display = screen.app.get_key_display(binding)
        keys = grouped.setdefault(ident, [])
        if display not in keys:
            keys.append(display)
        tips[ident] = binding.tooltip or active.tooltip or ""
    return [(" ".join(keys), ident[1], tips[ident]) for ident, keys in grouped.items()]


class HelpScreen(ModalScreen[None]):
    """A modal list of keys; esc, q or ? closes it."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > #help-box {
        width: 90;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        padding: 0 1;
    }
    HelpScreen #help-keys {
        width: 100%;
        height: auto;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = bindings("help_close")

    def __init__(self, entries: list[HelpEntry], title: str = "Keys") -> None:
        super().__init__()
        self.entries = entries
        self.title_text = title

    @classmethod
    def for_screen(cls, screen: Screen[Any]) -> HelpScreen:
        return cls(help_entries(screen), f"Keys: {type(screen).__name__.removesuffix('Screen')}")

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(style="dim")
        for keys, what, tip in self.entries:
            # Plain Text objects: binding texts come from code, but never as markup.
            table.add_row(Text(keys), Text(what), Text(tip))
        with VerticalScroll(id="help-box") as box:
            box.border_title = self.title_text
            box.border_subtitle = "esc closes"
            yield Static(table, id="help-keys")

    @property
    def text(self) -> str:
        return "\n".join(f"{k}  {w}  {t}" for k, w, t in self.entries)

    def action_close(self) -> None:
        self.dismiss(None)
