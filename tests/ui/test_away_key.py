"""The away key: A, then when (and "to" a backup) or "back", in one burst as over SSH,
records the absence for every console; the queue's rows of an away owner say AW in
the markers column, at 80x24 too, and no longer once they are back."""

from __future__ import annotations

from datetime import timedelta

from tests.support.fake_service import FakeService
from tests.ui.conftest import settle
from tests.ui.test_bursts import burst, text
from tests.ui.test_queue_cells import line_of
from triage.domain.model import NoteAction
from triage.ui.app import TriageApp
from triage.ui.screens.dialogs.away import AwayScreen
from triage.ui.screens.queue import QueueScreen


async def test_a_when_to_backup_and_enter_in_one_burst_marks_the_user_away() -> None:
    service = FakeService()
    app = TriageApp(service)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert " AW " not in line_of(app, "t03")
        burst(app, "A", *text("3d to bob"), "enter")
        await settle(pilot)
        [note] = service.away_notes
        assert (note.action, note.previous, note.to, note.by) == (NoteAction.AWAY, "alice",
                                                                  "bob", "alice")  # fmt: skip
        assert note.until == service.now() + timedelta(days=3)
        assert isinstance(app.screen, QueueScreen)
        assert " AW " in line_of(app, "t03") and " AW " in line_of(app, "t01")  # Alice's
        assert " AW " not in line_of(app, "t02")  # Bob's


async def test_back_in_one_burst_ends_it_and_the_marker_goes() -> None:
    service = FakeService()
    await service.set_away("alice", service.now() + timedelta(hours=4))
    app = TriageApp(service)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert " AW " in line_of(app, "t03")
        burst(app, "A", *text("back"), "enter")
        await settle(pilot)
        assert [n.action for n in service.away_notes] == [NoteAction.AWAY, NoteAction.BACK]
        assert " AW " not in line_of(app, "t03")


async def test_text_that_is_no_time_keeps_the_dialog_open_and_records_nothing() -> None:
    service = FakeService()
    app = TriageApp(service)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        burst(app, "A", *text("whenever to zoe"), "enter")
        await settle(pilot)
        assert service.away_notes == [] and isinstance(app.screen, AwayScreen)
        burst(app, "escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen) and service.away_notes == []


async def test_the_away_marker_fits_the_80x24_queue() -> None:
    service = FakeService()
    await service.set_away("alice", service.now() + timedelta(hours=4), "claire")
    app = TriageApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        line = line_of(app, "t03")
        assert " AW " in line and "Cobalt" in line and "Alice" in line and len(line) <= 80
        assert " AW " not in line_of(app, "t02")
