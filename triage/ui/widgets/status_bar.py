"""The one-line status bar: sync state, active filter, counts, user and clock.

The counts and the sync state always show; the filter is always shown too (a user
must never wonder why a row is missing). When the line is narrow the user and the
total go first, then the filter text is cut short with "…", then the clock goes.
Error texts are not shown here (they go to notifications).
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widget import Widget

from triage.domain.urgency import Counts
from triage.service.api import SyncStatus
from triage.text.datefmt import clock
from triage.text.i18n import _, ngettext
from triage.ui.text import safe_plain

SEP = " │ "
FILTER = 8  # the filter's priority: cut with "…" before anything is dropped, never dropped
FILTER_MIN = 12  # "filter: " and 4 characters of it


def sync_text(status: SyncStatus) -> str:
    """ "● live", "↻ syncing", "✖ offline since 10:42", plus queued replies."""
    if not status.online:
        since = status.offline_since
        state = (_("✖ offline since {time}").format(time=clock(since.astimezone())) if since
                 else _("✖ offline"))  # fmt: skip
    elif status.syncing:
        state = _("↻ syncing")
    else:
        state = _("● live")
    if status.outbox_count:
        n = status.outbox_count
        state += ngettext(", {n} queued", ", {n} queued", n).format(n=n)
    if status.failed_count:
        state += _(", {n} not sent").format(n=status.failed_count)
    return state


def counts_text(counts: Counts) -> tuple[str, str]:
    """The essential counts, and the total (dropped first when narrow)."""
    essential = _("✖ {late} late  ▲ {risk} risk  ESC {esc}").format(
        late=counts.breached, risk=counts.at_risk, esc=counts.escalated
    )
    total = _("{n} waiting").format(n=counts.total)
    if counts.snoozed:
        total += _(", {n} snoozed").format(n=counts.snoozed)
    return essential, total


class StatusBar(Widget):
    """Renders what `show()` was last given; no I/O, no clock of its own."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        padding: 0 1;
    }
    """

    def __init__(self, user: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.user = _("CEO") if user == "ceo" else user
        self._parts: list[tuple[int, str]] = []

    def show(
        self, status: SyncStatus, counts: Counts, filter_text: str, now: datetime,
        notice: str = "",
    ) -> None:  # fmt: skip
        """`notice`: something on its way the user can still stop (a held reply)."""
        essential, total = counts_text(counts)
        # (priority, text): the lowest priority is dropped first when narrow.
        parts = [
            *([(11, notice)] if notice else []),
            (10, sync_text(status)),
            (FILTER, _("filter: {text}").format(text=safe_plain(filter_text))),
            (9, essential),
            (3, total),
            (2, self.user),
            (4, clock(now.astimezone())),
        ]
        self.set_class(not status.online, "-offline")
        if parts != self._parts:  # called every second: repaint only when the text changes
            self._parts = parts
            self.refresh()

    @property
    def text(self) -> str:
        return SEP.join(t for _, t in self._fitted(self.content_region.width or 200))

    def _fitted(self, width: int) -> list[tuple[int, str]]:
        parts = list(self._parts)

        def size() -> int:
            return len(SEP.join(t for _, t in parts))

        while size() > width:
            minor = [p for p in parts if p[0] < 4]  # the user, the total
            i = next((i for i, p in enumerate(parts) if p[0] == FILTER), None)
            if minor:
                parts.remove(min(minor, key=lambda p: p[0]))
            elif i is not None and len(parts[i][1]) > FILTER_MIN:  # cut, never drop, it
                cut = max(FILTER_MIN, len(parts[i][1]) - (size() - width))
                parts[i] = (FILTER, parts[i][1][: cut - 1] + "…")
            elif clock := [p for p in parts if p[0] == 4]:
                parts.remove(clock[0])
            else:
                break
        return parts

    def render(self) -> Text:
        # Built from plain strings: the filter text is user input, never markup.
        return Text(self.text, no_wrap=True, overflow="ellipsis", end="")
