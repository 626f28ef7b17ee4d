"""Pilot tests for the queue screen: order, ticking, filters, keys, actions, palette, help."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from textual.binding import Binding
from textual.pilot import Pilot

from tests.support import oracle
from tests.support.fake_service import FakeService
from tests.ui.conftest import (
    EscalateStandIn,
    ReassignStandIn,
    ReplyStandIn,
    ThreadStandIn,
    confirm_if_asked,
    settle,
    wait_until,
)
from triage.ui.app import TriageApp
from triage.ui.commands import TriageCommands
from triage.ui.keys import ACTIONS
from triage.ui.screens.dialogs.reassign import ReassignChoice
from triage.ui.screens.escalations import EscalationsScreen
from triage.ui.screens.help import HelpScreen
from triage.ui.screens.queue import QueueScreen
from triage.ui.widgets.filter_bar import FilterBar
from triage.ui.widgets.queue_table import QueueTable
from triage.ui.widgets.status_bar import StatusBar

SIZE = (100, 30)


class RecordingApp(TriageApp):
    """Keeps every notification text so tests can read what the user was told."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notes: list[tuple[str, str]] = []

    def notify(self, message: str, **kwargs: Any) -> None:  # type: ignore[override]
        self.notes.append((message, kwargs.get("severity", "information")))
        super().notify(message, **kwargs)


def table(app: TriageApp) -> QueueTable:
    return app.screen.query_one(QueueTable)


def ids(app: TriageApp) -> list[str]:
    return [c.thread_id for c in table(app).rows]


def status(app: TriageApp) -> str:
    return app.screen.query_one(StatusBar).text


async def start(pilot: Pilot[None]) -> None:
    await settle(pilot)


async def test_order_is_the_queue_order(service: FakeService) -> None:
    app = RecordingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        assert isinstance(app.screen, QueueScreen)
        expected = [c.thread_id for c in oracle.waiting(service.conversations())]
        assert ids(app) == expected
        assert ids(app)[:3] == ["t12", "t02", "t01"]  # most overdue first
        assert "t11" not in ids(app)  # answered: not waiting
        first = table(app).render_line(1).text
        assert first.startswith("✖ LATE") and "-2:00" in first and "Kestrel Air" in first


async def test_tick_updates_countdowns_without_resorting(service: FakeService) -> None:
    app = RecordingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        t = table(app)
        rows_before = t.rows
        reads = 0
        original = service.conversations

        def counting() -> list[Any]:
            nonlocal reads
            reads += 1
            return original()

        service.conversations = counting  # type: ignore[method-assign]
        assert t.tick(service.now()) == 0  # same time: nothing to repaint
        service.clock.advance(timedelta(minutes=3))
        app.tick()
        await pilot.pause()
        assert t.rows is rows_before and reads == 0  # no re-sort, no re-read
        assert "-2:03" in t.render_line(1).text
        assert "5m00s" in t.render_line(4).text  # Cobalt: 8 minutes -> 5, seconds shown at risk
        assert "3 late" in status(app)


async def test_filter_as_you_type_and_keep_and_clear(service: FakeService) -> None:
    app = RecordingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        assert "filter: all" in status(app)
        await pilot.press("slash")
        bar = app.screen.query_one(FilterBar)
        assert bar.is_open and bar.has_focus
        await pilot.press(*"acme")
        await pilot.pause()
        assert ids(app) == ["t01"]
        assert "filter: text='acme'" in status(app)
        await pilot.press("enter")
        await pilot.pause()
        assert not bar.is_open and table(app).has_focus
        assert ids(app) == ["t01"] and "text='acme'" in status(app)
        await pilot.press("escape")
        await pilot.pause()
        assert len(ids(app)) == 11 and "filter: all" in status(app)


async def test_escape_in_the_filter_bar_clears_it(service: FakeService) -> None:
    app = RecordingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        await pilot.press("slash", *"zzz")
        await pilot.pause()
        assert ids(app) == []
        assert "Nothing matches" in table(app).render_line(1).text
        await pilot.press("escape")
        await pilot.pause()
        assert len(ids(app)) == 11 and "filter: all" in status(app)


