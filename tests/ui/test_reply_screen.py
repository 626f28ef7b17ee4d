"""Pilot tests of the reply screen: a typed reply is saved, sent once, never lost."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.text import Text
from textual.app import App
from textual.screen import Screen
from textual.widgets import Static

from tests.support.fake_service import FakeService
from tests.ui.conftest import wait_until
from triage.domain.conversation import reply_subject
from triage.service.api import Draft
from triage.ui.messages import ReplySent
from triage.ui.screens.dialogs.confirm import ConfirmDiscard
from triage.ui.screens.reply import ReplyScreen


class Harness(App[None]):
    """Pushes one screen and records what it returns and posts."""

    def __init__(self, make: Callable[[], Screen[object]]) -> None:
        super().__init__()
        self.make = make
        self.results: list[object] = []
        self.sent: list[Draft] = []

    def on_mount(self) -> None:
        self.open()

    def open(self) -> None:
        self.push_screen(self.make(), self.results.append)

    def on_reply_sent(self, message: ReplySent) -> None:
        self.sent.append(message.draft)


def reply_app(svc: FakeService, thread_id: str = "t03") -> Harness:
    return Harness(lambda: ReplyScreen(svc, thread_id, cursor_blink=False))


async def settle(app: App[None], pilot: object) -> None:
    await pilot.pause()  # type: ignore[attr-defined]
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]


def notes(app: App[None]) -> list[str]:
    return [n.message for n in app._notifications]


def reply(app: App[None]) -> ReplyScreen:
    assert isinstance(app.screen, ReplyScreen)
    return app.screen


def plain(widget: Static) -> str:
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


def test_reply_subject_does_not_stack() -> None:
    assert reply_subject("Invoice") == "Re: Invoice"
    assert reply_subject("RE: Invoice") == "RE: Invoice"


async def test_shows_recipient_subject_and_quote() -> None:
    svc = FakeService()
    app = reply_app(svc)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = reply(app)
        assert plain(screen.query_one("#reply-to", Static)) == "To: Cobalt Labs <contact@cobalt.io>"
        subject = plain(screen.query_one("#reply-subject", Static))
        assert subject == "Subject: Re: Invoice 2291 question"
        quote = plain(screen.query_one("#quote-text", Static))
        assert quote.startswith("Cobalt Labs <contact@cobalt.io> wrote:\n> Hello,")
        assert "> Could you get back to me today?" in quote


async def test_typing_is_saved_after_the_debounce_and_on_esc() -> None:
    svc = FakeService()
    app = reply_app(svc)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)
        await pilot.press(*"On it")
        await pilot.pause()
        screen = reply(app)
        assert svc.drafts() == []  # debounced: not on every key
        assert screen._timer is not None
        assert screen.flush_draft()  # what the timer runs
        [draft] = svc.drafts()
        assert (draft.thread_id, draft.body) == ("t03", "On it")
        await pilot.press(*" today")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ReplyScreen)
        assert [d.body for d in svc.drafts()] == ["On it today"]  # same draft, updated
        assert app.results == [None]
        assert "Draft kept" in notes(app)


async def test_debounce_timer_saves_by_itself() -> None:
    svc = FakeService()
    app = reply_app(svc)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press(*"Hi")
        await wait_until(pilot, svc.drafts)  # the real timer's own save, however late it runs
        assert [d.body for d in svc.drafts()] == ["Hi"]


async def test_reopening_restores_the_draft() -> None:
    svc = FakeService()
    app = reply_app(svc)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press(*"Half a reply")
        await pilot.press("escape")
        await pilot.pause()
        app.open()
        await settle(app, pilot)
        screen = reply(app)
        assert screen.text == "Half a reply"
        assert screen.draft_id == svc.drafts()[0].id
        await pilot.press(*" and more")
        await pilot.press("escape")
        await pilot.pause()
        assert [d.body for d in svc.drafts()] == ["Half a reply and more"]


async def test_leaving_any_other_way_still_saves() -> None:
    svc = FakeService()
    app = reply_app(svc)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press(*"typed then popped")
        await app.pop_screen()
        await pilot.pause()
        assert [d.body for d in svc.drafts()] == ["typed then popped"]


async def test_ctrl_s_sends_and_closes() -> None:
    svc = FakeService()
    app = reply_app(svc)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)
        await pilot.press(*"Done, invoice fixed")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert not isinstance(app.screen, ReplyScreen)
        [draft] = svc.drafts()
        assert draft.body == "Done, invoice fixed"
        assert svc.sent == [draft.id]
        assert app.results == [draft] and app.sent == [draft]
        assert "Reply queued: the provider is unreachable; it is sent when it is back" in notes(app)


async def test_failed_send_keeps_the_screen_text_and_draft() -> None:
    svc = FakeService()
    app = reply_app(svc)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)
        await pilot.press(*"Important answer")
        svc.fail_next(ConnectionError("connection refused"), only="send_reply")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        screen = reply(app)
        assert screen.text == "Important answer"
        assert not screen.query_one("#reply-body").read_only  # type: ignore[attr-defined]
        assert [d.body for d in svc.drafts()] == ["Important answer"]
        assert svc.sent == [] and app.results == []
        told = [n for n in notes(app) if n.startswith("Not sent: connection refused")]
        assert told and "nothing goes out until you send it again" in told[0]
        await pilot.press("ctrl+s")  # retry works
        await settle(app, pilot)
        assert len(svc.sent) == 1


async def test_empty_reply_is_refused() -> None:
    svc = FakeService()
    app = reply_app(svc)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)
        await pilot.press("space", "enter", "ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ReplyScreen)
        assert svc.sent == []
        assert "Nothing to send: the reply is empty" in notes(app)


async def test_discard_asks_first() -> None:
    svc = FakeService()
    app = reply_app(svc)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press(*"scrap this", "ctrl+d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDiscard)
        await pilot.press("n")
        await pilot.pause()
        assert reply(app).text == "scrap this"
        await pilot.press("ctrl+d", "y")
        await pilot.pause()
        assert not isinstance(app.screen, ReplyScreen)
        assert svc.drafts() == []


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An $EDITOR that records what it was given and writes a new text."""
    script = tmp_path / "fake-editor"
    script.write_text(
        "#!/bin/sh\n"
        f'cp "$1" "{tmp_path}/seen.txt"\n'
        f'stat -c %a "$1" > "{tmp_path}/mode.txt"\n'
        "printf 'Written in the editor\\n' > \"$1\"\n"
    )
    script.chmod(0o700)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(script))
    return tmp_path


