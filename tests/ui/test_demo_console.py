"""Pilot tests of the console against the real service over the demo mailbox.

Unlike the other UI tests (an in-memory FakeService), these drive `TriageApp`
with the `TriageService` that `triage --demo` builds: the real sync engine,
cache, actions and JMAP client, talking to the in-process demo JMAP server.
The clock is frozen on a Tuesday when the US and Canadian offices are open,
and the demo has no live arrivals, so the queue is fixed. Every key path
checks both the screen and the provider's state (keywords, notes, sent mail),
because shared truth lives in the provider.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList

from tests.ui.conftest import confirm_if_asked
from triage.cli import close_service, demo_service, queue_rows
from triage.clock import FrozenClock
from triage.demo.mailbox import DemoMailbox
from triage.demo.store import StoredEmail
from triage.engine.outbox import ActionError
from triage.providers.jmap.marks import KW_ACK, KW_ESCALATED, KW_NOTE, KW_OWNER_PREFIX
from triage.service.core import TriageService
from triage.ui.app import TriageApp
from triage.ui.screens.dialogs.collision import CollisionScreen
from triage.ui.screens.dialogs.escalate import EscalateScreen
from triage.ui.screens.dialogs.reassign import ReassignScreen
from triage.ui.screens.escalations import EscalationsScreen
from triage.ui.screens.queue import QueueScreen
from triage.ui.screens.reply import ReplyScreen
from triage.ui.screens.thread import ThreadScreen
from triage.ui.widgets.filter_bar import FilterBar
from triage.ui.widgets.queue_table import QueueTable
from triage.ui.widgets.status_bar import StatusBar

# Tuesday 11:00 in New York and Toronto, 10:00 in Chicago, 08:00 in Los Angeles.
T = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
SIZE = (120, 40)  # every demo row visible at once
SMALL = (80, 24)
MAX_PAUSES = 500  # bounded: a sync that never lands fails the test


# ---- demo_conftest: the real service, a second console, waiting on the app ----


@pytest.fixture
async def service() -> AsyncIterator[TriageService]:
    svc = demo_service(FrozenClock(T), live=False)
    try:
        yield svc
    finally:
        await close_service(svc)


def demo_of(service: TriageService) -> DemoMailbox:
    demo = service.demo  # type: ignore[attr-defined]
    assert isinstance(demo, DemoMailbox)
    return demo


def thread_of(service: TriageService, scene: str) -> str:
    return demo_of(service).threads[scene]


def second_service(service: TriageService, cache_dir: Path) -> TriageService:
    """Another console's service: the same demo server, its own cache (as demo_service)."""
    demo = demo_of(service)
    cfg = dataclasses.replace(demo.config, cache_path=cache_dir / "cache.json")
    return TriageService(cfg, service.clock, provider=demo.provider())


def emails(service: TriageService, thread_id: str) -> list[StoredEmail]:
    return demo_of(service).server.thread_emails(thread_id)


def client_mail(service: TriageService, thread_id: str) -> list[StoredEmail]:
    return [e for e in emails(service, thread_id) if KW_NOTE not in e.keywords]


def notes(service: TriageService, thread_id: str) -> list[dict[str, Any]]:
    return [json.loads(e.text) for e in emails(service, thread_id) if KW_NOTE in e.keywords]


def has_keyword(service: TriageService, thread_id: str, keyword: str) -> bool:
    """True when every message of the thread (notes aside) carries `keyword`."""
    mail = client_mail(service, thread_id)
    return bool(mail) and all(e.keywords.get(keyword) for e in mail)


def expected_ids(service: TriageService) -> list[str]:
    """What `triage queue --json --now T` prints, in its order."""
    return [r["thread_id"] for r in queue_rows(service, T)]


def table(app: TriageApp) -> QueueTable:
    return app.screen.query_one(QueueTable)


def ids(app: TriageApp) -> list[str]:
    return [c.thread_id for c in table(app).rows]