async def test_mine_and_region_cycle(service: FakeService) -> None:
    app = RecordingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        await pilot.press("m")
        assert {c.owner for c in table(app).rows} == {"alice"}
        assert "owner=alice" in status(app)
        await pilot.press("m")
        assert len(ids(app)) == 11
        seen = []
        for _ in range(len(service.config.regions) + 1):
            await pilot.press("g")
            regions = {c.region for c in table(app).rows}
            seen.append(app.screen.filter.region)  # type: ignore[attr-defined]
            if app.screen.filter.region:  # type: ignore[attr-defined]
                assert regions == {app.screen.filter.region}  # type: ignore[attr-defined]
        assert seen == ["us-east", "us-west", "ca-on", "ca-qc", ""]
        await pilot.press("g", "m", "escape")
        assert "filter: all" in status(app) and len(ids(app)) == 11


@pytest.mark.usefixtures("stand_ins")
async def test_keys_open_the_right_screens(service: FakeService) -> None:
    app = RecordingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        await pilot.press("j")  # cursor to the second row
        for key, kind in (
            ("enter", ThreadStandIn),
            ("r", ReplyStandIn),
            ("e", EscalateStandIn),
            ("a", ReassignStandIn),
        ):
            await pilot.press(key)
            await confirm_if_asked(pilot)  # t02 is Bob's: a reply asks first
            assert isinstance(app.screen, kind), key
            assert app.screen.thread_id == "t02"
            app.pop_screen()
            await pilot.pause()
            assert isinstance(app.screen, QueueScreen)


@pytest.mark.usefixtures("stand_ins")
async def test_escalate_and_reassign_call_the_service(service: FakeService) -> None:
    app = RecordingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        await pilot.press("k", "j", "j", "j")  # Cobalt Labs, t03
        await pilot.press("e")
        await pilot.pause()
        app.screen.dismiss("client unhappy")
        await settle(pilot)
        assert service.escalated == [("t03", "client unhappy")]
        assert "ESC" in table(app).render_line(4).text
        await pilot.press("a")
        await pilot.pause()
        app.screen.dismiss(ReassignChoice("claire", "workload", True))
        await settle(pilot)
        assert service.reassigned == [("t03", "claire", "workload", True)]
        assert (
            "Reassigned to Claire Roy for the whole account · u undoes it",
            "information",
        ) in app.notes


@pytest.mark.usefixtures("stand_ins")
async def test_failed_action_is_reported_not_raised(service: FakeService) -> None:
    app = RecordingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        service.fail_next(RuntimeError("provider said no"))
        await pilot.press("e")
        await pilot.pause()
        app.screen.dismiss("breached")
        await settle(pilot)
        assert app.is_running and service.escalated == []
        assert ("Could not escalate: provider said no", "error") in app.notes


async def test_escalation_pane_lists_and_acknowledges() -> None:
    service = FakeService(user="ceo")
    app = RecordingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, EscalationsScreen)
        assert ids(app) == [
            c.thread_id
            for c in oracle.escalations(service.conversations(), service.now(), timedelta(0))
        ]
        assert ids(app) == ["t02", "t01", "t10"]  # t12 was acknowledged already
        line = table(app).render_line(1).text
        assert "Birch Media" in line and "client wrote to the CEO" in line and "CEO" in line
        await pilot.press("y")
        await settle(pilot)
        assert service.acknowledged == ["t02"]
        assert ids(app) == ["t01", "t10"]
        await pilot.press("t")  # the acknowledged ones: t12 from before, and t02
        await settle(pilot)
        acknowledged = oracle.acknowledged(service.conversations(), service.now(), timedelta(0))
        assert ids(app) == [c.thread_id for c in acknowledged] and set(ids(app)) == {"t02", "t12"}
        await pilot.press("t", "v")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)


async def test_ceo_starts_on_the_escalation_pane() -> None:
    service = FakeService(user="ceo")
    app = RecordingApp(service, start_view="escalations")
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        assert isinstance(app.screen, EscalationsScreen)
        assert "CEO" in status(app)
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)