async def test_editor_round_trip(editor: Path) -> None:
    svc = FakeService()
    app = reply_app(svc)
    async with app.run_test(size=(80, 24)) as pilot:
        app.suspend = contextlib.nullcontext  # type: ignore[method-assign,assignment]
        await settle(app, pilot)
        await pilot.press(*"draft text", "ctrl+e")
        await settle(app, pilot)
        assert (editor / "seen.txt").read_text() == "draft text"
        assert (editor / "mode.txt").read_text().strip() == "600"
        assert reply(app).text == "Written in the editor"
        assert [d.body for d in svc.drafts()] == ["Written in the editor"]


async def test_editor_failure_keeps_the_text(editor: Path) -> None:
    (editor / "fake-editor").write_text("#!/bin/sh\nprintf 'junk' > \"$1\"\nexit 1\n")
    svc = FakeService()
    app = reply_app(svc)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        app.suspend = contextlib.nullcontext  # type: ignore[method-assign,assignment]
        await settle(app, pilot)
        await pilot.press(*"keep me", "ctrl+e")
        await settle(app, pilot)
        assert reply(app).text == "keep me"
        assert [d.body for d in svc.drafts()] == ["keep me"]  # saved before the editor ran
        assert "The editor exited with status 1; text unchanged" in notes(app)


async def test_editor_unsupported_shows_a_notice(editor: Path) -> None:
    svc = FakeService()
    app = reply_app(svc)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)  # headless: the real suspend is not supported
        await pilot.press(*"x", "ctrl+e")
        await settle(app, pilot)
        assert reply(app).text == "x"
        assert not (editor / "seen.txt").exists()
        assert any(n.startswith("Cannot open an external editor here") for n in notes(app))


async def test_hostile_headers_and_quote_are_inert() -> None:
    svc = FakeService.hostile()
    app = reply_app(svc, "t01")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = reply(app)
        for widget_id in ("#reply-to", "#reply-subject", "#quote-text"):
            text = plain(screen.query_one(widget_id, Static))
            assert "[@click=app.quit]" in text
            assert not any((ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F for c in text)
            assert "\u202e" not in text
        assert app.is_running


class SlowSend(FakeService):
    """A send that waits until the test lets it finish."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def send_reply(self, draft_id: str, hold: float = 0) -> Draft:
        await self.gate.wait()
        return await super().send_reply(draft_id, hold)


async def test_cannot_leave_or_edit_while_sending() -> None:
    svc = SlowSend()
    app = reply_app(svc)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle_loads(app, pilot)
        await pilot.press(*"Sent once", "ctrl+s")
        await pilot.pause()
        await pilot.press("escape", "ctrl+d", "x")
        await pilot.pause()
        screen = reply(app)  # still here: leaving would cancel the send mid-way
        assert screen.text == "Sent once"  # read-only while sending
        assert "Sending… wait for the outcome" in notes(app)
        svc.gate.set()
        await settle(app, pilot)
        assert not isinstance(app.screen, ReplyScreen)
        assert len(svc.sent) == 1


async def settle_loads(app: App[None], pilot: object) -> None:
    """Wait for the thread load only (a gated send would never complete)."""
    await pilot.pause()  # type: ignore[attr-defined]
    await app.workers.wait_for_complete([w for w in app.workers if w.group == "reply-load"])
    await pilot.pause()  # type: ignore[attr-defined]
