"""The console on `kind = "gmail"`: the real service and Gmail provider, over the Gmail fake.

The keys a manager presses (open, reply, escalate) land in the fake's mailbox as
Gmail would hold them: the reply sent in the client's thread, the escalation as
the `triage/escalated` label on the thread's messages with its note filed there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.contract.conftest import DEMO_NOW
from tests.contract.gmail_backend import GmailBackend
from tests.ui.conftest import confirm_if_asked
from tests.ui.test_demo_console import go_to, ids, settle, synced
from triage.clock import FrozenClock
from triage.domain import history
from triage.service.core import TriageService
from triage.ui.app import TriageApp
from triage.ui.screens.dialogs.escalate import EscalateScreen
from triage.ui.screens.queue import QueueScreen
from triage.ui.screens.reply import ReplyScreen
from triage.ui.screens.thread import ThreadScreen

SIZE = (120, 30)


@pytest.fixture
def backend() -> GmailBackend:
    b = GmailBackend(FrozenClock(DEMO_NOW))
    for subject, minutes in (("Rocket sled", 40), ("Anvil order", 20)):
        b.deliver("Wile Coyote", "wile@acme.test", subject, f"About the {subject.lower()}.",
                  message_id=f"{subject.split()[0].lower()}@acme.test",
                  at=DEMO_NOW - timedelta(minutes=minutes))  # fmt: skip
    return b


@pytest.fixture
async def service(backend: GmailBackend, tmp_path: Path) -> AsyncIterator[TriageService]:
    svc = backend.service(tmp_path, "alice")
    # Replies go at once here (the undo delay is the console's own, tested on the demo).
    svc.config = dataclasses.replace(svc.config, undo_send_seconds=0)
    yield svc
    await svc.close()


def thread_named(service: TriageService, subject: str) -> str:
    return next(c.thread_id for c in service.conversations() if c.subject == subject)


async def test_open_reply_and_escalate_by_keys(
    backend: GmailBackend, service: TriageService
) -> None:
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await synced(pilot)
        sled, anvil = thread_named(service, "Rocket sled"), thread_named(service, "Anvil order")
        assert ids(app) == [sled, anvil]
        await go_to(pilot, sled)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ThreadScreen) and app.screen.view is not None
        assert [m.body.strip() for m in app.screen.view.messages] == ["About the rocket sled."]
        await pilot.press("escape")
        await settle(pilot)

        await go_to(pilot, sled)
        await pilot.press("r")
        await confirm_if_asked(pilot)
        await settle(pilot)
        assert isinstance(app.screen, ReplyScreen)
        await pilot.press(*"Brakes ship today.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen) and sled not in ids(app)
        [sent] = backend.sent()
        assert (sent.subject, sent.in_reply_to) == ("Re: Rocket sled", "rocket@acme.test")

        await go_to(pilot, anvil)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, EscalateScreen)
        await pilot.press("3", "enter")
        await settle(pilot)

    store = backend.fake.store
    [escalated] = [i for i, x in store.labels.items() if x["name"] == "triage/escalated"]
    [notes_label] = [i for i, x in store.labels.items() if x["name"] == "Triage Notes"]
    msgs = store.thread_messages(anvil)
    mail = [m for m in msgs if notes_label not in m.labels]
    assert all(escalated in m.labels for m in mail)
    [note] = [m for m in msgs if notes_label in m.labels]
    body = note.parsed.get_body().get_content()  # type: ignore[attr-defined]
    decoded = history.decode(body)
    assert decoded is not None and (decoded.action, decoded.reason) == (
        "escalate",
        "client unhappy",
    )
    [reply] = [m for m in store.messages.values() if "SENT" in m.labels]
    assert reply.thread_id == sled
