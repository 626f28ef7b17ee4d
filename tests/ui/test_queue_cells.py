"""What the queue's cells say: escalations the rules make, countdowns that read right,
WAITING from the clock start, and a status bar that keeps its counts when narrow."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from rich.text import Text
from textual.widgets import Static

from tests.support.fake_service import FakeService
from tests.ui.conftest import settle
from triage.ui.app import TriageApp
from triage.ui.screens.thread import ThreadScreen
from triage.ui.widgets.queue_table import QueueTable
from triage.ui.widgets.status_bar import StatusBar


def line_of(app: TriageApp, thread_id: str) -> str:
    table = app.screen.query_one(QueueTable)
    index = [c.thread_id for c in table.rows].index(thread_id)
    return table.render_line(index + 1).text


def breach_unescalated(service: FakeService, tid: str, late: timedelta) -> None:
    conv = service.conversation(tid)
    assert conv is not None
    service.add(dataclasses.replace(conv, deadline=service.now() - late, escalated=False,
                                    escalation_reason="", escalated_by=""))  # fmt: skip


async def test_a_breach_past_the_grace_is_tagged_esc_like_a_manual_escalation() -> None:
    service = FakeService()
    grace = timedelta(minutes=service.config.agency.escalate_after_minutes)
    breach_unescalated(service, "t05", grace + timedelta(minutes=5))
    app = TriageApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert "ESC" in line_of(app, "t05")  # automatic: the pane lists it, so does the row
        assert "ESC" not in line_of(app, "t03")  # at risk only


async def test_the_thread_view_says_an_automatic_escalation_and_since_when() -> None:
    service = FakeService()
    grace = timedelta(minutes=service.config.agency.escalate_after_minutes)
    breach_unescalated(service, "t05", grace + timedelta(minutes=5))
    app = TriageApp(service)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.push_screen(ThreadScreen(service, "t05"))
        await settle(pilot)
        history = app.screen.query_one("#history", Static).content
        text = history.plain if isinstance(history, Text) else str(history)
        assert text.startswith("ESCALATED (automatic): breached · since ")
        assert "No escalations" not in text


async def test_far_deadlines_read_as_the_clients_day_and_time() -> None:
    service = FakeService()
    app = TriageApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        # t09: 20 hours left; Toronto, frozen at Tue 11:00 -> due Wed 07:00 local
        assert "Wed 07:00" in line_of(app, "t09") and "20:00" not in line_of(app, "t09")


async def test_the_at_risk_countdown_shows_seconds_and_moves_every_second() -> None:
    service = FakeService()
    app = TriageApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert "8m00s" in line_of(app, "t03")
        service.clock.advance(timedelta(seconds=1))
        app.tick()
        await pilot.pause()
        assert "7m59s" in line_of(app, "t03")


async def test_waiting_counts_from_the_clock_start() -> None:
    service = FakeService()
    conv = service.conversation("t03")
    assert conv is not None
    start = service.now() - timedelta(hours=3)  # waiting three hours, a reply came after
    service.add(dataclasses.replace(conv, clock_start=start, waiting_since=start,
                                    last_message_at=service.now()))  # fmt: skip
    app = TriageApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert "3 hours" in line_of(app, "t03")


async def test_a_narrow_status_bar_keeps_counts_and_clock_and_cuts_the_filter() -> None:
    service = FakeService()
    app = TriageApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("m", "g", "g", "/", *"a long filter text", "enter")
        await settle(pilot)
        bar = app.screen.query_one(StatusBar).text
        assert "late" in bar and "risk" in bar and "ESC" in bar and "15:00" in bar
        assert "filter: " in bar and "…" in bar and len(bar) <= 78