def row_text(app: TriageApp, thread_id: str) -> str:
    """The rendered line of a row (the row must be on screen)."""
    t = table(app)
    y = ids(app).index(thread_id) - round(t.scroll_offset.y) + 1
    assert 1 <= y < t.size.height, f"{thread_id} is not on screen"
    return t.render_line(y).text


def status(app: TriageApp) -> str:
    return app.screen.query_one(StatusBar).text


async def settle(pilot: Pilot[None]) -> None:
    """Let messages, screen changes and every worker but the endless sync loop finish."""
    app = pilot.app
    for _ in range(3):
        await pilot.pause()
        busy = [w for w in app.workers if w.group != "sync" and not w.is_finished]
        if busy:  # never an empty list: that would mean every worker, the sync loop too
            await app.workers.wait_for_complete(busy)
    await pilot.pause()


async def synced(pilot: Pilot[None], rounds: int = 1) -> None:
    """Wait (a bounded number of turns) until `rounds` sync rounds reached the screen."""
    app = pilot.app
    assert isinstance(app, TriageApp)
    for _ in range(MAX_PAUSES):
        if app.sync_rounds >= rounds and table(app).rows:
            break
        await pilot.pause()
    else:
        raise AssertionError(f"sync round {rounds} never reached the screen")
    await settle(pilot)


async def go_to(pilot: Pilot[None], thread_id: str) -> None:
    """Move the cursor to `thread_id` with the keys a user would press."""
    app = pilot.app
    assert isinstance(app, TriageApp)
    index, last = ids(app).index(thread_id), len(ids(app)) - 1
    if index <= last - index:
        await pilot.press("home", *["down"] * index)
    else:  # nearer the end: fewer key presses (each waits for the app to idle)
        await pilot.press("end", *["up"] * (last - index))
    assert table(app).highlighted == thread_id


