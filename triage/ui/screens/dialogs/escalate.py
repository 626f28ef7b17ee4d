"""The escalate dialog: why this conversation goes to the CEO.

Owns only the question; the caller runs `Service.escalate` with the answer.
Dismissed with the reason (a quick pick, or the typed text when there is
some), or None on esc. The conversation it is about is named from email text,
so it is shown through `triage.ui.text.safe`.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from triage.service.api import Service
from triage.ui.keys import binding
from triage.ui.text import safe

QUICK_REASONS = ("client wrote to the CEO", "breached", "client unhappy")


def about_text(service: Service, thread_id: str, width: int = 60) -> Text:
    """'<client> — <subject>', sanitized and cut to fit the dialog."""
    conv = service.conversation(thread_id)
    if conv is None:
        return Text(f"conversation {thread_id}", style="dim")
    return Text.assemble(
        safe(conv.client_name or conv.client_email, max_len=width // 3, style="bold"),
        " — ",
        safe(conv.subject or "(no subject)", max_len=width - width // 3 - 3),
    )


class EscalateScreen(ModalScreen[str | None]):
    """Pick or type the reason for an escalation."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # The help names each quick reason by its text.
        *(binding(f"escalate_pick_{i}", title=r) for i, r in enumerate(QUICK_REASONS, 1)),
        binding("confirm", title="Escalate"),
        binding("cancel"),
    ]

    DEFAULT_CSS = """
    EscalateScreen { align: center middle; }
    EscalateScreen #dialog {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; padding: 0 1; background: $surface;
    }
    EscalateScreen #dialog > Static { height: auto; }
    EscalateScreen #title { text-style: bold reverse; }
    EscalateScreen OptionList { height: auto; max-height: 5; }
    EscalateScreen #chosen { text-style: bold; margin-top: 1; }
    EscalateScreen #hint { color: $text-muted; }
    """

    def __init__(self, service: Service, thread_id: str) -> None:
        super().__init__()
        self.service = service
        self.thread_id = thread_id

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(" Escalate to the CEO "), id="title")
            yield Static(about_text(self.service, self.thread_id, 70), id="about")
            yield OptionList(
                *(Option(f"{i}  {r}", id=f"reason-{i}") for i, r in enumerate(QUICK_REASONS, 1)),
                id="quick",
            )
            yield Input(placeholder="or type a reason (tab)", id="reason-text", max_length=200)
            yield Static(id="chosen")
            yield Static(Text("1-3 pick · tab type · enter escalate · esc cancel"), id="hint")

    def on_mount(self) -> None:
        self.query_one("#quick", OptionList).focus()
        self._show_choice()

    def reason(self) -> str:
        """What enter would send: typed text wins over a highlighted quick pick."""
        typed = " ".join(self.query_one("#reason-text", Input).value.split())
        if typed:
            return typed
        picked = self.query_one("#quick", OptionList).highlighted
        return QUICK_REASONS[picked] if picked is not None else ""

    def _show_choice(self) -> None:
        reason = self.reason()
        line = Text.assemble("Reason: ", safe(reason)) if reason else Text("Reason: none yet")
        self.query_one("#chosen", Static).update(line)

    def on_option_list_option_highlighted(self, _event: OptionList.OptionHighlighted) -> None:
        self._show_choice()

    def on_input_changed(self, _event: Input.Changed) -> None:
        self._show_choice()

    def action_pick(self, index: int) -> None:
        quick = self.query_one("#quick", OptionList)
        quick.highlighted = index
        quick.focus()

    def action_confirm(self) -> None:
        reason = self.reason()
        if not reason:
            self.notify("Pick a reason (1-3) or type one", severity="warning", markup=False)
            return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)
