"""A typed reply is never lost, and never sent twice.

`demo.server.sent` is what an SMTP server would have received: each test counts
the copies of its reply there. A "crash" is either a real SIGKILLed process or a
service that is simply never closed while a new one opens the same cache.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.resilience.conftest import T0, Rig
from tests.support import faults
from triage.engine.outbox import SEND_LEASE, ActionError
from triage.providers.base import OutgoingReply, ProviderError
from triage.service.api import Draft
from triage.service.core import TriageService

BODY = "Hi Dana,\n\nThe hero banners ship today at 3pm Eastern.\n\nAlice"
SEND = "EmailSubmission/set"


class Crash(BaseException):
    """The process dies here: nothing after this line runs, no handler sees it."""


def copies(rig: Rig, draft: Draft) -> int:
    """How many times the reply with this draft's Message-ID reached the SMTP side."""
    assert draft.message_id
    return sum(draft.message_id in str(m["message-id"]) for m in rig.demo.server.sent)


def outbox(service: TriageService) -> list[tuple[str, str]]:
    return [(d.status, d.body) for d in service.drafts()]


async def synced(rig: Rig, **kwargs: object) -> tuple[TriageService, str]:
    service = rig.open(**kwargs)  # type: ignore[arg-type]
    await service.sync()
    return service, rig.demo.threads["breached-east"]


# -- saved before anything else ---------------------------------------------------------

CHILD = """
import dataclasses, os, signal, sys
from datetime import datetime
from pathlib import Path
from triage.service.core import TriageService
from triage.clock import FrozenClock
from triage.config import load_config
from triage.demo.mailbox import DEMO_CONFIG, DemoMailbox

clock = FrozenClock(datetime.fromisoformat(sys.argv[2]))
cfg = dataclasses.replace(load_config(DEMO_CONFIG, env={}), cache_path=Path(sys.argv[1]))
service = TriageService(cfg, clock, provider=DemoMailbox(clock, live=False).provider())
draft = service.save_draft(sys.argv[3], "Hi Dana,")  # the first keystrokes
service.save_draft(sys.argv[3], sys.stdin.read(), draft.id)  # ...and the rest
os.kill(os.getpid(), signal.SIGKILL)  # no close(), no flush, no atexit
"""


async def test_a_draft_survives_a_killed_process_and_is_offered_at_the_next_start(
    rig: Rig,
) -> None:
    _first, thread = await synced(rig)
    child = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHILD), str(rig.cache_path), T0.isoformat(),
         thread],
        input=BODY, text=True, capture_output=True, timeout=30, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stderr
    service = rig.open()
    assert outbox(service) == [("draft", BODY)]
    assert service.drafts()[0].thread_id == thread
    sent = await service.send_reply(service.drafts()[0].id)
    assert sent.status == "sent" and copies(rig, sent) == 1


async def test_a_draft_survives_a_service_that_is_never_closed(rig: Rig) -> None:
    first, thread = await synced(rig)
    first.save_draft(thread, BODY)
    again = rig.open()  # the first one "crashed": never closed, nothing flushed
    assert outbox(again) == [("draft", BODY)]


# -- unclear outcomes: the request left, no answer came back ------------------------------

UNCLEAR = [
    pytest.param(faults.drop_after(httpx.RemoteProtocolError), id="dropped"),
    pytest.param(faults.drop_after(httpx.ReadError), id="reset"),
    pytest.param(faults.stall(3600, forward=True), id="timed-out"),
]


@pytest.mark.parametrize("fault", UNCLEAR)
@pytest.mark.parametrize("restart", [False, True], ids=["same-process", "restarted"])
async def test_an_unclear_send_is_looked_up_and_never_sent_twice(
    rig: Rig, fault: faults.Fault, restart: bool
) -> None:
    service, thread = await synced(rig, timeout=0.3)
    assert rig.transport is not None
    rig.transport.aim(SEND, fault)
    draft = await service.send_reply(service.save_draft(thread, BODY).id)
    assert draft.status == "unclear"
    assert copies(rig, draft) == 1  # the server did send it
    assert outbox(service) == [("unclear", BODY)]
    with pytest.raises(ActionError, match="may already have been sent"):
        service.discard_draft(draft.id)
    if restart:
        service = rig.open()
        assert rig.transport is not None
    mark = len(rig.transport.seen)
    result = await service.sync()
    assert result.flushed == 1
    assert copies(rig, draft) == 1
    after = rig.transport.seen[mark:]
    assert not any(SEND.encode() in s.body for s in after)  # looked up, not sent again
    assert thread not in {c.thread_id for c in list(service.queue_view())}  # answered
    assert outbox(service) == [("sent", BODY)]  # kept until the provider shows it
    await service.sync()
    await service.sync()
    assert outbox(service) == []
    assert copies(rig, draft) == 1


# -- the request never left -----------------------------------------------------------------


