"""Edges, as the user types them: the undo delay at its edges
(u a moment late, u on the escalation pane, the terminal closing), keys of a burst
after a refused dialog, times typed in the snooze box, and a hostile display name
filled in by a template."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from tests.support.fake_service import FakeService
from tests.ui.conftest import NotingApp, settle
from tests.ui.test_bursts import burst, text
from tests.ui.test_safe_sending import SIZE, delayed_service, open_reply, signed_service
from tests.ui.test_workflow_keys import on_row
from triage.ui.app import TriageApp
from triage.ui.screens.dialogs.snooze import SnoozeScreen
from triage.ui.screens.escalations import EscalationsScreen
from triage.ui.screens.queue import QueueScreen
from triage.ui.widgets.status_bar import StatusBar


async def test_u_a_moment_after_the_delay_says_too_late_and_the_reply_goes_once() -> None:
    service = delayed_service(10)
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await open_reply(app, pilot, "t03")
        burst(app, *text("Sent at the last moment"), "ctrl+s")
        await settle(pilot)
        service.clock.advance(timedelta(seconds=10, milliseconds=300))  # before the tick
        burst(app, "u")
        await settle(pilot)
        assert len(service.sent) == 1 and service.taken_back == []
        assert "Too late: the reply is on its way" in app.notes
        assert service.workflow == []  # u did not undo anything else instead
        app.tick()
        await app.action_quit()
        await pilot.pause()
    assert len(service.sent) == 1


async def test_u_on_the_escalation_pane_takes_back_the_held_reply() -> None:
    service = delayed_service(10)
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await open_reply(app, pilot, "t03")
        burst(app, *text("Oops"), "ctrl+s")
        await settle(pilot)
        app.push_screen(EscalationsScreen(service))
        await settle(pilot)
        assert "(u undoes)" in app.screen.query_one(StatusBar).text
        burst(app, "u")
        await settle(pilot)
        assert service.taken_back and service.sent == []


async def test_the_terminal_closing_during_the_delay_sends_the_reply() -> None:
    """SIGHUP runs the app's quit (triage.cli.console): the held reply goes first."""
    service = delayed_service(10)
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await open_reply(app, pilot, "t03")
        burst(app, *text("Typed, sent, then the link dropped"), "ctrl+s")
        await settle(pilot)
        await app.action_quit()  # what hang_up schedules on the app's loop
        await pilot.pause()
    assert len(service.sent) == 1 and service.closed


async def test_a_refused_take_back_keeps_the_burst_off_the_queue() -> None:
    service = FakeService()
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await on_row(app, pilot, "t05")  # not escalated
        burst(app, "x", "1", "enter")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen) and app.screen.view_name == "waiting"


TYPED = [("10m", "10m"), ("20m", "20m"), ("2h", "2h"), ("17:30", "17:30"), ("3", "tomorrow 9:00")]


@pytest.mark.parametrize(("typed", "means"), TYPED)
async def test_a_typed_time_means_what_it_says_and_a_lone_digit_is_a_preset(
    typed: str, means: str
) -> None:
    service = FakeService()
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await on_row(app, pilot, "t09")
        burst(app, "z", *text(typed))
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, SnoozeScreen)
        from triage.domain.when import parse_when

        assert dialog.until() == parse_when(means, service.now(), dialog.zone)


async def test_a_template_never_puts_control_bytes_from_email_into_the_editor() -> None:
    hostile = "\x1b]52;c;cm0gLXJmIH4=\x07Dana\u202e"  # OSC 52 clipboard write + bidi override
    service = signed_service(hi="Hi {client_first_name},")
    service._messages["t03"] = tuple(dataclasses.replace(m, sender_name=hostile)
                                     for m in service._messages["t03"])  # fmt: skip
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reply(app, pilot, "t03")
        burst(app, "ctrl+t", "enter")
        await settle(pilot)
        assert "\x1b" not in screen.text and "\u202e" not in screen.text
        assert screen.text.startswith("Hi ]52;c;cm0gLXJmIH4=Dana,")
