"""The shared-state actions refuse what would be a false or empty record: a reassignment
to the owner it already has, an acknowledgement by someone the config does not name;
and a second escalation keeps the first one's reason in the history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from triage.cli import DemoService, close_service
from triage.clock import FrozenClock
from triage.engine.outbox import ActionError

T = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)  # a Tuesday: every office open


@pytest.fixture
async def alice() -> AsyncIterator[DemoService]:
    service = DemoService(FrozenClock(T), live=False)
    await service.sync()
    yield service
    await close_service(service)


async def test_reassigning_to_the_current_owner_is_refused(alice: DemoService) -> None:
    tid = alice.demo.threads["ok-west"]
    conv = alice.conversation(tid)
    assert conv is not None and conv.owner == "bob"
    with pytest.raises(ActionError, match="already Bob Okafor's"):
        await alice.reassign(tid, "bob", "workload", account=False)
    await alice.reassign(tid, "alice", "workload", account=False)
    with pytest.raises(ActionError, match="already Alice Martin's"):  # the pending one counts
        await alice.reassign(tid, "alice", "workload", account=False)
    await alice.reassign(tid, "bob", "back", account=True)  # an account move is not a no-op


async def test_a_second_escalation_keeps_both_reasons(alice: DemoService) -> None:
    tid = alice.demo.threads["escalated"]  # escalated in the seeded day: "client unhappy"
    await alice.escalate(tid, "wants a refund")
    await alice.sync()
    conv = alice.conversation(tid)
    assert conv is not None and conv.escalation_reason == "wants a refund"
    history = (await alice.thread(tid)).history
    assert [h.partition(" escalated: ")[2] for h in history if " escalated: " in h] == [
        "client unhappy", "wants a refund"
    ]  # fmt: skip


async def test_only_an_acknowledger_acknowledges(alice: DemoService) -> None:
    tid = alice.demo.threads["escalated"]
    with pytest.raises(ActionError, match=r"for ceo \(\[agency\] acknowledgers"):
        await alice.acknowledge(tid)
    with pytest.raises(ActionError, match="for ceo"):
        await alice.unacknowledge(tid)
    ceo = DemoService(FrozenClock(T), user="ceo", live=False)
    try:
        await ceo.sync()
        with pytest.raises(ActionError, match="no acknowledgement to take back"):
            await ceo.unacknowledge(tid)
        await ceo.acknowledge(tid)
        with pytest.raises(ActionError, match="already acknowledged"):
            await ceo.acknowledge(tid)
        await ceo.unacknowledge(tid)
        await ceo.sync()
        history = (await ceo.thread(tid)).history
        assert [h.split(" ", 3)[3] for h in history][-2:] == [
            "CEO acknowledged the escalation", "CEO took back the acknowledgement"
        ]  # fmt: skip
    finally:
        await close_service(ceo)
