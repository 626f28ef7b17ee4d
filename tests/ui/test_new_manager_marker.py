"""A client who asked for another account manager: "AM?" in the queue's markers column,
a line in the thread view that suggests the reassignment, and the reassign dialog with
the reason "client asked for someone else" already chosen."""

from __future__ import annotations

import dataclasses

from textual.widgets import Static

from tests.support.fake_service import FakeService
from tests.ui.conftest import settle
from tests.ui.test_bursts import burst
from tests.ui.test_queue_cells import line_of
from tests.ui.test_reassign_screen import Harness, run
from tests.ui.test_thread_screen import plain
from triage.ui.app import TriageApp
from triage.ui.screens.dialogs.reassign import ReassignChoice
from triage.ui.screens.thread import ThreadScreen
from triage.ui.widgets.queue_table import QueueTable


def asking(service: FakeService, tid: str = "t03") -> None:
    conv = service.conversation(tid)
    assert conv is not None
    service.add(dataclasses.replace(conv, asked_new_manager=True))


async def test_the_queue_marks_it_and_the_thread_view_suggests_a_reassignment() -> None:
    service = FakeService()
    asking(service)
    app = TriageApp(service)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert "AM?" in line_of(app, "t03") and "AM?" not in line_of(app, "t04")
        app.screen.query_one(QueueTable).move_to("t03")
        burst(app, "enter")
        await settle(pilot)
        assert isinstance(app.screen, ThreadScreen)
        history = plain(app.screen.query_one("#history", Static))
        assert "The client asked for another account manager: a reassigns it" in history


async def test_without_the_signal_there_is_no_marker_column_for_it() -> None:
    app = TriageApp(FakeService())
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert all("AM?" not in line_of(app, c.thread_id)
                   for c in app.screen.query_one(QueueTable).rows)  # fmt: skip


async def test_the_reassign_dialog_starts_on_client_asked() -> None:
    service = FakeService()
    asking(service)
    # Claire, and enter: no reason typed or picked, the preset one goes.
    app = Harness(service, "t03")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
    assert app.results == [ReassignChoice("claire", "client asked for someone else", False)]
    # Without the signal, enter asks for a reason first.
    assert await run(["down", "enter"]) == []
