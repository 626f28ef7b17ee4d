"""The away dialog: mark a manager away until a time (their alerts and nudges go to a
backup meanwhile), or back.

Owns only the question; the caller runs `Service.set_away`. The manager is the user
(the CEO: the owner of the conversation under the cursor). What is typed is read in
the manager's own time zone, and the preview says when that is before anything is
done. Typed text is the user's, shown as plain text.
"""

from __future__ import annotations

import re
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
from triage.text.datefmt import day_time
from triage.text.i18n import N_, _
from triage.ui.keys import binding
from triage.ui.screens.base import close_burst
from triage.ui.text import safe_plain

BACK_WORDS = ("back", "now", "retour", "de retour")  # read in both languages
# WHEN, then " to " (French " à ") and the backup's id, the last word.
_TO_BACKUP = re.compile(r"^(.*\S)\s+(?:to|à)\s+(\S+)$", re.IGNORECASE)


@dataclass(frozen=True)
class AwayChoice:
    """Away until `until` with `backup` ("" : least loaded), or back (`until` None)."""

    manager: str
    until: datetime | None
    backup: str = ""


class AwayScreen(ModalScreen[AwayChoice | None]):
    """Type until when (and, after "to" or "à", the backup), or "back" ("retour")."""

    BINDINGS: ClassVar[list[BindingType]] = [binding("confirm", title=N_("OK")),
                                             binding("cancel")]  # fmt: skip

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
            title = _(" Away: {name} ").format(name=safe_plain(self.name_, 60))
            yield Static(Text(title), id="title")
            yield Static(Text(self._now_line()), id="state")
            yield Input(placeholder=_("fri 18:00, tomorrow 9:00, 3d ... [to bob] · or back"),
                        id="until")  # fmt: skip
            yield Static(id="preview")
            yield Static(Text(_("enter records it for every console · esc cancel")), id="hint")

    def on_mount(self) -> None:
        self.query_one("#until", Input).focus()
        self._show()

    def _now_line(self) -> str:
        away = self.service.absences().get(self.manager)
        if away is None:
            return _("Now: at work (alerts and nudges are theirs)")
        name = self.service.config.manager_name
        backup = name(away.backup) if away.backup else _("least loaded")
        return _("Now: away until {time} ({backup})").format(
            time=self._local(away.until), backup=backup
        )

    def _local(self, at: datetime) -> str:
        """ "Wed 02 Dec 17:00 EST" ("mer. 2 déc. 17 h 00 EST") in the manager's zone."""
        local = at.astimezone(self.zone)
        return f"{day_time(local)} {local:%Z}".rstrip()

    def choice(self) -> AwayChoice:
        """What is typed: "back" ("retour"), or WHEN [to ID] (WHEN [à ID]); ValueError
        saying why not."""
        boxes = self.query("#until")
        text = " ".join(boxes.first(Input).value.split()) if boxes else ""
        if text.casefold() in BACK_WORDS:
            return AwayChoice(self.manager, None)
        when, backup = self._when_and_backup(text)
        if backup and backup not in self.service.config.managers:
            known = ", ".join(m for m in self.service.config.managers if m != self.manager)
            raise ValueError(_("no manager {backup!r} (known: {known})").format(
                backup=backup, known=known))  # fmt: skip
        if backup == self.manager:
            raise ValueError(_("the backup is someone else"))
        return AwayChoice(self.manager, parse_when(when, self.service.now(), self.zone), backup)

    def _when_and_backup(self, text: str) -> tuple[str, str]:
        """WHEN, and the id after the last " to " or " à " ("" when none). French times
        have an " à " of their own ("demain à 9h"): a last word that is no manager's id
        in a text that reads as a time as a whole is part of the time."""
        found = _TO_BACKUP.match(text)
        if found is None:
            return text, ""
        when, backup = found.group(1), found.group(2)
        if backup not in self.service.config.managers:
            try:
                parse_when(text, self.service.now(), self.zone)
            except ValueError:
                return when, backup  # "whenever to zoe": zoe is named as a backup
            return text, ""
        return when, backup

    def preview(self) -> str:
        try:
            c = self.choice()
        except ValueError as e:
            return _("Not yet: {error}").format(error=e)
        if c.until is None:
            return _("Back now: their alerts and nudges are theirs again.")
        name = self.service.config.manager_name
        who = name(c.backup) if c.backup else _("the least-loaded colleague")
        return _("Away until {time} their time; alerts go to {who}").format(
            time=self._local(c.until), who=who
        )

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
