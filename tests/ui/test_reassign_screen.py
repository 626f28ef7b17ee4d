"""Pilot tests of the reassign dialog: who may take it, why, for the account or not."""

from __future__ import annotations

from rich.text import Text
from textual.app import App
from textual.widgets import OptionList, Static

from tests.support.fake_service import FakeService
from triage.ui.screens.dialogs.reassign import ReassignChoice, ReassignScreen

Answer = ReassignChoice | None


class Harness(App[None]):
    def __init__(self, svc: FakeService, thread_id: str = "t03") -> None:
        super().__init__()
        self.svc, self.thread_id = svc, thread_id
        self.results: list[Answer] = []

    def on_mount(self) -> None:
        self.push_screen(ReassignScreen(self.svc, self.thread_id), self.results.append)


def prompt(option_list: OptionList, index: int) -> str:
    visual = option_list.get_option_at_index(index).prompt
    return visual.plain if isinstance(visual, Text) else str(visual)


async def run(keys: list[str], thread_id: str = "t03") -> list[Answer]:
    app = Harness(FakeService(), thread_id)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()
    return app.results


async def test_every_manager_is_listed_unqualified_greyed_with_why() -> None:
    app = Harness(FakeService(), "t03")  # US East, owned by alice
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        managers = app.screen.query_one("#managers", OptionList)
        assert managers.option_count == 3
        rows = [prompt(managers, i) for i in range(3)]
        assert rows[0].startswith("★ Alice Martin  current owner")
        assert rows[1] == "✗ Bob Tremblay  — not qualified for US East"
        assert rows[2].startswith("  Claire Roy  open ")
        disabled = [managers.get_option_at_index(i).disabled for i in range(3)]
        assert disabled == [True, True, False]
        # Arrows never land on a disabled row.
        for key in ("up", "up", "down", "down", "home"):
            await pilot.press(key)
            assert managers.highlighted == 2


async def test_pick_reason_and_account_returns_the_choice() -> None:
    # Tab order: managers, then the reason in words; 1-3 and w from the managers list.
    keys = ["down", "1", "tab", *"wants a francophone", "tab", "w", "enter"]
    reason = "client asked for someone else: wants a francophone"
    assert await run(keys) == [ReassignChoice("claire", reason, True)]


async def test_words_typed_on_the_list_are_a_reason_not_shortcuts() -> None:
    """Typing "new hire" must not pick a quick reason (space) or the whole account (w)."""
    assert await run(["down", *"new hire", "enter"]) == [
        ReassignChoice("claire", "new hire", False)
    ]
    assert await run(["tab", *"new hire 3 weeks", "enter"]) == [
        ReassignChoice("claire", "new hire 3 weeks", False)
    ]


async def test_account_toggle_key() -> None:
    assert await run(["3", "w", "enter"]) == [ReassignChoice("claire", "expertise", True)]


async def test_reason_is_required() -> None:
    app = Harness(FakeService(), "t03")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReassignScreen)
        assert [n.message for n in app._notifications] == ["Give a reason (1-3 or type one)"]
        await pilot.press("2", "enter")
        await pilot.pause()
    assert app.results == [ReassignChoice("claire", "workload", False)]


async def test_the_choice_is_spelled_out() -> None:
    app = Harness(FakeService(), "t05")  # US West, owned by bob: alice and bob qualify
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        chosen = app.screen.query_one("#chosen", Static)
        await pilot.press("2", "w")
        text = chosen.content.plain  # type: ignore[union-attr]
        assert text == "→ Alice Martin · workload · whole account"


async def test_escape_cancels() -> None:
    assert await run(["down", "2", "escape"]) == [None]
