"""Pilot tests of the thread screen: order, both clocks, hostile text, history, keys."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.app import App
from textual.screen import Screen
from textual.widgets import Static

from tests.support.fake_service import FROZEN_AT, FakeService
from tests.ui.conftest import confirm_if_asked
from triage.domain.model import Conversation
from triage.service.api import ThreadView
from triage.ui.app import TriageApp
from triage.ui.messages import ActionDone, ActionFailed
from triage.ui.screens.dialogs.escalate import EscalateScreen
from triage.ui.screens.dialogs.reassign import ReassignScreen
from triage.ui.screens.reply import ReplyScreen
from triage.ui.screens.thread import ThreadScreen, why_text

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
# Anything that could act on a terminal: C0 (but newline), DEL, C1, bidi and zero-width.
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


class Harness(TriageApp):
    """The console's app, but on one screen and with no sync loop; records what the
    actions report and what the screen returns."""

    def __init__(self, make: Callable[[], Screen[object]], service: FakeService) -> None:
        super().__init__(service)
        self.make = make
        self.results: list[object] = []
        self.done: list[str] = []

    def start_console(self) -> None:
        self.push_screen(self.make(), self.results.append)

    def on_action_done(self, message: ActionDone) -> None:
        self.done.append(message.text)

    def on_action_failed(self, message: ActionFailed) -> None:
        self.done.append(message.text)


def conv_of(svc: FakeService, thread_id: str) -> Conversation:
    return next(c for c in svc.conversations() if c.thread_id == thread_id)


def plain(widget: Static) -> str:
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


def texts(app: App[None], selector: str) -> list[str]:
    return [plain(w) for w in app.screen.query(selector).results(Static)]


async def settle(app: App[None], pilot: object) -> None:
    await pilot.pause()  # type: ignore[attr-defined]
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]


def thread_app(svc: FakeService, thread_id: str = "t03") -> Harness:
    return Harness(lambda: ThreadScreen(svc, thread_id, user_zone=PARIS), svc)


async def test_messages_oldest_first_with_both_clocks() -> None:
    svc = FakeService()
    app = thread_app(svc)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        messages = texts(app, ".message")
        assert len(messages) == 2
        assert messages[0].startswith("Alice <alice@agency.example> (agency)")
        assert messages[1].startswith("Cobalt Labs <contact@cobalt.io> (client)")
        arrival = conv_of(svc, "t03").first_arrival
        ny, paris = arrival.astimezone(NEW_YORK), arrival.astimezone(PARIS)
        assert ny.tzname() == "EDT" and paris.tzname() == "CET"  # 2025-03-11: US DST only
        expected = f"Tue 11 Mar {ny:%H:%M} EDT client · Tue {paris:%H:%M} CET you"
        assert expected in messages[1]
        assert "Could you get back to me today?" in messages[1]
        assert f"Mon 10 Mar {ny:%H:%M} EDT client" in messages[0]


async def test_header_names_deadline_rule_owner_and_ticks() -> None:
    svc = FakeService()
    app = thread_app(svc)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ThreadScreen)
        assert plain(screen.query_one("#subject", Static)) == "Invoice 2291 question"
        who = plain(screen.query_one("#who", Static))
        assert "contact@cobalt.io" in who and "US East" in who and "Alice Martin" in who
        deadline = plain(screen.query_one("#deadline", Static))
        due = conv_of(svc, "t03").deadline
        assert due == FROZEN_AT + timedelta(minutes=8)
        ny, paris = due.astimezone(NEW_YORK), due.astimezone(PARIS)
        assert f"Tue {ny:%H:%M} EDT client · Tue {paris:%H:%M} CET you" in deadline
        assert "▲ AT RISK  0:08:00 left" in deadline
        assert "reply within 1h" in plain(screen.query_one("#why", Static))
        screen.tick(FROZEN_AT + timedelta(minutes=10))
        deadline = plain(screen.query_one("#deadline", Static))
        assert "✖ BREACHED  0:02:00 overdue" in deadline
        assert screen.query_one("#deadline").has_class("-breached")


def test_why_explains_a_clock_started_at_the_next_opening() -> None:
    svc = FakeService()
    conv = svc.conversations()[2]
    region = svc.config.regions["us-east"]
    arrival = FROZEN_AT.replace(hour=0, minute=14)  # Mon 20:14 in New York
    start = FROZEN_AT.replace(hour=13)  # Tue 09:00 EDT
    conv = dataclasses.replace(conv, clock_start=start)
    why = why_text(conv, region, arrival)
    assert why.endswith("clock started Tue 09:00 EDT, next opening after a Mon 20:14 arrival")
    assert "next opening" not in why_text(conv, region, start)


async def test_hostile_text_is_visible_and_inert() -> None:
    svc = FakeService.hostile()
    tid = "t01"
    msgs = svc._messages[tid]
    svc._messages[tid] = (
        msgs[0],
        dataclasses.replace(msgs[1], warnings=("charset broken \x1b[31m",)),
    )
    app = thread_app(svc, tid)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        every = texts(app, "Static")
        assert any("[@click=app.quit]" in t for t in every)  # shown as typed, not run
        assert any("␛]52;c;aGk=␇" in t for t in every)  # OSC 52 as control pictures
        assert any("⚠ charset broken ␛[31m" in t for t in every)
        assert any("⟨U+202E⟩" in t for t in every)
        for t in every:
            assert UNSAFE.search(t) is None, repr(t)
        screenshot = app.export_screenshot()
        assert "\x1b" not in screenshot and "\x9b" not in screenshot
        # ctrl+r reads the thread again: a message that arrived since shows, inert too.
        later = dataclasses.replace(msgs[1], id="m-later", body="and now \x1b[2J this")
        svc._messages[tid] = (*svc._messages[tid], later)
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert svc.thread_reads == [tid, tid]
        messages = texts(app, ".message")
        assert len(messages) == 3 and "and now ␛[2J this" in messages[-1]
        assert isinstance(app.screen, ThreadScreen)


async def test_escalation_history_and_escalate_key() -> None:
    svc = FakeService()
    app = thread_app(svc, "t01")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        history = plain(app.screen.query_one("#history", Static))
        assert history.startswith("ESCALATED: breached by triage")
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, EscalateScreen)
        await pilot.press("3", "enter")
        await settle(app, pilot)
        assert svc.escalated == [("t01", "client unhappy")]
        # t01 was escalated before: both reasons are kept, and the toast says so.
        assert app.done == [
            "Escalated again: client unhappy (before: breached; both are in the history)"
        ]
        history = plain(app.screen.query_one("#history", Static))
        assert "History" in history and "escalated by alice: client unhappy" in history


async def test_reassign_key_calls_the_service() -> None:
    svc = FakeService()
    app = thread_app(svc, "t03")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ReassignScreen)
        await pilot.press("2", "enter")  # Claire is the first one offered for US East
        await settle(app, pilot)
        assert svc.reassigned == [("t03", "claire", "workload", False)]
        assert app.done == ["Reassigned to Claire Roy · u undoes it"]
        assert "Claire Roy" in plain(app.screen.query_one("#who", Static))


async def test_failed_action_is_reported_not_raised() -> None:
    svc = FakeService()
    app = thread_app(svc, "t03")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        svc.fail_next(ConnectionError("offline"))
        await pilot.press("e", "2", "enter")
        await settle(app, pilot)
        assert app.done == ["Could not escalate: offline"]
        assert svc.escalated == [] and isinstance(app.screen, ThreadScreen)


async def test_reply_key_opens_the_compose_screen_and_back_pops() -> None:
    svc = FakeService()
    app = thread_app(svc)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("r")
        await confirm_if_asked(pilot)
        assert isinstance(app.screen, ReplyScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ThreadScreen)
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, ThreadScreen)
        assert app.results == [None]


async def test_load_failure_shows_the_error() -> None:
    svc = FakeService()
    svc.fail_next(TimeoutError("provider timed out \x1b[2J"))
    app = thread_app(svc)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        notice = plain(app.screen.query_one("#thread-notice", Static))
        assert notice.startswith("could not load: provider timed out ␛[2J")
        assert texts(app, "#loading") == ["Loading messages…"]
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert len(texts(app, ".message")) == 2
        assert not app.screen.query_one("#thread-notice").has_class("-shown")


class OfflineService(FakeService):
    async def thread(self, thread_id: str) -> ThreadView:
        view = await super().thread(thread_id)
        return dataclasses.replace(view, offline=True)


async def test_offline_copy_is_labelled() -> None:
    svc = OfflineService()
    svc.sync_status = dataclasses.replace(svc.sync_status, online=False, error="connection refused")
    app = thread_app(svc)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        notice = plain(app.screen.query_one("#thread-notice", Static))
        assert notice == "could not load: connection refused; showing cached copy"
        assert len(texts(app, ".message")) == 2


async def test_system_zone_is_the_default_user_zone() -> None:
    svc = FakeService()
    app = Harness(lambda: ThreadScreen(svc, "t03"), svc)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        local = conv_of(svc, "t03").first_arrival.astimezone()
        expected = f"{local:%a %H:%M} {local.tzname()} you"
        assert expected in texts(app, ".message")[1]
