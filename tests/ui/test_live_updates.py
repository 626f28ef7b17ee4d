"""The console follows the clock and the sync loop: the escalation pane gains a breach on
the tick alone, and the same sync failure is told once, not on every poll."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from tests.support.fake_service import FakeService
from tests.ui.conftest import NotingApp, settle, wait_until
from triage.ui.app import TriageApp
from triage.ui.messages import SyncFailed
from triage.ui.screens.escalations import EscalationsScreen
from triage.ui.widgets.queue_table import QueueTable

SIZE = (100, 30)


def pane_ids(app: TriageApp) -> list[str]:
    return [c.thread_id for c in app.screen.query_one(QueueTable).rows]


async def test_a_conversation_that_breaches_joins_the_pane_on_the_tick() -> None:
    service = FakeService(user="ceo")
    app = NotingApp(service, start_view="escalations")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, EscalationsScreen)
        before = pane_ids(app)
        waiting = [c for c in service.queue_view().conversations() if c.deadline]
        later = max(c.deadline for c in waiting if c.deadline)  # type: ignore[type-var]
        grace = timedelta(minutes=service.config.agency.escalate_after_minutes)
        service.clock.set(later + grace + timedelta(minutes=1))
        app.tick()  # no sync happened: the clock alone moved
        await settle(pilot)
        after = pane_ids(app)
        assert len(after) > len(before) and set(before) <= set(after)


async def test_the_same_sync_failure_is_told_once() -> None:
    service = FakeService()
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for _ in range(3):
            app.post_message(SyncFailed("cannot reach mail.example: refused"))
            await settle(pilot)
        told = [n for n in app.notes if n.startswith("Sync failed")]
        assert len(told) == 1
        app.post_message(SyncFailed("authentication failed: check provider.token_file"))
        await settle(pilot)
        assert len([n for n in app.notes if n.startswith("Sync failed")]) == 2


async def test_a_sync_the_user_asked_for_says_what_it_found() -> None:
    service = FakeService()
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await wait_until(pilot, lambda: any(n.startswith("Synced") for n in app.notes))
        assert "Synced: up to date" in app.notes
        first = service.conversations()[0]
        service.add(dataclasses.replace(first, thread_id="T-new", subject="Just in"))
        await pilot.press("s")
        await wait_until(pilot, lambda: "Synced: 1 new" in app.notes)
        service.fail_next(OSError("cannot reach mail.example: refused"))
        await pilot.press("s")
        await wait_until(pilot, lambda: any(n.startswith("Sync failed") for n in app.notes))
        service.fail_next(OSError("cannot reach mail.example: refused"))
        await pilot.press("s")  # the same failure again: told again, since it was asked for
        await wait_until(pilot, lambda: len([n for n in app.notes if "Sync failed" in n]) == 2)
