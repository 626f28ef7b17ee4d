"""The provider contract: the same behaviour from the demo mailbox and from real Cyrus.

Every test runs once per backend (`backend` fixture: demo, cyrus) through the real
`TriageService` (JMAP client, sync engine, cache, actions). Mail times are set by the
test (IMAP APPEND with INTERNALDATE on Cyrus) relative to the backend's frozen clock,
and every client here is in a 24x7 region with a one-hour target, so each deadline is
exactly arrival + 1 h on any weekday.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.contract.backends import CEO, Backend
from triage.domain.model import Conversation
from triage.service.core import TriageService

HOUR = timedelta(hours=1)


def ago(backend: Backend, minutes: int) -> datetime:
    return backend.clock.now() - timedelta(minutes=minutes)


def by_subject(convs: list[Conversation]) -> dict[str, Conversation]:
    return {c.subject: c for c in convs}


def client_then_staff(backend: Backend, subject: str, client: str, at: int, staff_at: int) -> None:
    """A client question and a colleague's answer sent from their own mail client."""
    mid = f"{subject.replace(' ', '-').lower()}.q@{client.rpartition('@')[2]}"
    backend.deliver("Client", client, subject, "A question.", message_id=mid, at=ago(backend, at))
    backend.staff_reply_outside(
        "Bob Okafor", backend.manager_email("bob"), f"Re: {subject}", "An answer.",
        to=[client], in_reply_to=mid, message_id=f"{mid}.answer", at=ago(backend, staff_at),
    )  # fmt: skip


async def test_full_sync_lists_exactly_the_waiting_client_threads(
    backend: Backend, alice: TriageService
) -> None:
    backend.deliver("Wile Coyote", "wile@acme.test", "Rocket fuel invoice", "Pay it?",
                    at=ago(backend, 50))  # fmt: skip
    backend.deliver("Bob Okafor", backend.manager_email("bob"), "Team lunch", "Friday?",
                    at=ago(backend, 45))  # fmt: skip
    client_then_staff(backend, "Quarterly report", "hank@globex.test", at=40, staff_at=30)
    backend.deliver("Pat Smith", "pat@initech.test", "New project", "Can we talk?",
                    at=ago(backend, 20))  # fmt: skip

    result = await alice.sync()

    assert result.full and len(result.added) == 3
    queue = list(alice.queue_view())
    assert [c.subject for c in queue] == ["Rocket fuel invoice", "New project"]
    convs = by_subject(alice.conversations())
    assert set(convs) == {"Rocket fuel invoice", "Quarterly report", "New project"}
    assert not convs["Quarterly report"].waiting and convs["Quarterly report"].deadline is None
    acme, unknown = queue
    assert (acme.client_name, acme.client_email, acme.region, acme.owner, acme.tier.value) == (
        "Acme Rockets", "wile@acme.test", "support", "alice", "premium")  # fmt: skip
    assert not acme.region_guessed
    assert acme.clock_start == ago(backend, 50) and acme.deadline == ago(backend, 50) + HOUR
    assert unknown.region == "support" and unknown.region_guessed and unknown.owner == "alice"
    assert unknown.deadline == ago(backend, 20) + HOUR


async def test_incremental_sync_adds_a_new_delivery_and_idles_in_one_request(
    backend: Backend, alice: TriageService
) -> None:
    backend.deliver("Wile Coyote", "wile@acme.test", "Anvil order", "Two anvils.",
                    at=ago(backend, 30))  # fmt: skip
    assert (await alice.sync()).full
    backend.deliver("Hank Scorpio", "hank@globex.test", "Volcano lair", "Status?",
                    at=ago(backend, 5))  # fmt: skip

    result = await alice.sync()

    assert not result.full and len(result.added) == 1 and result.removed == ()
    [added] = [c for c in alice.conversations() if c.thread_id == result.added[0]]
    assert added.subject == "Volcano lair" and added.owner == "bob"
    assert [c.subject for c in list(alice.queue_view())] == ["Anvil order", "Volcano lair"]
    before = alice.provider.http.requests_sent
    idle = await alice.sync()
    assert alice.provider.http.requests_sent - before == 1
    assert not idle.changed and not idle.full


async def test_client_reply_after_a_staff_reply_restarts_the_clock(
    backend: Backend, alice: TriageService
) -> None:
    client_then_staff(backend, "Broken widget", "wile@acme.test", at=90, staff_at=80)
    await alice.sync()
    [conv] = alice.conversations()
    assert not conv.waiting and list(alice.queue_view()) == []

    backend.deliver(
        "Wile Coyote", "wile@acme.test", "Re: Broken widget", "Still broken.",
        in_reply_to="broken-widget.q@acme.test.answer",
        references=["broken-widget.q@acme.test", "broken-widget.q@acme.test.answer"],
        at=ago(backend, 20),
    )  # fmt: skip
    await alice.sync()

    [again] = list(alice.queue_view())
    assert again.thread_id == conv.thread_id and again.message_count == 3
    assert again.clock_start == ago(backend, 20)
    assert again.deadline == ago(backend, 20) + HOUR


