"""Keys that arrive in one burst, as fast typing does over SSH, act in the order typed.

`burst()` posts every key to the app at once, with no pause for the screens to
catch up: that is how the terminal driver hands over one read of the input. A
Pilot `press()` waits between keys and would hide every bug tested here.
"""

from __future__ import annotations

from textual import events
from textual.pilot import Pilot

from tests.support.fake_service import FakeService
from tests.ui.conftest import confirm_if_asked, settle
from triage.ui.app import TriageApp
from triage.ui.screens.dialogs.escalate import EscalateScreen
from triage.ui.screens.queue import QueueScreen
from triage.ui.screens.reply import ReplyScreen

SIZE = (100, 30)


def burst(app: TriageApp, *keys: str) -> None:
    """Post keys as one read of the terminal: "ctrl+s" and "enter" by name, text by char."""
    for key in keys:
        if len(key) == 1:
            name = {" ": "space"}.get(key, key)
            app.post_message(events.Key(name, key))
        else:
            app.post_message(events.Key(key, "\r" if key == "enter" else None))


def text(s: str) -> list[str]:
    return list(s)


async def open_reply(app: TriageApp, pilot: Pilot[None]) -> ReplyScreen:
    await settle(pilot)
    await pilot.press("r")
    await confirm_if_asked(pilot)
    await settle(pilot)
    assert isinstance(app.screen, ReplyScreen)
    return app.screen


async def test_text_and_ctrl_s_in_one_burst_send_the_whole_text() -> None:
    service = FakeService()
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await open_reply(app, pilot)
        burst(app, *text("Done, invoice fixed"), "ctrl+s")
        await settle(pilot)
        [draft] = service.drafts()
        assert draft.body == "Done, invoice fixed" and service.sent == [draft.id]


async def test_a_pause_then_more_text_and_ctrl_s_sends_all_of_it() -> None:
    service = FakeService()
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await open_reply(app, pilot)
        burst(app, *text("First half."))
        await settle(pilot)
        await pilot.pause(0.7)  # long enough for the draft to be saved
        burst(app, *text(" Second half."), "ctrl+s")
        await settle(pilot)
        [draft] = service.drafts()
        assert draft.body == "First half. Second half." and service.sent == [draft.id]


async def test_keys_typed_after_the_send_do_not_act_on_the_queue() -> None:
    service = FakeService()
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await open_reply(app, pilot)
        burst(app, *text("Thanks!"), "ctrl+s", *text("r and e"))
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)  # no reply opened, no escalate dialog
        assert len(service.sent) == 1 and service.escalated == []


async def test_e_3_enter_in_one_burst_escalates_with_reason_three() -> None:
    service = FakeService()
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = app.screen.query_one("QueueTable").highlighted  # type: ignore[attr-defined]
        burst(app, "e", "3", "enter")
        await settle(pilot)
        assert service.escalated == [(first, "client unhappy")]
        assert isinstance(app.screen, QueueScreen)


async def test_e_enter_in_one_burst_claims_nothing() -> None:
    service = FakeService()
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, "e", "enter")
        await settle(pilot)
        assert service.escalated == [] and isinstance(app.screen, EscalateScreen)


async def test_a_typed_reason_and_enter_in_one_burst() -> None:
    service = FakeService()
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = app.screen.query_one("QueueTable").highlighted  # type: ignore[attr-defined]
        burst(app, "e", *text("called 3 times"), "enter")
        await settle(pilot)
        assert service.escalated == [(first, "called 3 times")]
