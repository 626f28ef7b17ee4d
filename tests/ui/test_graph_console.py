"""Pilot tests of the console on Microsoft 365: `TriageApp` over the real service and
Graph provider, talking to the in-repo Graph fake (built from Microsoft's
documentation, not a live tenant) through its transport.

Each key path checks the screen and the shared mailbox: categories on the messages,
notes in the notes folder, what was sent. A second console (bob's, his own sign-in)
sees alice's escalation.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.contract.graph_backend import SHARED, GraphBackend
from tests.support.graph_fake.store import FakeMessage
from tests.ui.conftest import confirm_if_asked
from tests.ui.test_demo_console import (
    escalate_by_keys,
    go_to,
    ids,
    row_text,
    settle,
    synced,
    table,
)
from triage.clock import FrozenClock
from triage.service.core import TriageService
from triage.ui.app import TriageApp
from triage.ui.screens.dialogs.reassign import ReassignScreen
from triage.ui.screens.escalations import EscalationsScreen
from triage.ui.screens.queue import QueueScreen
from triage.ui.screens.reply import ReplyScreen

T = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
SIZE = (120, 40)


@pytest.fixture
def backend(tmp_path: Path) -> GraphBackend:
    backend = GraphBackend(FrozenClock(T), tmp_path / "server")
    mail = [("Wile Coyote", "wile@acme.test", "Rocket fuel invoice", 50),
            ("Wile Coyote", "wile@acme.test", "Anvil recall", 30),
            ("Hank Scorpio", "hank@globex.test", "Volcano lair", 10)]  # fmt: skip
    for name, sender, subject, minutes in mail:
        backend.deliver(name, sender, subject, "Well?", at=T - timedelta(minutes=minutes))
    return backend


@pytest.fixture
async def service(backend: GraphBackend, tmp_path: Path) -> AsyncIterator[TriageService]:
    service = backend.service(tmp_path, "alice")
    # Replies go at once here (the undo delay is the console's own, tested on the demo).
    service.config = dataclasses.replace(service.config, undo_send_seconds=0)
    yield service
    await service.close()


def messages(backend: GraphBackend, subject: str) -> list[FakeMessage]:
    box = backend.fake.mailboxes[SHARED]
    return [m for m in box.messages.values() if m.subject == subject]


def notes(backend: GraphBackend) -> list[dict[str, Any]]:
    box = backend.fake.mailboxes[SHARED]
    return [json.loads(m.body) for m in box.messages.values() if "triage-note" in m.categories]


def thread_id(service: TriageService, subject: str) -> str:
    [found] = [c.thread_id for c in service.conversations() if c.subject == subject]
    return found


async def test_the_queue_lists_the_shared_mailbox_in_deadline_order(
    service: TriageService,
) -> None:
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await synced(pilot)
        assert isinstance(app.screen, QueueScreen)
        subjects = [c.subject for c in table(app).rows]
        assert subjects == ["Rocket fuel invoice", "Anvil recall", "Volcano lair"]
        assert "Bob" in row_text(app, thread_id(service, "Volcano lair"))


async def test_reply_is_sent_once_in_the_conversation_and_the_row_leaves(
    backend: GraphBackend, service: TriageService
) -> None:
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await synced(pilot)
        anvil = thread_id(service, "Anvil recall")
        await go_to(pilot, anvil)
        await pilot.press("r")
        await confirm_if_asked(pilot)
        await settle(pilot)
        assert isinstance(app.screen, ReplyScreen)
        await pilot.press(*"On its way.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen) and anvil not in ids(app)
        app.sync_now()
        await synced(pilot, app.sync_rounds + 1)
        assert anvil not in ids(app)
    [sent] = backend.fake.sent
    assert (sent.subject, sent.body.strip()) == ("Re: Anvil recall", "On its way.")
    [client] = [m for m in messages(backend, "Anvil recall") if not m.is_draft]
    [reply] = messages(backend, "Re: Anvil recall")
    assert reply.conversation_id == client.conversation_id and reply.folder != client.folder


async def test_escalate_and_reassign_write_categories_and_notes(
    backend: GraphBackend, service: TriageService
) -> None:
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await synced(pilot)
        fuel = thread_id(service, "Rocket fuel invoice")
        await escalate_by_keys(pilot, fuel, "3")  # "client unhappy"
        await go_to(pilot, fuel)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ReassignScreen) and app.screen.manager_id() == "bob"
        await pilot.press("2", "enter")  # "workload"
        await settle(pilot)
        line = row_text(app, fuel)
        assert "ESC" in line and "Bob" in line
    [msg] = messages(backend, "Rocket fuel invoice")
    assert {"triage:escalated", "triage:owner:bob"} <= set(msg.categories)
    assert [(n["action"], n.get("reason")) for n in notes(backend)] == [
        ("escalate", "client unhappy"), ("reassign", "workload")]  # fmt: skip


async def test_a_second_console_sees_the_escalation(
    backend: GraphBackend, service: TriageService, tmp_path: Path
) -> None:
    bob = backend.service(tmp_path, "bob")
    try:
        await bob.sync()
        app = TriageApp(service)
        async with app.run_test(size=SIZE) as pilot:
            await synced(pilot)
            await escalate_by_keys(pilot, thread_id(service, "Volcano lair"), "1")
        pane = TriageApp(bob, start_view="escalations")
        async with pane.run_test(size=SIZE) as pilot:
            await synced(pilot)
            assert isinstance(pane.screen, EscalationsScreen)
            lair = thread_id(bob, "Volcano lair")
            assert ids(pane) == [lair] and "client wrote to" in row_text(pane, lair)
    finally:
        await bob.close()
