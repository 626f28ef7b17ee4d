"""A dialog that asks why: quick reasons by digit, or typed text (escalate, done).

Owns only the question; the caller runs the service action with the answer.
Dismissed with the reason (a quick pick, or the typed text when there is some),
or None on esc. Nothing is chosen until the user chooses: enter with no reason
does nothing but say so. The conversation it is about is named from email text,
so it is shown through `triage.ui.text.safe`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from triage.domain.reasons import reason_label
from triage.service.api import Service
from triage.text.i18n import _
from triage.ui.screens.base import close_burst
from triage.ui.text import safe


def about_text(service: Service, thread_id: str, width: int = 60) -> Text:
    """'<client> — <subject>', sanitized and cut to fit the dialog."""
    conv = service.conversation(thread_id)
    if conv is None:
        return Text(_("conversation {thread_id}").format(thread_id=thread_id), style="dim")
    return Text.assemble(
        safe(conv.client_name or conv.client_email, max_len=width // 3, style="bold"),
        " — ",
        safe(conv.subject or _("(no subject)"), max_len=width - width // 3 - 3),
    )


class ReasonInput(Input):
    """The free-text reason. A digit typed into it while it is empty picks a quick reason
    instead of starting the text ("1-4 pick"); in the same queue as the keys around
    it, so a burst such as "3" + enter resolves in the order it was typed."""

    @dataclass
    class Pick(Message):
        """Quick reason `index` (0-based) was picked with its digit."""

        index: int

    def __init__(self, quick: int, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.digits = tuple(str(i) for i in range(1, quick + 1))

    async def _on_key(self, event: events.Key) -> None:
        if not self.value and event.character in self.digits:
            event.stop()
            event.prevent_default()
            self.post_message(self.Pick(int(event.character) - 1))
            return
        await super()._on_key(event)


class ReasonScreen(ModalScreen[str | None]):
    """Pick or type a reason. Subclasses name the question, the quick reasons and the verb."""

    HEADING = ""
    QUICK: ClassVar[tuple[str, ...]] = ()
    VERB = ""  # what enter does ("escalate", "mark done")

    DEFAULT_CSS = """
    ReasonScreen { align: center middle; }
    ReasonScreen #dialog {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; padding: 0 1; background: $surface;
    }
    ReasonScreen #dialog > Static { height: auto; }
    ReasonScreen #title { text-style: bold reverse; }
    ReasonScreen #chosen { text-style: bold; margin-top: 1; }
    ReasonScreen #hint { color: $text-muted; }
    ReasonScreen #already { margin-top: 1; }
    ReasonScreen #already.-hidden { display: none; }
    """

    def __init__(self, service: Service, thread_id: str) -> None:
        super().__init__()
        self.service = service
        self.thread_id = thread_id
        self.picked: int | None = None  # the quick reason chosen, if any

    def compose(self) -> ComposeResult:
        n = len(self.QUICK)
        with Vertical(id="dialog"):
            yield Static(Text(f" {_(self.HEADING)} "), id="title")
            yield Static(about_text(self.service, self.thread_id, 70), id="about")
            already = self.already_text()
            yield Static(already, id="already", classes="" if already else "-hidden")
            yield Static(self._quick_text(), id="quick")
            yield ReasonInput(
                n, placeholder=_("or type a reason"), id="reason-text", max_length=200
            )
            yield Static(id="chosen")
            hint = _("1-{n} or ↑↓ pick · or type · enter {verb} · esc cancel").format(
                n=n, verb=_(self.VERB)
            )
            yield Static(Text(hint), id="hint")

    def on_mount(self) -> None:
        self.query_one(ReasonInput).focus()
        self._show_choice()

    def already_text(self) -> Text:
        """What is on record already, if it matters to the answer (none by default)."""
        return Text()

    def _quick_text(self) -> Text:
        """The quick reasons, the chosen one marked in words and glyph (reads without colour)."""
        lines = [f"{'(•)' if i == self.picked else '( )'} {i + 1}  {_(r)}"
                 for i, r in enumerate(self.QUICK)]  # fmt: skip
        return Text("\n".join(lines))

    def reason(self) -> str:
        """What enter would send: typed text wins over a quick pick."""
        boxes = self.query(ReasonInput)  # none yet: keys can come before the dialog is drawn
        typed = " ".join(boxes.first().value.split()) if boxes else ""
        if typed:
            return typed
        return self.QUICK[self.picked] if self.picked is not None else ""

    def _show_choice(self) -> None:
        if not self.query("#chosen"):
            return
        reason = self.reason()
        line = (Text.assemble(_("Reason: "), safe(reason_label(reason))) if reason
                else Text(_("Reason: none yet")))  # fmt: skip
        self.query_one("#chosen", Static).update(line)
        self.query_one("#quick", Static).update(self._quick_text())

    def on_input_changed(self, _event: Input.Changed) -> None:
        self._show_choice()

    def on_reason_input_pick(self, event: ReasonInput.Pick) -> None:
        self.action_pick(event.index)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    def action_pick(self, index: int) -> None:
        if 0 <= index < len(self.QUICK):
            self.picked = index
            self._show_choice()

    def action_step(self, by: int) -> None:
        start = -1 if by > 0 else len(self.QUICK)
        current = self.picked if self.picked is not None else start
        self.action_pick((current + by) % len(self.QUICK))

    def action_confirm(self) -> None:
        reason = self.reason()
        if not reason:
            self.notify(_("No reason yet: pick one (1-{n}) or type one").format(n=len(self.QUICK)),
                        severity="warning", markup=False)  # fmt: skip
            return
        close_burst(self)
        self.dismiss(reason)

    def action_cancel(self) -> None:
        close_burst(self)
        self.dismiss(None)
