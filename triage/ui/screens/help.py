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

from triage.text.i18n import N_, _
from triage.ui.keys import bindings

HelpEntry = tuple[str, str, str]  # keys, what, tooltip

# What the queue's and the pane's cells say (the same words are in the README).
TABLE_MARKERS: tuple[tuple[str, str], ...] = (
    (N_("✖ LATE"), N_("the reply deadline has passed")),
    (N_("▲ RISK"), N_("less than the at-risk minutes are left ([agency] at_risk_minutes)")),
    (N_("LEFT"), N_("-1:05 overdue by h:mm · 14m09s inside the at-risk window · "
             "Wed 17:00 due then, the client's local day and time")),
    ("ESC", N_("escalated: by hand, the client wrote to the CEO, or breached past the grace")),
    (N_("CEO"), N_("the client wrote to or copied the CEO")),
    (N_("SPOOF"), N_("the sender poses as staff or the CEO (a look-alike address or name)")),
    ("AM?", N_("the client asked for another account manager: a reassigns (reason preset)")),
    ("17:02?", N_("a ? after the local time: the region is guessed from the address")),
    ("AW", N_("the owner is away: their alerts and nudges go to the backup (A: away or back)")),
    (N_("queued"), N_("your reply waits for the provider (offline): it goes with the next sync")),
    (N_("unsent"), N_("the provider refused your reply: r to send it again, ctrl+d to discard")),
    (N_("WAITING"), N_("how long the client has waited, from the clock start")),
)  # fmt: skip


# The help's title names the screen it lists the keys of.
SCREEN_NAMES = {
    "Queue": N_("Queue"), "Escalations": N_("Escalations"), "Thread": N_("Thread"),
    "Reply": N_("Reply"), "Handoff": N_("Handoff"), "Snooze": N_("Snooze"),
    "Escalate": N_("Escalate"), "Deescalate": N_("Deescalate"), "Done": N_("Done"),
    "Reassign": N_("Reassign"), "Collision": N_("Collision"),
}  # fmt: skip


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
        # One row per meaning: keys that share a title and a text (1-5 for the
        # views) are listed together.
        ident = (binding.description, binding.tooltip or binding.id or binding.action)
        display = screen.app.get_key_display(binding)
        keys = grouped.setdefault(ident, [])
        if display not in keys:
            keys.append(display)
        tips[ident] = binding.tooltip or active.tooltip or ""
    return [(" ".join(keys), ident[0], tips[ident]) for ident, keys in grouped.items()]


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
    HelpScreen #help-keys, HelpScreen #help-markers {
        width: 100%;
        height: auto;
    }
    HelpScreen #help-markers { margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = bindings("help_close")

    def __init__(
        self,
        entries: list[HelpEntry],
        title: str = N_("Keys"),
        markers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__()
        self.entries = entries
        self.title_text = _(title)
        self.markers = markers

    @classmethod
    def for_screen(cls, screen: Screen[Any]) -> HelpScreen:
        """The keys of `screen`, and what its markers mean when it shows a table."""
        from triage.ui.screens.table import TableScreen

        markers = TABLE_MARKERS if isinstance(screen, TableScreen) else ()
        name = type(screen).__name__.removesuffix("Screen")
        title = _("Keys: {screen}").format(screen=_(SCREEN_NAMES.get(name, name)))
        return cls(help_entries(screen), title, markers)

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
            box.border_subtitle = _("esc closes")
            yield Static(table, id="help-keys")
            if self.markers:
                yield Static(self._markers_table(), id="help-markers")

    def _markers_table(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.title = Text(_("What the table says"), style="bold")
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for marker, meaning in self.markers:
            table.add_row(Text(_(marker)), Text(_(meaning)))
        return table

    @property
    def text(self) -> str:
        keys = [f"{k}  {w}  {t}" for k, w, t in self.entries]
        return "\n".join([*keys, *(f"{_(m)}  {_(what)}" for m, what in self.markers)])

    def action_close(self) -> None:
        self.dismiss(None)
