"""A thread of 10,000 messages opens as one of ten: ids first, the text of the newest page only.

Timings and memory are the benchmark's to measure (`make bench`); here the shape is
checked: how much is fetched, how much is rendered, and that older pages come on demand.
"""

from __future__ import annotations

from datetime import timedelta

from textual.app import App
from textual.widgets import Static

from tests.resilience.conftest import Rig
from triage.engine.threads import PAGE
from triage.ui.app import TriageApp
from triage.ui.screens.thread import ThreadScreen

MESSAGES = 10_000
BODIES = b'"fetchTextBodyValues"'


def long_thread(rig: Rig) -> str:
    server = rig.demo.server
    start = rig.clock.now() - timedelta(days=30)
    parent = None
    first = ""
    root = "long.0@x"
    for i in range(MESSAGES):
        who = (
            ("Client", "pat@longtalk.example") if i % 2 == 0 else ("Alice", "alice@agency.example")
        )
        mid = f"long.{i}@x"
        eid = server.deliver(who[0], who[1], ["team@agency.example"], "Re: the long one",
                             f"message {i}", start + timedelta(minutes=i), message_id=mid,
                             in_reply_to=parent, references=[root, parent] if parent else None,
                             mailbox="inbox" if i % 2 == 0 else "sent")  # fmt: skip
        parent, first = mid, first or eid
    return server.emails[first].thread_id


async def test_opening_a_huge_thread_fetches_one_page_of_text(rig: Rig) -> None:
    tid = long_thread(rig)
    service = rig.open()
    await service.sync()
    assert rig.transport is not None
    mark = len(rig.transport.seen)
    view = await service.thread(tid)
    assert len(view.messages) == PAGE and view.earlier == MESSAGES - PAGE
    assert [m.body for m in view.messages][-1] == f"message {MESSAGES - 1}"  # newest last
    with_text = [s for s in rig.transport.seen[mark:] if BODIES in s.body]
    assert len(with_text) == 1 and with_text[0].body.count(b'"M') <= PAGE + 5
    more = await service.earlier(view)
    assert len(more.messages) == 2 * PAGE and more.messages[PAGE:] == view.messages
    assert more.messages[0].body == f"message {MESSAGES - 2 * PAGE}"


class OneThread(TriageApp):
    def __init__(self, service: object, thread_id: str) -> None:
        super().__init__(service)  # type: ignore[arg-type]
        self.thread_id = thread_id

    def start_console(self) -> None:
        self.push_screen(ThreadScreen(self.service, self.thread_id))


async def settle(app: App[None], pilot: object) -> None:
    for _ in range(3):
        await pilot.pause()  # type: ignore[attr-defined]
        await app.workers.wait_for_complete()


async def test_the_screen_renders_the_page_and_loads_older_ones_on_o(rig: Rig) -> None:
    tid = long_thread(rig)
    service = rig.open()
    await service.sync()
    app = OneThread(service, tid)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert len(app.screen.query(".message")) == PAGE
        marker = app.screen.query_one("#earlier", Static)
        assert marker.display and f"{MESSAGES - PAGE:,} older messages" in str(marker.content)
        await pilot.press("o")
        await settle(app, pilot)
        assert len(app.screen.query(".message")) == 2 * PAGE
        await pilot.press("end", "home", "end")  # scrolling does not fetch or rebuild
        await settle(app, pilot)
        assert len(app.screen.query(".message")) == 2 * PAGE
