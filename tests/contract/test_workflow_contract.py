"""The workflow actions as shared state, on every backend: what one console does (done,
snooze, wake, reopen, de-escalate, "replying now"), another console sees after its next
sync, and a client who writes again ends a "done" or a snooze for everyone.

Every client here is in a 24x7 region with a one-hour target and 15 minutes "at risk",
so a message that arrived 10 minutes ago is due in 50 and at risk in 35.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.contract.backends import Backend
from tests.contract.test_contract import ago
from triage.domain.model import Conversation, Status
from triage.engine.outbox import ActionError
from triage.service.core import TriageService

MINUTE = timedelta(minutes=1)


async def one_waiting(backend: Backend, *consoles: TriageService, subject: str) -> str:
    mid = f"{subject.replace(' ', '-').lower()}@acme.test"
    backend.deliver("Wile Coyote", "wile@acme.test", subject, "A question.", message_id=mid,
                    at=ago(backend, 10))  # fmt: skip
    for console in consoles:
        await console.sync()
    [conv] = [c for c in consoles[0].queue_view() if c.subject == subject]
    return conv.thread_id


def seen(console: TriageService, thread_id: str) -> Conversation:
    conv = console.conversation(thread_id)
    assert conv is not None
    return conv


def queued(console: TriageService) -> set[str]:
    return {c.thread_id for c in console.queue_view()}


async def test_done_leaves_every_queue_until_the_client_writes_again(
    backend: Backend, alice: TriageService, bob: TriageService
) -> None:
    tid = await one_waiting(backend, alice, bob, subject="Thanks a lot")
    await alice.done(tid, "thanks / no question")
    await bob.sync()
    assert tid not in queued(bob)
    [done] = bob.view("done")
    assert (done.thread_id, done.done_reason, done.done_by) == (tid, "thanks / no question",
                                                                "alice")  # fmt: skip
    backend.clock.advance(5 * MINUTE)
    backend.deliver("Wile Coyote", "wile@acme.test", "Re: Thanks a lot", "One more thing.",
                    in_reply_to="thanks-a-lot@acme.test", references=["thanks-a-lot@acme.test"],
                    at=ago(backend, 1))  # fmt: skip
    await bob.sync()
    back = seen(bob, tid)
    assert back.status is Status.WAITING and tid in queued(bob)
    assert back.waiting_since == ago(backend, 1)  # a fresh clock, from the new message
    assert any("marked it done: thanks / no question" in h for h in (await bob.thread(tid)).history)


async def test_a_done_conversation_is_reopened_before_it_can_be_snoozed(
    backend: Backend, alice: TriageService
) -> None:
    tid = await one_waiting(backend, alice, subject="Invoice copy")
    await alice.done(tid, "handled by phone")
    with pytest.raises(ActionError, match="reopen it first"):
        await alice.snooze(tid, backend.clock.now() + timedelta(hours=1))
    await alice.sync()
    assert seen(alice, tid).status is Status.DONE


async def test_reopen_puts_it_back_on_its_own_clock(
    backend: Backend, alice: TriageService, bob: TriageService
) -> None:
    tid = await one_waiting(backend, alice, bob, subject="Out of office")
    before = seen(alice, tid)
    await alice.done(tid, "out of office")
    await alice.reopen(tid)
    await bob.sync()
    after = seen(bob, tid)
    assert after.status is Status.WAITING and after.deadline == before.deadline


async def test_a_snooze_hides_nothing_it_wakes_at_risk_and_a_second_console_agrees(
    backend: Backend, alice: TriageService, bob: TriageService
) -> None:
    tid = await one_waiting(backend, alice, bob, subject="Budget question")
    deadline = seen(alice, tid).deadline
    assert deadline is not None
    await alice.snooze(tid, backend.clock.now() + timedelta(hours=2))
    await bob.sync()
    assert tid not in queued(bob) and [c.thread_id for c in bob.view("snoozed")] == [tid]
    assert seen(bob, tid).wake_at == deadline - timedelta(minutes=15)  # at risk comes first
    backend.clock.set(deadline - timedelta(minutes=15))
    assert tid in queued(bob) and tid in queued(alice)  # back, with its deadline
    assert seen(bob, tid).deadline == deadline


async def test_a_snooze_on_an_answered_conversation_comes_back_as_a_follow_up(
    backend: Backend, alice: TriageService, bob: TriageService
) -> None:
    mid = "proposal@acme.test"
    backend.deliver("Wile Coyote", "wile@acme.test", "Proposal", "Send it?", message_id=mid,
                    at=ago(backend, 30))  # fmt: skip
    backend.staff_reply_outside("Bob Okafor", backend.manager_email("bob"), "Re: Proposal",
                                "Friday.", to=["wile@acme.test"], in_reply_to=mid,
                                at=ago(backend, 20))  # fmt: skip
    await alice.sync()
    [answered] = alice.view("answered")
    until = backend.clock.now() + timedelta(minutes=30)
    await alice.snooze(answered.thread_id, until)
    await bob.sync()
    assert [c.thread_id for c in bob.view("snoozed")] == [answered.thread_id]
    backend.clock.set(until)
    [follow_up] = [c for c in bob.queue_view() if c.thread_id == answered.thread_id]
    assert (follow_up.clock_start, follow_up.deadline) == (until, until + timedelta(hours=1))
    assert bob.view("waiting")[0].follow_up


async def test_wake_and_deescalate_take_the_action_back_for_everyone(
    backend: Backend, alice: TriageService, bob: TriageService
) -> None:
    tid = await one_waiting(backend, alice, bob, subject="Rocket launch")
    await alice.snooze(tid, backend.clock.now() + timedelta(minutes=20))
    await alice.wake(tid)
    await alice.escalate(tid, "client unhappy")
    await alice.deescalate(tid, "sorted out by phone")
    await bob.sync()
    conv = seen(bob, tid)
    assert conv.status is Status.WAITING and not conv.escalated and tid in queued(bob)
    history = (await bob.thread(tid)).history
    assert any("escalated: client unhappy" in h for h in history)
    assert any("took the escalation back: sorted out by phone" in h for h in history)


async def test_a_second_console_sees_who_is_replying_until_they_stop(
    backend: Backend, alice: TriageService, bob: TriageService
) -> None:
    tid = await one_waiting(backend, alice, bob, subject="Logo files")
    await alice.replying(tid, True)
    await bob.sync()
    conv = seen(bob, tid)
    assert conv.replying == "alice" and conv.replying_until is not None
    assert conv.replying_until > backend.clock.now()
    await alice.replying(tid, False)
    await bob.sync()
    assert seen(bob, tid).replying == ""
