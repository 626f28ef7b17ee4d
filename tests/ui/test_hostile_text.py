"""Untrusted text stays inert on screen: no escape reaches the terminal, no markup acts.

Every subject, client name and body of `FakeService.hostile()` holds OSC 52,
clear-screen (7- and 8-bit), an OSC via C1, NUL, a bidi override, Textual action
markup and Rich link markup. We render what the app would write to the terminal
(the compositor's full update, the same strips the driver writes) and look at
every segment's text.
"""

from __future__ import annotations

import re

import pytest
from rich.segment import Segment
from textual._compositor import LayoutUpdate

from tests.support.fake_service import FakeService
from tests.ui.conftest import settle
from triage.ui.app import TriageApp
from triage.ui.screens.help import HelpScreen
from triage.ui.screens.queue import QueueScreen
from triage.ui.widgets.queue_table import QueueTable

FORBIDDEN = set("\x1b\x9b\x9d\x00\x07\u202e\x9c")
# What a terminal update legitimately contains: SGR colours, cursor moves, OSC 8 links.
_LEGIT = re.compile(r"\x1b\[[0-9;:]*[mHJK]|\x1b\[\?[0-9;]*[hl]|\x1b\]8;[^\x1b]*\x1b\\")


def full_update(app: TriageApp) -> LayoutUpdate:
    """What the driver would write for a full repaint (modals include the screens below)."""
    screens = app._background_screens
    return app.screen._compositor.render_update(full=True, screen_stack=screens)  # type: ignore[return-value]


def screen_segments(app: TriageApp) -> list[Segment]:
    return [seg for chop in full_update(app).strips for strip in chop for seg in strip]


def assert_inert(app: TriageApp) -> str:
    segments = screen_segments(app)
    text = "".join(seg.text for seg in segments)
    bad = {hex(ord(ch)) for ch in text if ch in FORBIDDEN}
    assert not bad, f"raw control characters reached the screen: {bad}"
    # The exact bytes the driver would send, minus the app's own styling codes.
    raw = full_update(app).render_segments(app.console)
    leftover = _LEGIT.sub("", raw)
    assert not FORBIDDEN & set(leftover), "an escape sequence from email text was written"
    return text


@pytest.mark.parametrize("size", [(100, 30), (80, 24)])
async def test_queue_shows_hostile_text_literally(size: tuple[int, int]) -> None:
    service = FakeService.hostile()
    app = TriageApp(service)
    async with app.run_test(size=size, notifications=True) as pilot:
        await settle(pilot)
        text = assert_inert(app)
        assert "[URGENT]" in text and "␛" in text  # shown, as visible placeholders
        table = app.screen.query_one(QueueTable)
        for y in range(table.size.height):
            for seg in table.render_line(y):
                assert not FORBIDDEN & set(seg.text)
                assert seg.style is None or "@click" not in seg.style.meta
        svg = app.export_screenshot()
        assert not FORBIDDEN & set(svg)
        # Clicking on the "[@click=app.quit]" subject does nothing but move the cursor.
        assert table.cursor_row == 0
        await pilot.click(QueueTable, offset=(size[0] - 30, 3))
        await settle(pilot)
        assert table.cursor_row == 2  # the third row (the header is line 0)
        assert app.return_code is None and isinstance(app.screen, QueueScreen)
        assert (service.escalated, service.reassigned, service.acknowledged) == ([], [], [])
        assert_inert(app)


async def test_hostile_text_in_escalations_help_and_notifications() -> None:
    service = FakeService.hostile(user="ceo")
    app = TriageApp(service)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert "client wrote to the CEO" in assert_inert(app)
        # An action whose text comes from email: the notification must stay inert too.
        await pilot.press("y")
        await settle(pilot)
        text = assert_inert(app)
        assert "Acknowledged:" in text and "[@click=app.quit]" in text
        await pilot.press("v", "slash", *"[bold]", "enter")
        await settle(pilot)
        assert "text='[bold]'" in assert_inert(app)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert_inert(app)
