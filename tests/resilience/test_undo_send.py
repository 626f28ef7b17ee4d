"""Undo send: a reply held for its delay is sent exactly once, or never if taken back.

On the demo mailbox with a real TinyDB cache on disk; "a new process" is a new
service on the same cache file (`rig.open()`), the frozen clock moved by hand.
Counted on `demo.server.sent` (what an SMTP server would have received).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.resilience.conftest import Rig
from tests.resilience.test_sent_exactly_once import BODY, synced
from triage.domain.outbox import OutboxStatus
from triage.engine.outbox import ActionError


async def test_nothing_goes_during_the_delay_and_it_goes_once_after(rig: Rig) -> None:
    service, thread = await synced(rig)
    held = await service.send_reply(service.save_draft(thread, BODY).id, hold=10)
    assert held.status is OutboxStatus.QUEUED and held.not_before == rig.clock.now() + timedelta(
        seconds=10)  # fmt: skip
    await service.sync()  # a sync's flush during the delay leaves it alone
    assert rig.demo.server.sent == []
    again = await service.send_reply(held.id, hold=10)  # ctrl+s twice: the delay runs on
    assert again.not_before == held.not_before
    rig.clock.advance(timedelta(seconds=10))
    await service.sync()
    await service.sync()
    assert len(rig.demo.server.sent) == 1


async def test_taken_back_it_is_the_users_draft_and_never_sent(rig: Rig) -> None:
    service, thread = await synced(rig)
    held = await service.send_reply(service.save_draft(thread, BODY).id, hold=10)
    rig.clock.advance(timedelta(seconds=9))
    back = service.take_back(held.id)
    assert back.status is OutboxStatus.DRAFT and back.not_before is None
    rig.clock.advance(timedelta(minutes=5))
    await service.sync()
    reopened = rig.open()  # and in the next process too
    await reopened.sync()
    assert rig.demo.server.sent == []
    assert [(d.status, d.body) for d in reopened.drafts()] == [(OutboxStatus.DRAFT, BODY)]


async def test_undo_after_the_delay_is_refused_and_changes_nothing(rig: Rig) -> None:
    service, thread = await synced(rig)
    held = await service.send_reply(service.save_draft(thread, BODY).id, hold=10)
    rig.clock.advance(timedelta(seconds=10))
    sent = await service.send_reply(held.id)  # the console's tick: its time has come
    assert sent.status is OutboxStatus.SENT
    with pytest.raises(ActionError, match="too late"):
        service.take_back(held.id)
    await service.sync()
    assert len(rig.demo.server.sent) == 1


async def test_a_crash_during_the_delay_sends_it_once_from_the_next_process(rig: Rig) -> None:
    service, thread = await synced(rig)
    await service.send_reply(service.save_draft(thread, BODY).id, hold=10)
    # The console dies here: nothing else runs in this service again.
    rig.clock.advance(timedelta(seconds=3))
    early = rig.open()
    await early.sync()  # a second process during the delay: it waits too
    assert rig.demo.server.sent == []
    rig.clock.advance(timedelta(seconds=30))
    later = rig.open()
    await later.sync()
    await later.sync()
    await early.sync()
    assert len(rig.demo.server.sent) == 1


async def test_the_tick_and_a_sync_racing_at_the_end_of_the_delay_send_once(rig: Rig) -> None:
    service, thread = await synced(rig)
    first = service.save_draft(thread, BODY)
    other = service.save_draft(rig.demo.threads["at-risk-east"], "Another reply, held too.")
    await service.send_reply(other.id, hold=10)
    await service.send_reply(first.id, hold=10)
    rig.clock.advance(timedelta(seconds=10))
    # The flush reads the outbox once, then sends item by item; the tick sends the
    # same reply meanwhile. Neither may send what the other has.
    racing = (service.sync(), service.send_reply(first.id), service.send_reply(other.id))
    results = await asyncio.gather(*racing, return_exceptions=True)
    refused = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(r, ActionError) and "being sent" in str(r) for r in refused)
    await service.sync()
    assert len(rig.demo.server.sent) == 2


async def test_two_processes_of_one_user_never_both_send_a_held_reply(rig: Rig) -> None:
    """The console's tick and a `triage sync` (or a second terminal) at the end of the
    delay: each reads the reply QUEUED, but only one may move it to SENDING."""
    console, thread = await synced(rig)
    held = await console.send_reply(console.save_draft(thread, BODY).id, hold=10)
    other = rig.open()  # the same user, the same cache file, another process
    await other.sync()
    rig.clock.advance(timedelta(seconds=10))
    results = await asyncio.gather(console.send_reply(held.id), other.send_reply(held.id),
                                   return_exceptions=True)  # fmt: skip
    lost = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(r, ActionError) and "being sent" in str(r) for r in lost)
    await console.sync()
    await other.sync()
    assert len(rig.demo.server.sent) == 1