async def test_staff_reply_stops_the_clock_and_is_sent_once(
    backend: Backend, alice: TriageService
) -> None:
    backend.deliver("Wile Coyote", "wile@acme.test", "Launch date", "When do we launch?",
                    message_id="launch.q@acme.test", at=ago(backend, 30))  # fmt: skip
    await alice.sync()
    [conv] = list(alice.queue_view())

    draft = alice.save_draft(conv.thread_id, "We launch on Monday.\n")
    sent = await alice.send_reply(draft.id)

    assert sent.status == "sent" and list(alice.queue_view()) == []
    view = await alice.thread(conv.thread_id)  # before any sync: the reply is already shown
    assert [m.body.strip() for m in view.messages][-1] == "We launch on Monday."
    await alice.sync()  # the server's copy confirms it; the outbox lets go
    assert list(alice.queue_view()) == [] and alice.status().outbox_count == 0
    [mine] = [c for c in alice.conversations() if c.thread_id == conv.thread_id]
    assert not mine.waiting and mine.message_count == 2
    found = await alice.provider.find_sent(sent.message_id)
    assert found is not None and found.state == "sent"  # filed in Sent, not left in Drafts
    [out] = backend.sent()
    assert out.message_id == sent.message_id.strip("<>")
    assert out.subject == "Re: Launch date" and out.to == ("wile@acme.test",)
    assert (out.from_name, out.from_email) == ("Alice Martin", backend.manager_email("alice"))
    assert out.in_reply_to == "launch.q@acme.test"
    assert out.references == ("launch.q@acme.test",)
    assert out.body.strip() == "We launch on Monday."


async def test_shared_state_written_by_one_console_is_seen_by_another(
    backend: Backend, alice: TriageService, bob: TriageService, tmp_path: Path
) -> None:
    backend.deliver("Wile Coyote", "wile@acme.test", "Budget overrun", "Explain.",
                    at=ago(backend, 30))  # fmt: skip
    await alice.sync()
    await bob.sync()
    [conv] = list(alice.queue_view())
    tid = conv.thread_id

    await alice.escalate(tid, "client threatens to leave")
    await bob.sync()
    [seen] = list(bob.queue_view())  # the note filed with the reason is not a reply
    assert seen.thread_id == tid and seen.waiting and seen.message_count == 1
    assert (seen.escalated, seen.escalation_reason, seen.escalated_by) == (
        True, "client threatens to leave", "alice")  # fmt: skip
    assert [c.thread_id for c in bob.escalations()] == [tid]

    await alice.reassign(tid, "bob", "workload", account=False)
    ceo = backend.service(tmp_path, "ceo")  # acknowledging is the CEO's
    try:
        await ceo.sync()
        await ceo.acknowledge(tid)
    finally:
        await ceo.close()
    await bob.sync()
    [seen] = list(bob.queue_view())
    assert seen.owner == "bob" and seen.acknowledged and seen.waiting
    assert bob.escalations() == []
    view = await bob.thread(tid)
    assert [m.sender for m in view.messages] == ["wile@acme.test"]
    assert any("escalated: client threatens to leave" in h for h in view.history)
    assert any("reassigned to Bob Okafor: workload" in h for h in view.history)
    assert any("CEO acknowledged the escalation" in h for h in view.history)


async def test_account_reassignment_routes_the_clients_new_conversations(
    backend: Backend, alice: TriageService, bob: TriageService, tmp_path: Path
) -> None:
    backend.deliver("Wile Coyote", "wile@acme.test", "Rebrand", "New logo?", at=ago(backend, 40))
    await alice.sync()
    await bob.sync()
    [conv] = list(alice.queue_view())
    assert conv.owner == "alice"

    await alice.reassign(conv.thread_id, "bob", "client asked for someone else", account=True)
    backend.deliver("Road Runner", "rr@acme.test", "Speed test", "Beep beep.", at=ago(backend, 10))
    backend.deliver("Hank Scorpio", "hank@globex.test", "Hammocks", "Any news?",
                    at=ago(backend, 5))  # fmt: skip
    await bob.sync()

    owners = {c.subject: c.owner for c in list(bob.queue_view())}
    assert owners == {"Rebrand": "bob", "Speed test": "bob", "Hammocks": "bob"}
    fresh = backend.service(tmp_path / "fresh", "bob")  # a new console: full sync only
    try:
        await fresh.sync()
        assert {c.subject: c.owner for c in list(fresh.queue_view())} == owners
    finally:
        await fresh.close()


