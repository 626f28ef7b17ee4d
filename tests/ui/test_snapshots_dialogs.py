"""SVG snapshots of the thread, reply, escalate, reassign, done and snooze screens.

Default and monochrome themes, at 80x24 and 120x36. Deterministic: the
FakeService's frozen clock, the user's zone pinned (UTC, by the conftest and
explicitly), no cursor blink, workers waited on instead of sleeping.
Regenerate with `pytest tests/ui/test_snapshots_dialogs.py --snapshot-update`.
"""

from __future__ import annotations

from datetime import UTC

import pytest
from textual.app import App
from textual.pilot import Pilot

from tests.support.fake_service import FakeService
from triage.ui import themes
from triage.ui.screens.dialogs.done import DoneScreen
from triage.ui.screens.dialogs.escalate import EscalateScreen
from triage.ui.screens.dialogs.reassign import ReassignScreen
from triage.ui.screens.dialogs.snooze import SnoozeScreen
from triage.ui.screens.reply import ReplyScreen
from triage.ui.screens.thread import ThreadScreen

SIZES = [(80, 24), (120, 36)]
THEMES = [themes.DEFAULT_THEME, themes.MONO_THEME]


class SnapApp(App[None]):
    """The thread screen of an escalated, breached conversation, and one dialog on top."""

    def __init__(self, which: str, theme: str) -> None:
        super().__init__()
        for t in themes.THEMES:
            self.register_theme(t)
        self.theme = theme
        self.which = which
        self.service = FakeService()

    def on_mount(self) -> None:
        svc, tid = self.service, "t01"
        self.push_screen(ThreadScreen(svc, tid, user_zone=UTC))
        if self.which == "reply":
            self.push_screen(ReplyScreen(svc, tid, cursor_blink=False))
        elif self.which == "escalate":
            self.push_screen(EscalateScreen(svc, tid))
        elif self.which == "reassign":
            self.push_screen(ReassignScreen(svc, tid))
        elif self.which == "done":
            self.push_screen(DoneScreen(svc, "t06"))
        elif self.which == "snooze":
            self.push_screen(SnoozeScreen(svc, "t06"))


async def settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    if isinstance(pilot.app.screen, ReplyScreen):
        await pilot.press(*"Hi, the page is back up.")
        pilot.app.screen.flush_draft()
    elif isinstance(pilot.app.screen, SnoozeScreen):
        await pilot.press(*"6h")  # past the at-risk point: the preview says it comes back sooner
    elif isinstance(pilot.app.screen, DoneScreen):
        await pilot.press("2")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("which", ["thread", "reply", "escalate", "reassign", "done", "snooze"])
def test_snapshot(snap_compare: object, which: str, theme: str, size: tuple[int, int]) -> None:
    app = SnapApp(which, theme)
    assert snap_compare(app, terminal_size=size, run_before=settle)  # type: ignore[operator]
