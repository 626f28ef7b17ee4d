"""The snooze dialog: until when this conversation sleeps, in the client's time and yours.

Owns only the question; the caller runs `Service.snooze` with the instant. The
preview says, before anything is done, when the conversation will really come
back: a waiting one never sleeps past the moment it becomes at risk (no deadline
is hidden), and a snooze on an answered one is a reminder that returns as a
follow-up with its own clock. Typed text is the user's, shown as plain text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from triage.domain.conversation import as_snoozed
from triage.domain.when import parse_when
from triage.service.api import Service
from triage.text.datefmt import day_time, weekday_time
from triage.text.i18n import N_, _
from triage.ui.keys import binding
from triage.ui.screens.base import close_burst, user_zone
from triage.ui.screens.dialogs.reason import about_text
from triage.ui.text import safe_plain

PRESETS = ("1h", "3h", N_("tomorrow 9:00"), N_("mon 9:00"))
PRESET_KEYS = ("1", "2", "3", "4")


class SnoozeScreen(ModalScreen[datetime | None]):
    """Type when the conversation should come back; see what that means first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        binding("confirm", title=N_("Snooze")),
        binding("cancel"),
    ]

    DEFAULT_CSS = """
    SnoozeScreen { align: center middle; }
    SnoozeScreen #dialog {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; padding: 0 1; background: $surface;
    }
    SnoozeScreen #dialog > Static { height: auto; }
    SnoozeScreen #title { text-style: bold reverse; }
    SnoozeScreen #preview { margin-top: 1; }
    SnoozeScreen #hint { color: $text-muted; }
    """

    def __init__(self, service: Service, thread_id: str) -> None:
        super().__init__()
        self.service = service
        self.thread_id = thread_id
        conv = service.conversation(thread_id)
        region = service.config.regions.get(conv.region) if conv else None
        self.zone = ZoneInfo(region.timezone) if region else UTC
        self.place = region.label if region else "UTC"

    def compose(self) -> ComposeResult:
        presets = "  ".join(f"{i} = {_(p)}" for i, p in enumerate(PRESETS, 1))
        with Vertical(id="dialog"):
            yield Static(Text(_(" Snooze until ")), id="title")
            yield Static(about_text(self.service, self.thread_id, 70), id="about")
            yield Static(Text(presets), id="presets")
            yield Input(placeholder=_("2h, 17:30, tomorrow 9:00, mon 14:00 ..."), id="when")
            yield Static(id="preview")
            yield Static(
                Text(_("type when (or 1-4 alone for a preset) · enter snooze · esc cancel")),
                id="hint",
            )

    def on_mount(self) -> None:
        self.query_one("#when", Input).focus()
        self._show()

    def until(self) -> datetime:
        """The instant typed (UTC); ValueError saying why not. A lone digit 1-4 is its
        preset (so "10m" or "2h" typed in full mean what they say)."""
        boxes = self.query("#when")
        text = boxes.first(Input).value.strip() if boxes else ""
        if text in PRESET_KEYS:
            text = _(PRESETS[PRESET_KEYS.index(text)])
        return parse_when(text, self.service.now(), self.zone)

    def preview(self) -> str:
        """When it comes back, in the client's time and the user's, and why if earlier."""
        try:
            until = self.until()
        except ValueError as e:
            return _("Not yet: {why}").format(why=e)
        line = _("Until {when}").format(when=self._both(until))
        conv = self.service.conversation(self.thread_id)
        if conv is None:
            return line
        after = as_snoozed(conv, until, self.service.config)
        if after.follow_up:
            return (
                line + "\n" + _("A reminder: it comes back then as a follow-up, on its own clock.")
            )
        if after.wake_at is not None and after.wake_at < until:
            if after.wake_at <= self.service.now():
                return line + "\n" + _("It is at risk already: a snooze would end at once.")
            return (line + "\n" + _("It comes back earlier, {when}, when it becomes at risk: "
                                     "a snooze never hides a deadline.").format(
                                         when=self._both(after.wake_at)))  # fmt: skip
        return line

    def _both(self, at: datetime) -> str:
        client = day_time(at.astimezone(self.zone))
        mine = weekday_time(at.astimezone(user_zone(self.service)))
        return _("{client} {place} time ({mine} yours)").format(
            client=client, place=self.place, mine=mine
        )

    def _show(self) -> None:
        if self.query("#preview"):
            lines = (safe_plain(line) for line in self.preview().splitlines())
            self.query_one("#preview", Static).update(Text("\n".join(lines)))

    def on_input_changed(self, _event: Input.Changed) -> None:
        self._show()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    def action_confirm(self) -> None:
        try:
            until = self.until()
        except ValueError as e:
            self.notify(safe_plain(str(e)), severity="warning", markup=False)
            return
        close_burst(self)
        self.dismiss(until)

    def action_cancel(self) -> None:
        close_burst(self)
        self.dismiss(None)
