"""Pilot tests of the escalate dialog: quick picks, free text, cancel."""

from __future__ import annotations

from rich.text import Text
from textual.app import App
from textual.widgets import Static

from tests.support.fake_service import FakeService
from triage.ui.screens.dialogs.escalate import EscalateScreen


class Harness(App[None]):
    def __init__(self, svc: FakeService, thread_id: str = "t03") -> None:
        super().__init__()
        self.svc, self.thread_id = svc, thread_id
        self.results: list[str | None] = []

    def on_mount(self) -> None:
        self.push_screen(EscalateScreen(self.svc, self.thread_id), self.results.append)


def plain(widget: Static) -> str:
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


async def run(keys: list[str], svc: FakeService | None = None) -> list[str | None]:
    app = Harness(svc or FakeService())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()
    return app.results


async def test_quick_pick_one() -> None:
    assert await run(["1", "enter"]) == ["client wrote to the CEO"]


async def test_quick_picks_two_and_three() -> None:
    assert await run(["3", "2", "enter"]) == ["breached"]
    assert await run(["down", "down", "enter"]) == ["breached"]  # nothing chosen until moved
    assert await run(["up", "enter"]) == ["client unhappy"]


async def test_no_reason_is_chosen_for_the_user() -> None:
    """A quick e + enter must not make a claim nobody made."""
    assert await run(["enter"]) == []
    app = Harness(FakeService())
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, EscalateScreen) and app.results == []
        assert any("No reason yet" in n.message for n in app._notifications)
        assert plain(app.screen.query_one("#chosen", Static)) == "Reason: none yet"


async def test_free_text_wins() -> None:
    keys = ["2", "tab", *"threatens to leave  ", "enter"]
    assert await run(keys) == ["threatens to leave"]


async def test_digits_type_into_the_free_text() -> None:
    assert await run(["tab", *"called 3 times", "enter"]) == ["called 3 times"]


async def test_escape_cancels() -> None:
    assert await run(["1", "escape"]) == [None]


async def test_names_the_conversation_and_shows_the_choice() -> None:
    app = Harness(FakeService.hostile(), "t01")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        about = plain(app.screen.query_one("#about", Static))
        assert about.startswith("Acme Corp ␛]52")  # the client, sanitized and cut
        assert "[URGENT] Launch page is down" in about
        assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in about)
        await pilot.press("2")
        assert plain(app.screen.query_one("#chosen", Static)) == "Reason: breached"
        await pilot.press("tab", *"[bold]x")
        assert plain(app.screen.query_one("#chosen", Static)) == "Reason: [bold]x"
        await pilot.press("enter")
        await pilot.pause()
    assert app.results == ["[bold]x"]
