"""Writing a reply safely: templates and signatures, a colleague's conversation, someone
else writing, and what arrived while the reply was being written.

Keys go in one burst where it matters (text + ctrl+s), as they arrive over SSH.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from tests.support.fake_service import FakeService
from tests.ui.conftest import settle
from tests.ui.test_bursts import burst, text
from triage.domain.model import Message
from triage.domain.templates import Template
from triage.ui.app import TriageApp
from triage.ui.screens.dialogs.collision import CollisionScreen
from triage.ui.screens.dialogs.confirm import Confirm
from triage.ui.screens.dialogs.templates import TemplatePicker
from triage.ui.screens.queue import QueueScreen
from triage.ui.screens.reply import ReplyScreen
from triage.ui.widgets.queue_table import QueueTable
from triage.ui.widgets.status_bar import StatusBar

SIZE = (100, 30)
SIGNATURE = "Alice Martin\nAccount manager"


def signed_service(**templates: str) -> FakeService:
    service = FakeService()
    alice = dataclasses.replace(service.config.managers["alice"], signature=SIGNATURE)
    service.config = dataclasses.replace(
        service.config,
        managers={**service.config.managers, "alice": alice},
        templates={n: Template(n, body, n.title()) for n, body in templates.items()},
    )
    return service


async def open_reply(app: TriageApp, pilot: object, thread_id: str) -> ReplyScreen:
    await settle(pilot)  # type: ignore[arg-type]
    assert app.screen.query_one(QueueTable).move_to(thread_id)
    burst(app, "r")
    await settle(pilot)  # type: ignore[arg-type]
    assert isinstance(app.screen, ReplyScreen), app.screen
    return app.screen


async def test_a_new_reply_is_signed_once_and_the_text_goes_above_the_signature() -> None:
    service = signed_service()
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reply(app, pilot, "t03")  # Alice's own: no question asked
        assert screen.text == f"\n\n-- \n{SIGNATURE}"
        burst(app, *text("Fixed it."), "ctrl+s")
        await settle(pilot)
        [draft] = service.drafts()
        assert draft.body == f"Fixed it.\n\n-- \n{SIGNATURE}" and service.sent == [draft.id]


async def test_a_kept_draft_comes_back_with_one_signature() -> None:
    service = signed_service()
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await open_reply(app, pilot, "t03")
        burst(app, *text("Half written"), "escape")
        await settle(pilot)
        screen = await open_reply(app, pilot, "t03")
        assert screen.text == f"Half written\n\n-- \n{SIGNATURE}"


async def test_a_template_fills_what_it_can_and_what_is_left_blocks_sending() -> None:
    service = signed_service(
        thanks="Hi {client_first_name}, we reply by {deadline}. {manager_first_name}",
        ask="Dear {client_first_name}, thank you",
    )
    # t03's client has no display name: the first name cannot be known.
    service._messages["t03"] = tuple(dataclasses.replace(m, sender_name="")
                                     for m in service._messages["t03"])  # fmt: skip
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reply(app, pilot, "t03")
        burst(app, "ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, TemplatePicker)
        burst(app, "enter")  # the first: thanks
        await settle(pilot)
        assert app.screen is screen
        assert screen.text.startswith("Hi {client_first_name}, we reply by Tue 11:08 EDT. Alice")
        assert "Fill in {client_first_name}" in str(screen.query_one("#reply-notice").render())
        burst(app, "ctrl+s")
        await settle(pilot)
        assert service.sent == [] and isinstance(app.screen, ReplyScreen)
        burst(app, "ctrl+a", "ctrl+k", *text("Hi Sam,"), "ctrl+s")  # the line replaced
        await settle(pilot)
        assert len(service.sent) == 1
        [draft] = [d for d in service._drafts.values() if d.id == service.sent[0]]
        assert draft.body.startswith("Hi Sam,\n") and draft.body.count("-- \n") == 1


async def test_a_reply_on_a_colleagues_conversation_asks_first() -> None:
    service = FakeService()
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.query_one(QueueTable).move_to("t05")  # Bob's
        burst(app, "r", "n")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        burst(app, "r")
        await settle(pilot)
        assert isinstance(app.screen, Confirm) and "Bob Tremblay's" in app.screen.question
        burst(app, "y")
        await settle(pilot)
        assert isinstance(app.screen, ReplyScreen)


async def test_someone_else_writing_is_said_before_a_second_reply_starts() -> None:
    service = FakeService()
    conv = service.conversation("t03")
    assert conv is not None
    service._convs["t03"] = dataclasses.replace(
        conv, replying="bob", replying_until=service.now() + timedelta(minutes=5)
    )
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.query_one(QueueTable).move_to("t03")
        burst(app, "r")
        await settle(pilot)
        assert isinstance(app.screen, Confirm)
        assert "Bob Tremblay is writing a reply" in app.screen.question
        burst(app, "n")
        await settle(pilot)
        service.clock.advance(timedelta(minutes=6))  # the mark expired (a crashed console)
        burst(app, "r")
        await settle(pilot)
        assert isinstance(app.screen, ReplyScreen)
        assert service.replying_calls == [("t03", True)]


async def test_what_arrived_while_writing_stops_the_send_until_the_user_says() -> None:
    service = FakeService()
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await open_reply(app, pilot, "t03")
        late = Message("t03-m3", "t03", "ops@cobalt.io", "Sam Ops", service.now(),
                       body="Never mind, it works now.")  # fmt: skip
        service._messages["t03"] = (*service._messages["t03"], late)
        burst(app, *text("Looking into it"), "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CollisionScreen) and service.sent == []
        assert "Never mind, it works now." in str(app.screen.query_one("Static").render()) or any(
            "Never mind" in str(s.render()) for s in app.screen.query("Static")
        )
        burst(app, "escape")  # back to editing: the text is kept, nothing sent
        await settle(pilot)
        reply = app.screen
        assert isinstance(reply, ReplyScreen) and reply.text == "Looking into it"
        assert not reply.query_one("#reply-body").read_only  # type: ignore[attr-defined]
        burst(app, "ctrl+s")  # nothing new since: it goes
        await settle(pilot)
        assert len(service.sent) == 1


async def test_send_anyway_sends_once() -> None:
    service = FakeService()
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await open_reply(app, pilot, "t03")
        late = Message("t03-m3", "t03", "alice@agency.example", "Alice", service.now(),
                       body="(a colleague's reply)")  # fmt: skip
        service._messages["t03"] = (*service._messages["t03"], late)
        burst(app, *text("Also this"), "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CollisionScreen)
        burst(app, "s")
        await settle(pilot)
        assert len(service.sent) == 1 and not isinstance(app.screen, ReplyScreen)


def delayed_service(seconds: int = 10) -> FakeService:
    service = FakeService()
    service.config = dataclasses.replace(service.config, undo_send_seconds=seconds)
    return service


async def test_u_takes_a_reply_back_during_its_undo_delay() -> None:
    service = delayed_service()
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await open_reply(app, pilot, "t03")
        burst(app, *text("Sent too soon"), "ctrl+s")
        await settle(pilot)
        assert service.sent == [] and isinstance(app.screen, QueueScreen)
        assert "reply goes in 10s (u undoes)" in app.screen.query_one(StatusBar).text
        service.clock.advance(timedelta(seconds=4))
        app.tick()
        await settle(pilot)
        assert "reply goes in 6s" in app.screen.query_one(StatusBar).text
        burst(app, "u")
        await settle(pilot)
        assert service.taken_back and service.sent == []
        assert isinstance(app.screen, ReplyScreen) and app.screen.text == "Sent too soon"
        service.clock.advance(timedelta(seconds=30))
        app.tick()
        await settle(pilot)
        assert service.sent == []  # taken back: the tick never sends it


async def test_a_held_reply_goes_once_when_its_delay_ends_and_u_is_then_too_late() -> None:
    service = delayed_service(5)
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await open_reply(app, pilot, "t03")
        burst(app, *text("On its way"), "ctrl+s")
        await settle(pilot)
        service.clock.advance(timedelta(seconds=5))
        app.tick()
        await settle(pilot)
        app.tick()
        await settle(pilot)
        assert len(service.sent) == 1
        burst(app, "u")
        await settle(pilot)
        assert service.taken_back == [] and isinstance(app.screen, QueueScreen)


async def test_quitting_during_the_delay_sends_the_reply_first() -> None:
    service = delayed_service(60)
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await open_reply(app, pilot, "t03")
        burst(app, *text("Before I go"), "ctrl+s")
        await settle(pilot)
        assert service.sent == []
        await app.action_quit()
        await pilot.pause()
    assert len(service.sent) == 1 and service.closed