async def test_help_lists_the_keys(service: FakeService) -> None:
    app = RecordingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        keys = {what: k for k, what, _ in app.screen.entries}
        for what in ("Reply", "Escalate", "Reassign", "Filter", "Mine", "Region", "Quit"):
            assert what in keys
        assert keys["Reply"] == "r" and keys["Filter"] == "/" and "j" in keys["Down"]
        # Every marker a row can carry is explained.
        markers = dict(app.screen.markers)
        for marker in ("✖ LATE", "▲ RISK", "ESC", "CEO", "SPOOF", "queued", "unsent"):
            assert marker in markers and marker in app.screen.text
        assert "guessed" in markers["17:02?"] and "Wed 17:00" in markers["LEFT"]
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)


@pytest.mark.usefixtures("stand_ins")
async def test_keymap_remaps_reply(service: FakeService) -> None:
    app = RecordingApp(service, keymap={"reply": "R"})
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        await pilot.press("R")
        await confirm_if_asked(pilot)
        assert isinstance(app.screen, ReplyStandIn)
        app.pop_screen()
        await pilot.press("question_mark")
        await pilot.pause()
        keys = {what: k for k, what, _ in app.screen.entries}  # type: ignore[attr-defined]
        assert keys["Reply"] == "R"


async def test_command_palette_offers_every_action(service: FakeService) -> None:
    app = RecordingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        provider = TriageCommands(app.screen)
        titles = {title: cmd for title, _, cmd in provider.commands()}
        on_queue = [b.id for b in QueueScreen.BINDINGS if isinstance(b, Binding)]
        wanted = {ACTIONS[i].command for i in on_queue if ACTIONS[i].palette and i != "quit"}
        assert wanted <= set(titles)
        assert {"Theme: triage-mono", "Quit"} <= set(titles)
        await titles["Only mine"]()  # type: ignore[misc]
        await pilot.pause()
        assert "owner=alice" in status(app)
        titles["Theme: triage-mono"]()
        assert app.theme == "triage-mono"
        await pilot.press("v")
        await pilot.pause()
        on_pane = {t for t, _, _ in TriageCommands(app.screen).commands()}
        assert "Acknowledge escalation" in on_pane and "Reply" not in on_pane
        assert sum(t == "Quit" for t in titles) == 1  # one entry per action
        assert not [t for t in titles if t.startswith("Theme:") and "triage" not in t]


async def test_start_up_tells_about_kept_drafts_and_reports(service: FakeService) -> None:
    service.save_draft("t03", "Hi, about the invoice")
    service.save_draft("t05", "Second round attached")
    service.report_lines.append("cache was corrupt [bold]x: moved aside")
    app = RecordingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        texts = [t for t, _ in app.notes]
        assert "2 unsent replies kept: press r on the conversation to continue" in texts
        assert "cache was corrupt [bold]x: moved aside" in texts


async def test_a_sync_brings_new_rows_and_a_failed_one_keeps_the_queue(
    service: FakeService,
) -> None:
    app = RecordingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        before = ids(app)
        newest = dataclasses.replace(service.conversations()[0], thread_id="t99",
                                     deadline=service.now() - timedelta(hours=3))  # fmt: skip
        service.add(newest)
        service.fail_next(ConnectionError("connection refused"))
        await pilot.press("s")
        await wait_until(pilot, lambda: any("Sync failed" in t for t, _ in app.notes))
        assert ids(app) == before  # nothing new was read: the queue is the cached one
        await pilot.press("s")
        await wait_until(pilot, lambda: "t99" in ids(app))
        assert ids(app) == ["t99", *before]  # the most overdue, first


async def test_no_color_forces_the_mono_theme(
    service: FakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = RecordingApp(service, theme="triage-light")
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        assert app.theme == "triage-mono"


def test_every_binding_id_is_a_valid_config_action_id() -> None:
    from triage.config.sections import KEY_ID as _KEY_ID
    from triage.ui.keys import remappable as key_action_ids

    ids = key_action_ids()
    assert {"reply", "escalate", "reassign", "mine", "region", "clear_filters"} <= ids
    assert {"cursor_down", "acknowledge", "escalations", "help"} <= ids
    assert all(_KEY_ID.fullmatch(i) for i in ids), sorted(ids)