async def test_cannot_calculate_changes_means_a_full_resync_with_the_same_queue(
    backend: Backend, alice: TriageService
) -> None:
    backend.deliver("Wile Coyote", "wile@acme.test", "Rocket sled", "Brakes?", at=ago(backend, 45))
    backend.deliver("Hank Scorpio", "hank@globex.test", "Laser", "Aim?", at=ago(backend, 25))
    await alice.sync()
    await alice.escalate(alice.queue_view()[0].thread_id, "third time asking")
    await alice.sync()
    before = [(c.thread_id, c.deadline, c.owner, c.escalated) for c in list(alice.queue_view())]

    backend.break_state(alice)
    result = await alice.sync()

    assert result.full and result.removed == ()
    assert [
        (c.thread_id, c.deadline, c.owner, c.escalated) for c in list(alice.queue_view())
    ] == before
    backend.deliver("Wile Coyote", "wile@acme.test", "Tunnel paint", "Black?", at=ago(backend, 5))
    after = await alice.sync()
    assert not after.full and len(after.added) == 1


@pytest.mark.parametrize("how", ["garbled", "future"])
async def test_an_unknown_sync_state_means_a_full_resync(
    backend: Backend, alice: TriageService, how: str
) -> None:
    """A garbled state, or one the server never gave (from its future: a server restored
    from backup), each in the provider's own form of state."""
    backend.deliver("Wile Coyote", "wile@acme.test", "Dynamite", "Fuse?", at=ago(backend, 15))
    await alice.sync()
    account = alice.provider.account_id
    state = alice.cache.sync_state(account)
    assert state is not None
    stale = backend.stale_state(state.state, how)
    alice.cache.apply_sync(account, [], [], dataclasses.replace(state, state=stale))

    result = await alice.sync()

    assert result.full and [c.subject for c in list(alice.queue_view())] == ["Dynamite"]


async def test_ceo_in_copy_is_an_escalation(backend: Backend, alice: TriageService) -> None:
    backend.deliver("Wile Coyote", "wile@acme.test", "Going over your head", "Call me.",
                    cc=[CEO], at=ago(backend, 10))  # fmt: skip
    backend.deliver("Hank Scorpio", "hank@globex.test", "Routine", "FYI.", at=ago(backend, 10))
    await alice.sync()

    convs = by_subject(alice.conversations())
    assert convs["Going over your head"].ceo_contacted
    assert not convs["Routine"].ceo_contacted
    [esc] = alice.escalations()
    assert esc.subject == "Going over your head"
    assert esc.escalation_reason == "client wrote to the CEO"


async def test_a_client_asking_for_another_manager_is_marked_from_the_sync_alone(
    backend: Backend, alice: TriageService
) -> None:
    """Sync reads no body: the provider's preview (JMAP preview, Graph bodyPreview, Gmail
    snippet) carries the words; a request only in the quoted part is not one. (Cyrus cuts
    its previews at 64 bytes by default, `jmap_preview_length`: the request comes first.)"""
    backend.deliver(
        "Wile Coyote",
        "wile@acme.test",
        "Again",
        "Can I speak to a different account manager? Third miss this month.",
        at=ago(backend, 10),
    )
    backend.deliver(
        "Hank Scorpio",
        "hank@globex.test",
        "Thanks",
        "All good, thanks!\n\nOn Mon, Wile wrote:\n> I want someone else",
        at=ago(backend, 10),
    )
    await alice.sync()

    convs = by_subject(alice.conversations())
    assert convs["Again"].asked_new_manager
    assert not convs["Thanks"].asked_new_manager


async def test_html_only_mail_reads_as_text(backend: Backend, alice: TriageService) -> None:
    html = (
        "<html><body><p>Hi <b>team</b>,</p><p>The new navy is "
        "<code>#1B2A4A</code>.</p><img src='https://track.example/p.gif'></body></html>"
    )
    backend.deliver("Wile Coyote", "wile@acme.test", "Brand colours", html, html=True,
                    at=ago(backend, 10))  # fmt: skip
    await alice.sync()
    [conv] = list(alice.queue_view())

    [msg] = (await alice.thread(conv.thread_id)).messages

    assert "Hi team," in msg.body and "#1B2A4A" in msg.body
    assert "<" not in msg.body and "track.example" not in msg.body


async def test_thread_view_lists_messages_oldest_first_with_bodies(
    backend: Backend, alice: TriageService
) -> None:
    client_then_staff(backend, "Signage", "wile@acme.test", at=90, staff_at=80)
    backend.deliver(
        "Wile Coyote", "wile@acme.test", "Re: Signage", "A follow-up.",
        in_reply_to="signage.q@acme.test.answer",
        references=["signage.q@acme.test", "signage.q@acme.test.answer"], at=ago(backend, 20),
    )  # fmt: skip
    await alice.sync()
    [conv] = list(alice.queue_view())

    view = await alice.thread(conv.thread_id)

    assert not view.offline
    assert [m.body.strip() for m in view.messages] == ["A question.", "An answer.",
                                                       "A follow-up."]  # fmt: skip
    assert [m.received_at for m in view.messages] == [ago(backend, 90), ago(backend, 80),
                                                      ago(backend, 20)]  # fmt: skip
    assert [m.sender for m in view.messages] == [
        "wile@acme.test", backend.manager_email("bob"), "wile@acme.test"]  # fmt: skip