def screen_text(app: TriageApp) -> str:
    """Every character the compositor would write for a full repaint."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    assert update is not None
    return "".join(seg.text for chop in update.strips for strip in chop for seg in strip)  # type: ignore[attr-defined]


# ---- queue and thread ----


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
async def test_queue_order_matches_queue_json(
    service: TriageService, size: tuple[int, int]
) -> None:
    app = TriageApp(service)
    async with app.run_test(size=size) as pilot:
        await synced(pilot)
        assert isinstance(app.screen, QueueScreen)
        expected = expected_ids(service)
        assert len(expected) > 15  # the seeded day, not an empty cache
        assert ids(app) == expected
        assert thread_of(service, "answered-east") not in ids(app)  # answered: not listed
        first = queue_rows(service, T)[0]
        top = row_text(app, expected[0])
        assert top.startswith("✖ LATE") and first["client"][:10] in top


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
async def test_enter_opens_the_highlighted_thread(
    service: TriageService, size: tuple[int, int]
) -> None:
    thread_id = thread_of(service, "reopened-central")
    app = TriageApp(service)
    async with app.run_test(size=size) as pilot:
        await synced(pilot)
        await go_to(pilot, thread_id)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ThreadScreen) and screen.thread_id == thread_id
        assert screen.view is not None and len(screen.view.messages) == 3
        text = screen_text(app)
        assert "Spring catalogue proofs" in text
        assert "Two questions on" in text  # the newest message is scrolled into view
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen) and table(app).highlighted == thread_id


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
async def test_hostile_thread_is_inert(service: TriageService, size: tuple[int, int]) -> None:
    thread_id = thread_of(service, "hostile")
    app = TriageApp(service)
    async with app.run_test(size=size) as pilot:
        await synced(pilot)
        assert "\x1b" not in screen_text(app)
        await go_to(pilot, thread_id)
        assert "Invoice ␛]52" in row_text(app, thread_id)  # visible, and cut to the column
        assert "\x1b" not in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ThreadScreen)
        text = screen_text(app)
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
        assert "␛" in text  # the escapes are visible placeholders
        assert "[@click=app.quit]" in text and "PAY NOW" in text
        # Clicking the subject must not run the action its text spells.
        await pilot.click("#subject")
        await pilot.click("#subject", offset=(20, 0))
        await settle(pilot)
        assert app.return_code is None  # app.quit did not run
        assert isinstance(app.screen, ThreadScreen) and app.screen.thread_id == thread_id


# ---- actions: reply, escalate, reassign, acknowledge ----


async def test_reply_sends_once_and_the_row_leaves(service: TriageService) -> None:
    """With the default undo delay: nothing goes for 10 seconds, then it goes once."""
    thread_id = thread_of(service, "at-risk-east")
    sent = demo_of(service).server.sent
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await synced(pilot)
        await go_to(pilot, thread_id)
        await pilot.press("r")
        await confirm_if_asked(pilot)
        await settle(pilot)
        assert isinstance(app.screen, ReplyScreen)
        await pilot.press(*"Yes, the quote is final.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert sent == [] and service.config.undo_send_seconds == 10
        clock = service.clock
        assert isinstance(clock, FrozenClock)
        clock.advance(timedelta(seconds=10))
        app.tick()
        await settle(pilot)
        assert len(sent) == 1
        assert sent[0]["subject"] == "Re: Press release approval"
        # What was typed, then the demo's signature for Alice, once.
        assert sent[0]["body"].strip() == (
            "Yes, the quote is final.\n\n-- \nAlice Martin\nAccount manager, Agency Example"
        )
        assert sent[0]["to"] == ["priya@bluecrest-capital.com"]
        assert thread_id not in ids(app)
        # The next sync sees the reply in the thread: still gone, still sent once.
        app.sync_now()
        await synced(pilot, app.sync_rounds + 1)
        assert thread_id not in ids(app) and thread_id not in expected_ids(service)
        assert len(sent) == 1


async def escalate_by_keys(pilot: Pilot[None], thread_id: str, pick: str) -> None:
    await go_to(pilot, thread_id)
    await pilot.press("e")
    await settle(pilot)
    assert isinstance(pilot.app.screen, EscalateScreen)
    await pilot.press(pick, "enter")
    await settle(pilot)


async def test_escalate_writes_the_provider_and_the_pane(service: TriageService) -> None:
    thread_id = thread_of(service, "ok-central")
    assert not has_keyword(service, thread_id, KW_ESCALATED)
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await synced(pilot)
        await escalate_by_keys(pilot, thread_id, "3")  # "client unhappy"
        assert isinstance(app.screen, QueueScreen)
        assert has_keyword(service, thread_id, KW_ESCALATED)
        assert [n for n in notes(service, thread_id) if n["action"] == "escalate"] == [
            {"action": "escalate", "by": "alice", "at": "2026-11-24T16:00:00Z",
             "reason": "client unhappy"}
        ]  # fmt: skip
        assert "ESC" in row_text(app, thread_id)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, EscalationsScreen)
        assert thread_id in ids(app)
        line = row_text(app, thread_id)
        assert "client unhappy" in line and "Alice" in line


async def test_reassign_writes_the_owner_and_greys_the_unqualified(
    service: TriageService,
) -> None:
    thread_id = thread_of(service, "ok-west")  # Golden Gate Cider, US West, owned by Bob
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await synced(pilot)
        assert "Bob" in row_text(app, thread_id)
        await go_to(pilot, thread_id)
        await pilot.press("a")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ReassignScreen)
        managers = dialog.query_one("#managers", OptionList)
        options = {managers.get_option_at_index(i).id: i for i in range(managers.option_count)}
        assert set(options) == {"alice", "bob", "claire"}  # every manager is shown
        claire = managers.get_option_at_index(options["claire"])
        assert claire.disabled and "not qualified for US West Coast" in str(claire.prompt)
        assert managers.get_option_at_index(options["bob"]).disabled  # the current owner
        seen = set()
        for key in ("home", "down", "down", "down", "end", "home"):
            await pilot.press(key)
            seen.add(dialog.manager_id())
        assert "claire" not in seen and "bob" not in seen and dialog.manager_id() == "alice"
        await pilot.press("2", "enter")  # "workload"
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert has_keyword(service, thread_id, KW_OWNER_PREFIX + "alice")
        assert not any(KW_OWNER_PREFIX + "bob" in e.keywords for e in emails(service, thread_id))
        reassigned = [n for n in notes(service, thread_id) if n["action"] == "reassign"]
        assert [(n["to"], n["reason"]) for n in reassigned] == [("alice", "workload")]
        assert "Alice" in row_text(app, thread_id) and "Bob" not in row_text(app, thread_id)


async def test_a_manager_is_told_acknowledging_is_the_ceos(service: TriageService) -> None:
    thread_id = thread_of(service, "escalated")
    app = TriageApp(service)  # the demo's user: alice
    async with app.run_test(size=SIZE) as pilot:
        await synced(pilot)
        await pilot.press("v")
        await settle(pilot)
        await go_to(pilot, thread_id)
        await pilot.press("y")
        await settle(pilot)
        told = [n.message for n in app._notifications]
        assert any("Only CEO can acknowledge" in t and "you are Alice" in t for t in told)
        assert not has_keyword(service, thread_id, KW_ACK) and thread_id in ids(app)
    with pytest.raises(ActionError, match="acknowledging escalations is for ceo"):
        await service.acknowledge(thread_id)  # the engine refuses it too (the CLI, a script)


async def test_the_ceo_acknowledges_lists_the_acknowledged_and_takes_one_back() -> None:
    service = demo_service(FrozenClock(T), user="ceo", live=False)
    try:
        await acknowledge_list_and_undo(service)
    finally:
        await close_service(service)


async def acknowledge_list_and_undo(service: TriageService) -> None:
    thread_id = thread_of(service, "escalated")  # escalated by hand in the seeded day
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await synced(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, EscalationsScreen)
        before = ids(app)
        assert thread_id in before
        await go_to(pilot, thread_id)
        await pilot.press("y")
        await settle(pilot)
        assert has_keyword(service, thread_id, KW_ACK)
        assert [n["by"] for n in notes(service, thread_id) if n["action"] == "ack"] == ["ceo"]
        assert ids(app) == [t for t in before if t != thread_id]
        await pilot.press("t")  # the acknowledged ones, still waiting for a reply
        await settle(pilot)
        assert ids(app) == [thread_id] and "acknowledged" in status(app)
        assert "client unhappy" in row_text(app, thread_id)  # why it was escalated
        await pilot.press("u")
        await settle(pilot)
        assert not has_keyword(service, thread_id, KW_ACK) and ids(app) == []
        assert [n["action"] for n in notes(service, thread_id)][-2:] == ["ack", "unack"]
        await pilot.press("t")
        await settle(pilot)
        assert ids(app) == before  # an open escalation again, where it was
        # Still a waiting conversation: acknowledging is not answering.
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen) and thread_id in ids(app)


# ---- filters ----


async def test_filters_narrow_and_show_in_the_status_bar(service: TriageService) -> None:
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await synced(pilot)
        rows = queue_rows(service, T)
        everything = [r["thread_id"] for r in rows]
        assert "filter: all" in status(app)
        await pilot.press("slash")
        assert app.screen.query_one(FilterBar).is_open
        await pilot.press(*"summit")
        await settle(pilot)
        summit = [r["thread_id"] for r in rows if r["client"] == "Summit Ridge Lodges"]
        assert len(summit) == 2 and ids(app) == summit
        assert "filter: text='summit'" in status(app)
        await pilot.press("enter")  # keep the filter, back to the table
        await pilot.press("escape")
        await settle(pilot)
        assert ids(app) == everything and "filter: all" in status(app)

        await pilot.press("m")
        await settle(pilot)
        mine = [r["thread_id"] for r in rows if r["owner"] == "alice"]
        assert 0 < len(mine) < len(everything) and ids(app) == mine
        assert "owner=alice" in status(app)
        await pilot.press("m")
        await settle(pilot)
        assert ids(app) == everything

        regions = list(service.config.regions)
        for region in regions[:3]:
            await pilot.press("g")
            await settle(pilot)
            assert ids(app) == [r["thread_id"] for r in rows if r["region"] == region]
            assert f"region={region}" in status(app)
        await pilot.press("escape")
        await settle(pilot)
        assert ids(app) == everything and "filter: all" in status(app)


# ---- other consoles and start-up ----


async def test_a_second_console_sees_the_escalation(service: TriageService, tmp_path: Path) -> None:
    thread_id = thread_of(service, "ok-mountain")
    other = second_service(service, tmp_path)
    try:
        await other.sync()  # the other console's cache knows the thread, not escalated
        assert thread_id not in [c.thread_id for c in other.escalations(T)]
        app = TriageApp(service)
        async with app.run_test(size=SIZE) as pilot:
            await synced(pilot)
            await escalate_by_keys(pilot, thread_id, "1")  # "client wrote to the CEO"
        ceo_app = TriageApp(other, start_view="escalations")
        async with ceo_app.run_test(size=SIZE) as pilot:
            await synced(pilot)
            assert isinstance(ceo_app.screen, EscalationsScreen)
            assert thread_id in ids(ceo_app)
            row = table(ceo_app).rows[ids(ceo_app).index(thread_id)]
            assert row.escalation_reason == "client wrote to the CEO"
            assert row.escalated_by == "alice"
            line = row_text(ceo_app, thread_id)  # the reason is cut to its column
            assert "client wrote to" in line and "Alice" in line
    finally:
        await other.close()


async def test_start_view_escalations(service: TriageService) -> None:
    app = TriageApp(service, start_view="escalations")
    async with app.run_test(size=SIZE) as pilot:
        await synced(pilot)
        assert isinstance(app.screen, EscalationsScreen)
        escalated = [r["thread_id"] for r in queue_rows(service, T) if r["escalated"]]
        assert escalated and ids(app) == escalated
        assert "CEO" in row_text(app, thread_of(service, "ceo"))  # wrote to the CEO directly
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen) and ids(app) == expected_ids(service)


class TicksWhileClosing(TriageApp):
    """Fires the one-second tick in the middle of shutdown, as the timer may do."""

    async def _close_all(self) -> None:
        for screen in self.screen_stack:
            await screen.remove_children()
        self.tick()
        await super()._close_all()


async def test_a_tick_during_shutdown_is_ignored(service: TriageService) -> None:
    app = TicksWhileClosing(service)
    async with app.run_test(size=SMALL) as pilot:
        await synced(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ThreadScreen)
    # run_test re-raises what the app raised: reaching here means no NoMatches
    # from the thread screen's countdown while its widgets were being removed.
    assert not app.is_running


async def test_a_colleagues_reply_meanwhile_stops_the_send(
    service: TriageService, tmp_path: Path
) -> None:
    """Two consoles on one mailbox: Bob's console shows Alice writing; Bob sends first;
    Alice's ctrl+s shows his reply and sends nothing until she says so."""
    thread_id = thread_of(service, "at-risk-east")  # Alice's
    sent = demo_of(service).server.sent
    bob = second_service(service, tmp_path)
    bob = TriageService(dataclasses.replace(bob.config, user="bob"), service.clock,
                        provider=demo_of(service).provider())  # fmt: skip
    try:
        app = TriageApp(service)
        async with app.run_test(size=SIZE) as pilot:
            await synced(pilot)
            await go_to(pilot, thread_id)
            await pilot.press("r")
            await settle(pilot)
            assert isinstance(app.screen, ReplyScreen)
            await bob.sync()
            conv = bob.conversation(thread_id)
            assert conv is not None and conv.replying == "alice"  # shared, with an expiry
            draft = bob.save_draft(thread_id, "Bob here: yes, it is final.")
            assert (await bob.send_reply(draft.id)).status == "sent"
            await pilot.press(*"Yes, final.")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, CollisionScreen) and len(sent) == 1
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, ReplyScreen) and len(sent) == 1
    finally:
        await bob.close()