@pytest.mark.parametrize("fault", [faults.connect_error, faults.dns_error])
async def test_a_send_that_never_left_is_queued_and_sent_once_on_recovery(
    rig: Rig, fault: Callable[[], faults.Fault]
) -> None:
    service, thread = await synced(rig, retries=1)
    assert rig.transport is not None
    rig.transport.aim(SEND, fault(), fault())
    draft = await service.send_reply(service.save_draft(thread, BODY).id)
    assert draft.status == "queued"
    assert rig.demo.server.sent == []
    assert service.status().outbox_count == 1
    await service.sync()
    assert copies(rig, draft) == 1
    await service.sync()
    await service.sync()
    assert copies(rig, draft) == 1 and outbox(service) == []


# -- a crash around the send ---------------------------------------------------------------


@pytest.mark.parametrize("when", ["before-the-request", "after-the-server-sent-it"])
async def test_a_crash_while_sending_resumes_and_sends_exactly_once(rig: Rig, when: str) -> None:
    service, thread = await synced(rig)
    real_send = service.provider.send

    async def crashing(reply: OutgoingReply) -> None:
        if when == "after-the-server-sent-it":
            await real_send(reply)
        raise Crash

    service.provider.send = crashing  # type: ignore[method-assign]
    draft_id = service.save_draft(thread, BODY).id
    with pytest.raises(Crash):
        await service.send_reply(draft_id)

    restarted = rig.open()
    [draft] = restarted.drafts()
    assert (draft.status, draft.body) == ("sending", BODY)
    assert draft.message_id  # recorded before the send was attempted
    with pytest.raises(ActionError):
        restarted.discard_draft(draft.id)
    await restarted.sync()
    assert copies(rig, draft) == (1 if when == "after-the-server-sent-it" else 0)
    rig.clock.advance(SEND_LEASE)  # the crashed console's lease on its send runs out
    await restarted.sync()
    await restarted.sync()
    assert copies(rig, draft) == 1
    assert outbox(restarted) == []


# -- the server refuses or fails -------------------------------------------------------------

REFUSED = (
    b'{"methodResponses": [["Email/set", {"notCreated": {"r": {"type": "overQuota",'
    b' "description": "mailbox full"}}}, "e"]]}'
)


@pytest.mark.parametrize(
    ("fault", "status", "message"),
    [
        (faults.status(500), "unclear", r"server error \(HTTP 500\)"),
        (faults.status(400), "failed", r"refused the request \(HTTP 400\)"),
        (faults.garbage(REFUSED), "failed", "could not create the reply: overQuota mailbox full"),
    ],
    ids=["http-500", "http-400", "notCreated"],
)
async def test_a_send_the_server_fails_keeps_the_text_and_it_goes_once(
    rig: Rig, fault: faults.Fault, status: str, message: str
) -> None:
    service, thread = await synced(rig)
    assert rig.transport is not None
    rig.transport.aim(SEND, fault)
    draft_id = service.save_draft(thread, BODY).id
    if status == "failed":
        with pytest.raises(ProviderError, match=message):
            await service.send_reply(draft_id)
        [draft] = service.drafts()
    else:
        draft = await service.send_reply(draft_id)
    assert (draft.status, draft.body) == (status, BODY)
    assert draft.error and draft.message_id
    assert rig.demo.server.sent == []
    assert outbox(rig.open()) == [(status, BODY)]  # on disk, for the next start too
    await service.sync()
    if status == "failed":  # a refusal is the user's to decide on: not retried behind them
        await service.sync()
        assert copies(rig, draft) == 0 and outbox(service) == [("failed", BODY)]
        await service.send_reply(draft.id)  # the user sends it again
    await service.sync()
    assert copies(rig, draft) == 1 and outbox(service) == []


async def test_a_reply_created_but_not_submitted_is_submitted_not_recreated(rig: Rig) -> None:
    server = rig.demo.server
    service, thread = await synced(rig)
    identities = dict(server.identities)
    server.identities.clear()  # the server stores the reply, then refuses to submit it
    with pytest.raises(ProviderError, match="refused to send"):
        await service.send_reply(service.save_draft(thread, BODY).id)
    [draft] = service.drafts()
    assert server.sent == [] and draft.status == "failed"
    server.identities.update(identities)
    await service.sync()
    assert copies(rig, draft) == 0  # failed: left for the user
    await service.send_reply(draft.id)  # sending it again looks its Message-ID up first
    assert copies(rig, draft) == 1
    stored = [e for e in server.emails.values() if draft.message_id in e.message_id]
    assert len(stored) == 1  # the draft left on the server was submitted, not a second one


async def test_editing_a_failed_reply_makes_it_a_draft_the_flush_leaves_alone(rig: Rig) -> None:
    """The user fixes the text after a refused send: the background sync must not send
    the half-edited text; the user's next ctrl+s sends the final one, once."""
    service, thread = await synced(rig)
    assert rig.transport is not None
    rig.transport.aim(SEND, faults.status(400))
    draft_id = service.save_draft(thread, BODY).id
    with pytest.raises(ProviderError):
        await service.send_reply(draft_id)
    editing = service.save_draft(thread, "half typed", draft_id)
    assert editing.status == "draft" and editing.message_id  # kept: looked up before a resend
    await service.sync()
    await service.sync()
    assert rig.demo.server.sent == []  # nothing went out behind the user's back
    service.save_draft(thread, "Final text.", draft_id)
    sent = await service.send_reply(draft_id)
    assert sent.status == "sent" and len(rig.demo.server.sent) == 1
