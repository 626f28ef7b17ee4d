"""The done dialog: why this conversation needs no reply.

"Done" is the one action that takes a waiting conversation out of the queue
without a reply, so it always carries a reason (a quick one by digit, or typed),
which the history keeps. The client's next message brings it back.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import BindingType

from triage.domain.workflow import QUICK_DONE_REASONS
from triage.text.i18n import N_, _
from triage.ui.keys import binding
from triage.ui.screens.dialogs.reason import ReasonScreen


class DoneScreen(ReasonScreen):
    """Pick or type why no reply is needed."""

    HEADING = N_("Done: no reply needed")
    QUICK = QUICK_DONE_REASONS
    VERB = N_("mark done")

    BINDINGS: ClassVar[list[BindingType]] = [
        *(binding(f"pick_{i}", title=r) for i, r in enumerate(QUICK_DONE_REASONS, 1)),
        binding("reason_next"),
        binding("reason_previous"),
        binding("confirm", title=N_("Done")),
        binding("cancel"),
    ]

    def already_text(self) -> Text:
        return Text(_("It leaves the queue for everyone until the client writes again."), "dim")
