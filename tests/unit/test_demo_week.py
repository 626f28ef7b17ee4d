"""The demo's week: something for the report to show whatever day the demo runs on,
none of it in the queue, and the same figures for the same instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from triage.cli.demo import DemoService
from triage.clock import FrozenClock

# A Wednesday after US Thanksgiving, a Monday morning, a Saturday, a Tuesday in July.
INSTANTS = [
    datetime(2026, 12, 2, 2, 0, tzinfo=UTC),
    datetime(2026, 3, 9, 13, 0, tzinfo=UTC),
    datetime(2026, 6, 13, 18, 0, tzinfo=UTC),
    datetime(2026, 7, 7, 16, 30, tzinfo=UTC),
]


async def figures(now: datetime) -> tuple[list[dict[str, object]], list[str]]:
    service = DemoService(FrozenClock(now), live=False)
    try:
        await service.sync()
        rows = await service.report(now - timedelta(days=7), now, "manager")
        queue = [c.thread_id for c in service.queue_view()]
        week = set(service.demo.week.values())
        assert not week & set(queue), "a conversation of the week is in the queue"
        return rows, queue
    finally:
        await service.close()


@pytest.mark.parametrize("now", INSTANTS, ids=lambda t: t.strftime("%a-%Y-%m-%d"))
async def test_the_week_gives_every_figure_something_to_count(now: datetime) -> None:
    rows, _ = await figures(now)
    by = {r["group"]: r for r in rows}
    assert {"alice", "bob", "claire"} <= set(by)
    assert all(by[m]["replies"] for m in ("alice", "bob", "claire"))
    total = {k: sum(r[k] for r in rows if isinstance(r[k], int)) for k in rows[0] if k != "group"}
    assert total["within_target"] > 0 and total["within_target"] < total["replies"]
    assert total["done"] >= 1 and total["snoozed"] >= 1 and total["reassigned"] >= 1
    assert total["asked_new_manager"] == 1 and by["alice"]["asked_new_manager"] == 1


async def test_the_same_instant_gives_the_same_figures() -> None:
    assert await figures(INSTANTS[0]) == await figures(INSTANTS[0])
