"""The workflow keys as a user types them: done, snooze, the views, find, bring back, undo.

Keys go in one burst (`burst`), as they arrive over SSH; the FakeService applies
the domain's own transitions, so the rows move as they would on the real service.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from textual.pilot import Pilot

from tests.support.fake_service import FakeService
from tests.ui.conftest import NotingApp, settle
from tests.ui.test_bursts import burst, text
from triage.domain.model import Status
from triage.ui.app import TriageApp
from triage.ui.screens.dialogs.snooze import SnoozeScreen
from triage.ui.screens.queue import QueueScreen
from triage.ui.screens.thread import ThreadScreen
from triage.ui.widgets.queue_table import QueueTable
from triage.ui.widgets.status_bar import StatusBar

SIZE = (120, 36)


def ids(app: TriageApp) -> list[str]:
    return [c.thread_id for c in app.screen.query_one(QueueTable).rows]


def line_of(app: TriageApp, thread_id: str) -> str:
    table = app.screen.query_one(QueueTable)
    return table.render_line(ids(app).index(thread_id) + 1).text


async def on_row(app: TriageApp, pilot: Pilot[None], thread_id: str) -> None:
    await settle(pilot)
    assert app.screen.query_one(QueueTable).move_to(thread_id)


async def test_d_then_a_digit_and_enter_in_one_burst_marks_it_done_with_that_reason() -> None:
    service = FakeService()
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await on_row(app, pilot, "t05")
        burst(app, "d", "2", "enter")
        await settle(pilot)
        assert service.workflow == [("done", "t05", "out of office")]
        assert "t05" not in ids(app)
        assert any(n.startswith("Done: out of office") and "u undoes it" in n for n in app.notes)
        burst(app, "3")  # the done view
        await settle(pilot)
        assert ids(app) == ["t05"] and line_of(app, "t05").startswith("done")
        assert "done view" in app.screen.query_one(StatusBar).text
        burst(app, "b")  # reopen from the done view
        await settle(pilot)
        assert service.workflow[-1] == ("reopen", "t05", "")
        burst(app, "1")
        await settle(pilot)
        assert "t05" in ids(app)


async def test_done_with_nothing_chosen_does_nothing_and_a_typed_reason_wins() -> None:
    service = FakeService()
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await on_row(app, pilot, "t06")
        burst(app, "d", "enter")
        await settle(pilot)
        assert service.workflow == [] and any("No reason yet" in n for n in app.notes)
        burst(app, *text("client called back"), "enter")
        await settle(pilot)
        assert service.workflow == [("done", "t06", "client called back")]


async def test_u_undoes_the_last_action_within_a_minute_and_not_after() -> None:
    service = FakeService()
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await on_row(app, pilot, "t05")
        burst(app, "d", "1", "enter")
        await settle(pilot)
        burst(app, "u")
        await settle(pilot)
        assert [w[0] for w in service.workflow] == ["done", "reopen"]
        assert "Undone: the done mark" in app.notes and "t05" in ids(app)
        await on_row(app, pilot, "t06")
        burst(app, "d", "1", "enter")
        await settle(pilot)
        service.clock.advance(timedelta(seconds=61))
        burst(app, "u")
        await settle(pilot)
        assert [w[0] for w in service.workflow] == ["done", "reopen", "done"]
        assert any(n.startswith("Nothing to undo") for n in app.notes)


async def test_a_snooze_shows_both_times_and_comes_back_when_it_becomes_at_risk() -> None:
    service = FakeService()
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await on_row(app, pilot, "t06")  # 180 minutes left
        burst(app, "z", *text("6h"))
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, SnoozeScreen)
        preview = dialog.preview()
        assert "yours" in preview and "Québec time" in preview
        assert "comes back earlier" in preview and "when it becomes at risk" in preview
        burst(app, "enter")
        await settle(pilot)
        conv = service.conversation("t06")
        assert conv is not None and conv.status is Status.SNOOZED and conv.deadline is not None
        assert conv.wake_at == conv.deadline - timedelta(minutes=15)
        assert "t06" not in ids(app)
        assert "1 snoozed" in app.screen.query_one(StatusBar).text
        burst(app, "2")
        await settle(pilot)
        assert ids(app) == ["t06"] and line_of(app, "t06").startswith("zz")
        burst(app, "1")
        await settle(pilot)
        service.clock.advance(conv.wake_at - service.now() - timedelta(seconds=1))
        app.tick()
        await settle(pilot)
        assert "t06" not in ids(app)  # a second before the at-risk window: still asleep
        service.clock.advance(timedelta(seconds=1))
        app.tick()
        await settle(pilot)
        assert "t06" in ids(app) and "0:15" in line_of(app, "t06")  # back, 15 minutes left
        service.clock.advance(timedelta(seconds=1))
        app.tick()
        await settle(pilot)
        assert "▲ RISK" in line_of(app, "t06")


async def test_snoozing_a_conversation_at_risk_says_why_and_records_nothing() -> None:
    service = FakeService()
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await on_row(app, pilot, "t03")  # 8 minutes left: at risk
        burst(app, "z", "3")
        await settle(pilot)
        assert isinstance(app.screen, SnoozeScreen)
        assert "at risk already" in app.screen.preview()
        burst(app, "enter")
        await settle(pilot)
        assert service.workflow == [] and any("at risk already" in n for n in app.notes)


async def test_find_lists_done_conversations_and_matches_message_text() -> None:
    service = FakeService()
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await on_row(app, pilot, "t05")
        burst(app, "d", "1", "enter")
        await settle(pilot)
        subject = service.conversation("t05").subject  # type: ignore[union-attr]
        burst(app, "f", *text(subject.split()[0]))
        await settle(pilot)
        assert "t05" in ids(app) and "find" in app.screen.query_one(StatusBar).text
        body_word = service._messages["t08"][0].body.split()[-1]
        burst(app, *(["backspace"] * 40), *text(body_word))
        await settle(pilot)
        assert "t08" in ids(app)
        burst(app, "escape")  # out of the search: the queue again
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen) and app.screen.view_name == "waiting"


async def test_the_thread_says_done_and_b_reopens_it_there() -> None:
    service = FakeService()
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await on_row(app, pilot, "t05")
        burst(app, "enter")
        await settle(pilot)
        assert isinstance(app.screen, ThreadScreen)
        burst(app, "d", "4", "enter")
        await settle(pilot)
        status = str(app.screen.query_one("#status").render())
        assert "DONE" in status and "handled by phone" in status and "Alice" in status
        burst(app, "b")
        await settle(pilot)
        assert service.workflow[-1][0] == "reopen"
        assert not app.screen.query_one("#status").display


async def test_x_takes_an_escalation_back_with_a_reason() -> None:
    service = FakeService()
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await on_row(app, pilot, "t10")  # escalated by bob
        burst(app, "x", "1", "enter")
        await settle(pilot)
        assert service.workflow == [("deescalate", "t10", "escalated by mistake")]
        assert not service.conversation("t10").escalated  # type: ignore[union-attr]
        await on_row(app, pilot, "t05")
        burst(app, "x")
        await settle(pilot)
        assert any("Not escalated by hand" in n for n in app.notes)


async def test_the_queue_can_start_on_mine_and_m_shows_everyone() -> None:
    service = FakeService()
    service.config = dataclasses.replace(service.config, default_filter="mine")
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        owners = {service.conversation(t).owner for t in ids(app)}  # type: ignore[union-attr]
        assert owners == {"alice"} and "owner=alice" in app.screen.query_one(StatusBar).text
        burst(app, "m")
        await settle(pilot)
        assert len(ids(app)) == len(service.queue_view())


async def test_the_answered_view_says_how_fast_and_by_whom() -> None:
    service = FakeService()
    for tid, seconds, on_time, who in (("t05", 720.0, True, "bob"), ("t06", 7500.0, False, "")):
        conv = service.conversation(tid)
        assert conv is not None
        service._convs[tid] = dataclasses.replace(
            conv, waiting=False, status=Status.ANSWERED, replied_at=service.now(),
            replied_by=who, reply_seconds=seconds, reply_on_time=on_time)  # fmt: skip
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, "4")
        await settle(pilot)
        assert sorted(ids(app)) == ["t05", "t06"]
        fast, slow = line_of(app, "t05"), line_of(app, "t06")
        assert fast.startswith("answd") and "✓ 0:12" in fast and "by Bob" in fast
        assert "✖ 2:05" in slow and "by " not in slow


async def test_yours_is_the_managers_own_time_zone_when_the_config_has_one() -> None:
    service = FakeService()
    alice = dataclasses.replace(service.config.managers["alice"], timezone="America/Vancouver")
    managers = {**service.config.managers, "alice": alice}
    service.config = dataclasses.replace(service.config, managers=managers)
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await on_row(app, pilot, "t09")  # Ontario
        burst(app, "z", *text("2h"))
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, SnoozeScreen)
        # the frozen clock is 15:00 UTC: in 2 hours, 13:00 in Toronto, 10:00 in Vancouver
        assert "13:00 Ontario time (Tue 10:00 yours)" in dialog.preview()
