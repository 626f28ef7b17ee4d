"""The shift handoff: offered before the shift ends, lists what comes due before the next
one with who can take it, and `h` hands it over (undoable)."""

from __future__ import annotations

import dataclasses
from datetime import time, timedelta

from tests.support.fake_service import FakeService
from tests.ui.conftest import NotingApp, settle
from tests.ui.test_bursts import burst
from triage.domain.handoff import handoff, handoff_due, shift_end
from triage.ui.screens.handoff import HandoffScreen
from triage.ui.widgets.queue_table import QueueTable

SIZE = (120, 36)


def on_shift_until(service: FakeService, closes: time, claire_from: time | None = None) -> None:
    """Alice works 08:00 to `closes` New York time (the frozen clock says 11:00 there);
    Claire, from `claire_from` on that day if given (else at any time)."""
    managers = dict(service.config.managers)
    managers["alice"] = dataclasses.replace(managers["alice"], timezone="America/New_York",
                                            hours=(time(8), closes))  # fmt: skip
    if claire_from is not None:
        managers["claire"] = dataclasses.replace(
            managers["claire"], timezone="America/New_York", hours=(claire_from, time(20))
        )
    service.config = dataclasses.replace(service.config, managers=managers)


def test_what_comes_due_before_the_next_shift_and_who_can_take_it() -> None:
    service = FakeService()
    on_shift_until(service, time(11, 20), claire_from=time(12))
    alice = service.config.managers["alice"]
    now = service.now()
    assert shift_end(alice, now) == now + timedelta(minutes=20) and handoff_due(alice, now)
    assert not handoff_due(alice, now - timedelta(minutes=20))  # 40 minutes before: not yet
    items = handoff(service.queue_view(now), alice, now, service.config)
    ids = [i.conversation.thread_id for i in items]
    assert ids == ["t01", "t03", "t10", "t07", "t09"]  # Alice's, soonest due first
    takers = {i.conversation.thread_id: [m.id for m, _ in i.takers] for i in items}
    # us-east: Claire is qualified but starts at 12:00, after Alice's shift ends: nobody
    assert takers["t03"] == [] and takers["t10"] == ["bob"]  # us-west: Bob, any time


async def test_the_console_offers_it_once_and_h_hands_one_over() -> None:
    service = FakeService()
    on_shift_until(service, time(11, 20))
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.tell_alerts(service.now())
        app.tell_alerts(service.now() + timedelta(seconds=5))
        offered = [n for n in app.notes if n.startswith("Your shift ends at")]
        assert len(offered) == 1 and "H lists what comes due" in offered[0]
        burst(app, "H")
        await settle(pilot)
        assert isinstance(app.screen, HandoffScreen)
        table = app.screen.query_one(QueueTable)
        assert table.move_to("t10")
        burst(app, "h")
        await settle(pilot)
        assert service.reassigned == [("t10", "bob", "handoff", False)]
        assert "t10" not in [c.thread_id for c in app.screen.query_one(QueueTable).rows]
        burst(app, "u")
        await settle(pilot)
        assert service.reassigned[-1] == ("t10", "alice", "undone", False)
