"""The away dialog: mark a manager away until a time (their alerts and nudges go to a
backup meanwhile), or back.

Owns only the question; the caller runs `Service.set_away`. The manager is the user
(the CEO: the owner of the conversation under the cursor). What is typed is read in
the manager's own time zone, and the preview says when that is before anything is
done. Typed text is the user's, shown as plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from triage.domain.when import parse_when
from triage.service.api import Service
from triage.ui.keys import binding
from triage.ui.screens.base import close_burst
from triage.ui.text import safe_plain

BACK_WORDS = ("back", "now")


@dataclass(frozen=True)
class AwayChoice:
    """Away until `until` with `backup` ("" : least loaded), or back (`until` None)."""

    manager: str
    until: datetime | None
    backup: str = ""


class AwayScreen(ModalScreen[AwayChoice | None]):
    """Type until when (and, after a space and "to", the backup), or "back"."""

    BINDINGS: ClassVar[list[BindingType]] = [binding("confirm", title="OK"), binding("cancel")]

    DEFAULT_CSS = """
    AwayScreen { align: center middle; }
    AwayScreen #dialog {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; padding: 0 1; background: $surface;
    }
    AwayScreen #dialog > Static { height: auto; }
    AwayScreen #title { text-style: bold reverse; }
    AwayScreen #preview { margin-top: 1; }
    AwayScreen #hint { color: $text-muted; }
    """

    def __init__(self, service: Service, manager: str) -> None:
        super().__init__()
        self.service = service
        self.manager = manager
        m = service.config.managers.get(manager)
        self.zone = ZoneInfo(m.timezone) if m is not None and m.timezone else UTC
        self.name_ = service.config.manager_name(manager)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(f" Away: {safe_plain(self.name_, 60)} "), id="title")
            yield Static(Text(self._now_line()), id="state")
            yield Input(placeholder="fri 18:00, tomorrow 9:00, 3d ... [to bob] · or back",
                        id="until")  # fmt: skip
            yield Static(id="preview")
            yield Static(Text("enter records it for every console · esc cancel"), id="hint")

    def on_mount(self) -> None:
        self.query_one("#until", Input).focus()
        self._show()

    def _now_line(self) -> str:
        away = self.service.absences().get(self.manager)
        if away is None:
            return "Now: at work (alerts and nudges are theirs)"
        backup = self.service.config.manager_name(away.backup) if away.backup else "least loaded"
        return f"Now: away until {away.until.astimezone(self.zone):%a %d %b %H:%M %Z} ({backup})"

    def choice(self) -> AwayChoice:
        """What is typed: "back", or WHEN [to ID]; ValueError saying why not."""
        boxes = self.query("#until")
        text = boxes.first(Input).value.strip() if boxes else ""
        if text.casefold() in BACK_WORDS:
            return AwayChoice(self.manager, None)
        when, _, backup = text.partition(" to ")
        backup = backup.strip()
        if backup and backup not in self.service.config.managers:
            known = ", ".join(m for m in self.service.config.managers if m != self.manager)
            raise ValueError(f"no manager {backup!r} (known: {known})")
        if backup == self.manager:
            raise ValueError("the backup is someone else")
        return AwayChoice(self.manager, parse_when(when, self.service.now(), self.zone), backup)

    def preview(self) -> str:
        try:
            c = self.choice()
        except ValueError as e:
            return f"Not yet: {e}"
        if c.until is None:
            return "Back now: their alerts and nudges are theirs again."
        name = self.service.config.manager_name
        who = name(c.backup) if c.backup else "the least-loaded colleague"
        until = c.until.astimezone(self.zone)
        return f"Away until {until:%a %d %b %H:%M %Z} their time; alerts go to {who}"

    def _show(self) -> None:
        if self.query("#preview"):
            self.query_one("#preview", Static).update(Text(safe_plain(self.preview())))

    def on_input_changed(self, _event: Input.Changed) -> None:
        self._show()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    def action_confirm(self) -> None:
        try:
            chosen = self.choice()
        except ValueError as e:
            self.notify(safe_plain(str(e)), severity="warning", markup=False)
            return
        close_burst(self)
        self.dismiss(chosen)

    def action_cancel(self) -> None:
        close_burst(self)
        self.dismiss(None)
