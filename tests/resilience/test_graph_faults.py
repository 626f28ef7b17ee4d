"""The Microsoft 365 provider when Graph misbehaves: lost delta tokens, paging, throttling,
tokens that expire or are revoked, a mailbox the user may not open, the 4-request
limit, two consoles writing categories at once, and replies whose answer is lost.

Everything runs against the in-repo Graph fake (Microsoft's documentation, modelled;
never a live tenant) through the real `TriageService`: sync engine, cache, outbox,
Graph client. Waits the client asks for are recorded instead of slept.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.contract.graph_backend import SHARED, GraphBackend
from triage.clock import FrozenClock
from triage.domain.model import Mark, MarkKind
from triage.providers.base import AuthError, ProviderError
from triage.service.core import TriageService

T = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


@pytest.fixture
def backend(tmp_path: Path) -> GraphBackend:
    return GraphBackend(FrozenClock(T), tmp_path / "server")


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
async def alice(
    backend: GraphBackend, tmp_path: Path, sleeps: list[float]
) -> AsyncIterator[TriageService]:
    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    service = backend.service(tmp_path, "alice", sleep=record)
    yield service
    await service.close()


def ago(minutes: int) -> datetime:
    return T - timedelta(minutes=minutes)


def client_mail(backend: GraphBackend, n: int, subject: str = "", minutes: int = 30) -> str:
    mid = f"q{n}@acme.test"
    backend.deliver("Wile Coyote", "wile@acme.test", subject or f"Question {n}", "Well?",
                    message_id=mid, at=ago(minutes))  # fmt: skip
    return mid


def statuses(backend: GraphBackend, code: int) -> list[str]:
    return [s.path for s in backend.fake.seen if s.status == code]


# -- lost delta tokens and paging ---------------------------------------------------------


@pytest.mark.parametrize("status", [410, 400])
async def test_a_lost_delta_token_means_a_full_sync_that_keeps_shared_state_and_drafts(
    backend: GraphBackend, alice: TriageService, status: int
) -> None:
    client_mail(backend, 1, "Budget", minutes=40)
    client_mail(backend, 2, "Launch", minutes=20)
    await alice.sync()
    budget, launch = (c.thread_id for c in alice.queue_view())
    await alice.escalate(budget, "third time asking")
    draft = alice.save_draft(launch, "Half typed")
    backend.fake.forget_changes(status)
    client_mail(backend, 3, "Anvils", minutes=5)

    result = await alice.sync()

    assert result.full and result.removed == () and len(result.added) == 1
    assert statuses(backend, status), "the fake never said the token was lost"
    convs = {c.subject: c for c in alice.queue_view()}
    assert set(convs) == {"Budget", "Launch", "Anvils"}
    assert convs["Budget"].escalated and convs["Budget"].escalation_reason == "third time asking"
    assert [d.id for d in alice.drafts()] == [draft.id]
    assert not (await alice.sync()).full  # and the new delta links work


async def test_delta_and_conversations_are_read_page_by_page(
    backend: GraphBackend, alice: TriageService
) -> None:
    backend.fake.deltas.max_page = 2  # every list comes two items a page
    for n in range(7):
        client_mail(backend, n, minutes=50 - n)
    for n in range(4):  # a long conversation: the client keeps writing
        backend.deliver("Wile Coyote", "wile@acme.test", "Re: Question 0", f"Again {n}",
                        message_id=f"again{n}@acme.test", in_reply_to="q0@acme.test",
                        at=ago(40 - n))  # fmt: skip

    first = await alice.sync()
    for n in range(7, 12):
        client_mail(backend, n, minutes=10)
    second = await alice.sync()

    assert len(first.added) == 7 and len(second.added) == 5 and not second.full
    counts = {c.subject: c.message_count for c in alice.conversations()}
    assert counts["Question 0"] == 5 and len(counts) == 12
    pages = [s for s in backend.fake.seen if "/messages/delta" in s.path]
    assert len(pages) >= 6  # 7 + 4 messages in the watched folder: several pages


# -- throttling ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("in_batch", [True, False])
async def test_throttling_waits_as_long_as_retry_after_says(
    backend: GraphBackend, alice: TriageService, sleeps: list[float], status: int, in_batch: bool
) -> None:
    client_mail(backend, 1)
    match = "/messages/delta" if in_batch else "POST /v1.0/$batch"
    backend.fake.fail(match, status, headers={"Retry-After": "7"}, in_batch=in_batch)

    result = await alice.sync()

    assert result.full and len(result.added) == 1
    assert sleeps == [7.0]
    assert [s.status for s in backend.fake.seen if s.status >= 400] == [status]


async def test_at_most_four_requests_are_ever_in_flight(
    backend: GraphBackend, tmp_path: Path
) -> None:
    for n in range(40):
        client_mail(backend, n, minutes=50 - n)
    backend.transport = backend.fake.transport(latency=0.002)  # requests overlap for real
    service = backend.service(tmp_path, "alice")
    try:
        result = await service.sync()
        await asyncio.gather(*(service.thread(t) for t in result.added[:12]))
    finally:
        await service.close()
    assert len(result.added) == 40
    assert backend.fake.max_in_flight == 4 and backend.fake.throttled == 0


async def test_the_fake_refuses_a_fifth_request_in_flight(backend: GraphBackend) -> None:
    """The control for the test above: the limit is checked, so staying under it means
    something."""
    token = backend.fake.identity.issue("alice@agency.example")["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{backend.fake.api_url}/users/{SHARED}/mailFolders/inbox"
    async with httpx.AsyncClient(transport=backend.fake.transport(latency=0.01)) as c:
        answers = await asyncio.gather(*(c.get(url, headers=headers) for _ in range(6)))
    assert sorted(a.status_code for a in answers) == [200] * 4 + [429] * 2
    assert all(a.headers.get("Retry-After") for a in answers if a.status_code == 429)


# -- tokens ------------------------------------------------------------------------------------


async def test_a_token_that_expires_mid_sync_is_refreshed_once_and_the_sync_completes(
    backend: GraphBackend, alice: TriageService
) -> None:
    for n in range(20):
        client_mail(backend, n)
    backend.fake.expire_tokens_after(2)

    result = await alice.sync()

    assert len(result.added) == 20
    assert backend.fake.identity.refreshes == 1 and statuses(backend, 401)


async def test_a_revoked_sign_in_says_run_triage_login_and_is_not_retried(
    backend: GraphBackend, alice: TriageService
) -> None:
    client_mail(backend, 1)
    await alice.sync()
    backend.fake.identity.revoke("alice@agency.example")
    backend.fake.identity.expire_access_tokens()

    with pytest.raises(AuthError) as refused:
        await alice.sync()

    assert "run `triage login`" in str(refused.value)
    assert backend.fake.identity.refreshes == 1
    kept = json.loads(Path(str(alice.config.provider.token_file)).read_text())
    assert kept["refresh_token"] not in str(refused.value)
    assert [c.subject for c in alice.queue_view()] == ["Question 1"]  # the queue stays


async def test_a_shared_mailbox_the_user_cannot_open_names_the_permissions(
    backend: GraphBackend, tmp_path: Path
) -> None:
    backend.fake.identity.users["bob@agency.example"].full_access.clear()
    bob = backend.service(tmp_path, "bob")
    try:
        with pytest.raises(AuthError) as refused:
            await bob.sync()
    finally:
        await bob.close()
    text = str(refused.value)
    assert SHARED in text and "Full Access" in text and "Mail.ReadWrite.Shared" in text
    assert "ErrorAccessDenied" in text


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [("mailbox", "nobody@agency.example", "provider.mailbox"),
     ("folder", "Clients 2019", "provider.folder")],
)  # fmt: skip
async def test_a_mailbox_or_folder_that_is_not_there_names_its_key(
    backend: GraphBackend, tmp_path: Path, key: str, value: str, named: str
) -> None:
    service = backend.service(tmp_path, "alice", **{key: value})
    try:
        with pytest.raises(ProviderError, match=named):
            await service.sync()
    finally:
        await service.close()


# -- marks -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(MarkKind))
async def test_every_mark_kind_is_stored_as_a_category_and_read_back(
    backend: GraphBackend, alice: TriageService, kind: MarkKind
) -> None:
    client_mail(backend, 1)
    await alice.sync()
    [conv] = alice.queue_view()
    mark = Mark(kind, "bob" if kind is MarkKind.OWNER else "")
    box = backend.fake.mailboxes[SHARED]
    [msg] = [m for m in box.messages.values() if m.subject == "Question 1"]
    msg.categories = ["Red category", "triage:from-a-newer-triage:x"]

    await alice.provider.set_marks(conv.thread, {mark: True})
    snap = await alice.provider.full_sync()

    assert msg.categories[:2] == ["Red category", "triage:from-a-newer-triage:x"]
    assert msg.categories[2].startswith(f"triage:{kind.value}")
    [thread] = snap.threads
    assert thread.messages[0].marks == {mark}
    await alice.provider.set_marks(conv.thread, {mark: False})
    assert msg.categories == ["Red category", "triage:from-a-newer-triage:x"]


async def test_marks_written_by_two_consoles_at_once_are_both_kept(
    backend: GraphBackend, alice: TriageService, tmp_path: Path
) -> None:
    client_mail(backend, 1)
    await alice.sync()
    [conv] = alice.queue_view()
    box = backend.fake.mailboxes[SHARED]
    [msg] = [m for m in box.messages.values() if m.subject == "Question 1"]

    def colleague_files_it() -> None:  # in Outlook, between alice's read and her write
        msg.categories = [*msg.categories, "Waiting on legal"]
        box.touch(msg)

    backend.fake.fail("PATCH", before=colleague_files_it)
    await alice.escalate(conv.thread_id, "urgent")

    assert msg.categories == ["Waiting on legal", "triage:escalated"]
    assert statuses(backend, 412), "the stale write was not refused"


async def test_a_message_moved_out_of_the_watched_folder_takes_its_conversation_along(
    backend: GraphBackend, alice: TriageService
) -> None:
    client_mail(backend, 1)
    client_mail(backend, 2)
    await alice.sync()
    box = backend.fake.mailboxes[SHARED]
    [moved] = [m for m in box.messages.values() if m.subject == "Question 2"]
    box.move(moved, box.folder("archive").id)  # type: ignore[union-attr]

    result = await alice.sync()

    assert result.removed == (moved.conversation_id,)
    assert [c.subject for c in alice.queue_view()] == ["Question 1"]


# -- replies whose answer is lost: never twice --------------------------------------------------


@pytest.mark.parametrize("lost", ["/createReply", "/send"])
async def test_a_reply_whose_answer_was_lost_is_sent_exactly_once(
    backend: GraphBackend, alice: TriageService, lost: str
) -> None:
    """createReply and send are not repeated blindly: the reply is UNCLEAR until the next
    sync looks its Message-ID up (not found after a lost createReply: a new draft is
    made; found in Sent Items after a lost send: nothing more is sent)."""
    client_mail(backend, 1)
    await alice.sync()
    [conv] = alice.queue_view()
    draft = alice.save_draft(conv.thread_id, "On its way.\n")
    backend.fake.fail(lost, drop=True)

    first = await alice.send_reply(draft.id)
    assert first.status == "unclear" and len(backend.fake.sent) == (lost == "/send")
    await alice.sync()  # the outbox looks our Message-ID up before anything else
    await alice.sync()  # and lets go of the reply once the sync shows it

    [out] = backend.fake.sent
    assert out.message_id == first.message_id.strip("<>") and out.body == "On its way.\n"
    assert alice.drafts() == []
    box = backend.fake.mailboxes[SHARED]
    left = [m for m in box.messages.values() if m.is_draft]
    assert len(left) == (lost == "/createReply")  # the lost one, never sent, never ours
    assert all(m.internet_message_id != f"<{out.message_id}>" for m in left)


async def test_a_lost_patch_is_repeated_and_a_draft_left_with_our_id_is_sent_from_drafts(
    backend: GraphBackend, alice: TriageService
) -> None:
    client_mail(backend, 1)
    await alice.sync()
    [conv] = alice.queue_view()
    draft = alice.save_draft(conv.thread_id, "Patched.\n")
    backend.fake.fail("PATCH", drop=True, times=99)  # applied each time, never answered

    first = await alice.send_reply(draft.id)
    assert first.status != "sent" and backend.fake.sent == []
    backend.fake.faults.clear()
    found = await alice.provider.find_sent(first.message_id)
    assert found is not None and found.state == "drafted"
    await alice.sync()

    [out] = backend.fake.sent
    assert out.message_id == first.message_id.strip("<>") and out.body == "Patched.\n"
    assert len([s for s in backend.fake.seen if s.path.endswith("/createReply")]) == 1


async def test_a_send_refused_for_want_of_send_as_names_it_and_goes_out_once_granted(
    backend: GraphBackend, alice: TriageService
) -> None:
    client_mail(backend, 1)
    await alice.sync()
    [conv] = alice.queue_view()
    backend.fake.identity.users["alice@agency.example"].send_as.clear()
    draft = alice.save_draft(conv.thread_id, "Hello.\n")

    with pytest.raises(AuthError, match=r"Send As.*Mail\.Send\.Shared"):
        await alice.send_reply(draft.id)
    assert backend.fake.sent == []
    backend.fake.identity.users["alice@agency.example"].send_as.add(SHARED)
    again = await alice.send_reply(draft.id)  # found in Drafts with our Message-ID: sent

    assert again.status == "sent" and len(backend.fake.sent) == 1
    replies = [s for s in backend.fake.seen if s.path.endswith("/createReply")]
    assert len(replies) == 1
