"""A reply is sent exactly once however busy the mailbox, however many consoles, and
always to the client the thread says, whatever the cache says.

Counted on `demo.server.sent` (what an SMTP server would have received).
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import httpx

from tests.resilience.conftest import Rig
from tests.support import faults
from triage.domain.model import ThreadRef
from triage.domain.outbox import OutboxStatus
from triage.service.api import Draft
from triage.service.core import TriageService

BODY = "Hi Dana,\n\nThe hero banners ship today at 3pm Eastern.\n\nAlice"
SEND = "EmailSubmission/set"
CLIENT = "dana@harborlight-media.com"


def copies(rig: Rig, draft: Draft) -> int:
    assert draft.message_id
    return sum(draft.message_id in str(m["message-id"]) for m in rig.demo.server.sent)


async def synced(rig: Rig, **kwargs: object) -> tuple[TriageService, str]:
    service = rig.open(**kwargs)  # type: ignore[arg-type]
    await service.sync()
    return service, rig.demo.threads["breached-east"]


def fill_sent(rig: Rig, n: int) -> None:
    """`n` other messages in Sent, all newer than the reply: a busy afternoon."""
    server = rig.demo.server
    for i in range(n):
        rig.clock.advance(timedelta(seconds=10))
        server.deliver("Bob Okafor", "bob@agency.example", [f"c{i}@client.example"],
                       f"Re: order {i}", "On it.", rig.clock.now(), mailbox="sent")  # fmt: skip


async def test_a_lost_answer_is_resolved_exactly_with_hundreds_of_newer_sent_messages(
    rig: Rig,
) -> None:
    service, thread = await synced(rig, timeout=0.3)
    assert rig.transport is not None
    rig.transport.aim(SEND, faults.drop_after(httpx.RemoteProtocolError))
    draft = await service.send_reply(service.save_draft(thread, BODY).id)
    assert draft.status == "unclear" and copies(rig, draft) == 1
    fill_sent(rig, 450)  # more than two pages of the old 200-message scan
    await service.sync()
    await service.sync()
    assert copies(rig, draft) == 1
    assert [d.status for d in service.drafts()] in ([], [OutboxStatus.SENT])


async def test_a_lookup_that_cannot_be_completed_sends_nothing(rig: Rig) -> None:
    service, thread = await synced(rig, timeout=0.3, retries=0)
    assert rig.transport is not None
    rig.transport.aim(SEND, faults.drop_after(httpx.RemoteProtocolError))
    draft = await service.send_reply(service.save_draft(thread, BODY).id)
    assert draft.status == "unclear"
    rig.transport.aim('"Email/query"', faults.status(500))  # the lookup's first page fails
    await service.sync()
    [after] = service.drafts()
    assert after.status == "unclear" and "could not check" in after.error
    assert copies(rig, draft) == 1  # the one the server did send; never sent blind again


async def test_a_sync_during_a_slow_send_does_not_send_it_again(rig: Rig) -> None:
    service, thread = await synced(rig)
    real_send = service.provider.send
    started = asyncio.Event()

    async def slow(reply):  # type: ignore[no-untyped-def]
        started.set()
        await asyncio.sleep(0.2)  # the answer takes a while
        await real_send(reply)

    service.provider.send = slow  # type: ignore[method-assign]
    sending = asyncio.create_task(service.send_reply(service.save_draft(thread, BODY).id))
    await started.wait()
    await service.sync()  # the background flush runs meanwhile
    draft = await sending
    await service.sync()
    assert draft.status == "sent" and copies(rig, draft) == 1


async def test_another_console_leaves_a_send_in_progress_alone(rig: Rig) -> None:
    alice, thread = await synced(rig)
    real_send = alice.provider.send
    started = asyncio.Event()

    async def slow(reply):  # type: ignore[no-untyped-def]
        started.set()
        await asyncio.sleep(0.2)
        await real_send(reply)

    alice.provider.send = slow  # type: ignore[method-assign]
    sending = asyncio.create_task(alice.send_reply(alice.save_draft(thread, BODY).id))
    await started.wait()
    second = rig.open()  # a second console of the same manager, on the same cache
    await second.sync()
    draft = await sending
    assert copies(rig, draft) == 1


async def test_a_teammates_queued_reply_is_theirs_to_send(rig: Rig) -> None:
    alice, thread = await synced(rig, retries=0)
    assert rig.transport is not None
    rig.transport.aim(SEND, faults.connect_error())
    draft = await alice.send_reply(alice.save_draft(thread, BODY).id)
    assert draft.status == "queued"
    bob = TriageService(dataclasses.replace(rig.config, user="bob"), rig.clock,
                        provider=rig.demo.provider())  # fmt: skip
    rig.opened.append(bob)
    await bob.sync()
    assert rig.demo.server.sent == [] and bob.drafts() == []  # not Bob's to send or see
    await alice.sync()
    assert copies(rig, draft) == 1


async def test_the_recipient_comes_from_the_thread_not_the_cache(rig: Rig) -> None:
    """Even a cache that says otherwise cannot pick who a reply goes to."""
    service, thread = await synced(rig)
    conv = service.live.truth(thread)
    assert conv is not None and conv.ref is not None
    tampered = dataclasses.replace(conv.thread, reply_to="mallory@evil.example",
                                   references=("<evil@evil.example>",))  # fmt: skip
    assert isinstance(tampered, ThreadRef)
    service.live.replace_all([dataclasses.replace(conv, ref=tampered)])
    sent = await service.send_reply(service.save_draft(thread, BODY).id)
    [out] = rig.demo.server.sent
    assert sent.status == "sent" and out["to"] == [CLIENT]
    assert "evil" not in str(out["references"])
