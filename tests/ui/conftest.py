"""Fixtures for Pilot tests: a FakeService on a frozen clock, UTC, stand-in screens.

The console's clock column uses the machine's time zone: pinned to UTC here so
snapshots and assertions do not depend on where the tests run.
"""

from __future__ import annotations

import asyncio
import sys
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from textual.app import ComposeResult
from textual.pilot import Pilot
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tests.support.fake_service import FakeService
from triage.ui.app import TriageApp
from triage.ui.screens.dialogs.reassign import ReassignChoice


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("NO_COLOR", raising=False)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def service() -> FakeService:
    return FakeService()


async def settle(pilot: Pilot[None]) -> None:
    """Let messages, screen pushes and action workers finish (never the sync loop)."""
    app = pilot.app
    for _ in range(2):
        await pilot.pause()
        # An empty list would mean "all workers", and the sync loop never ends.
        busy = [w for w in app.workers if w.group != "sync" and not w.is_finished]
        if busy:
            await app.workers.wait_for_complete(busy)
    await pilot.pause()


async def wait_until(
    pilot: Pilot[None], condition: Callable[[], object], *, timeout: float = 10.0
) -> None:
    """Let the app run (messages, workers, real timers) until `condition` holds.

    For what only real time brings about (a debounce timer, the sync loop): wait for
    the effect itself, never for a fixed time; `timeout` only ends a test that would hang."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout
    while not condition():
        assert loop.time() < give_up, "the condition never held"
        await pilot.pause(0.01)


async def confirm_if_asked(pilot: Pilot[None]) -> None:
    """Say yes when the console asks first (a reply on a colleague's conversation)."""
    from triage.ui.screens.dialogs.confirm import Confirm

    await pilot.pause()
    if isinstance(pilot.app.screen, Confirm):
        await pilot.press("y")
        await pilot.pause()


def make_app(service: FakeService, **kwargs: object) -> TriageApp:
    return TriageApp(service, **kwargs)  # type: ignore[arg-type]


class StandIn(Screen[None]):
    """Stands for a screen another module owns; records how it was built."""

    def __init__(self, service: object, thread_id: str, **options: object) -> None:
        super().__init__()
        self.service = service
        self.thread_id = thread_id
        self.options = options  # the thread view's user_zone, ...

    def compose(self) -> ComposeResult:
        yield Static(type(self).__name__)


class ThreadStandIn(StandIn):
    pass


class ReplyStandIn(StandIn):
    pass


class EscalateStandIn(ModalScreen[str | None]):
    def __init__(self, service: object, thread_id: str) -> None:
        super().__init__()
        self.thread_id = thread_id

    def compose(self) -> ComposeResult:
        yield Static("escalate?")


class ReassignStandIn(ModalScreen[ReassignChoice | None]):
    def __init__(self, service: object, thread_id: str) -> None:
        super().__init__()
        self.thread_id = thread_id

    def compose(self) -> ComposeResult:
        yield Static("reassign?")


@pytest.fixture
def stand_ins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace the thread/reply/escalate/reassign screens by recorders."""
    for name, cls, attr in (
        ("thread", ThreadStandIn, "ThreadScreen"),
        ("reply", ReplyStandIn, "ReplyScreen"),
        ("dialogs.escalate", EscalateStandIn, "EscalateScreen"),
        ("dialogs.reassign", ReassignStandIn, "ReassignScreen"),
    ):
        module = types.ModuleType(f"triage.ui.screens.{name}")
        setattr(module, attr, cls)
        monkeypatch.setitem(sys.modules, module.__name__, module)


async def report_shown(pilot: Pilot[None]) -> None:
    """The Report screen computed and its charts laid out and drawn (under load a chart
    can be drawn once before its size is final: wait for the size, then settle)."""
    from triage.ui.widgets.report_charts import Chart

    screen = pilot.app.screen
    await wait_until(pilot, lambda: getattr(screen, "state", "") == "ready")
    await settle(pilot)
    await wait_until(pilot, lambda: all(c.size.area for c in screen.query(Chart)))
    await settle(pilot)


class NotingApp(TriageApp):
    """The console, keeping every notification text so a test can read what was said."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notes: list[str] = []

    def notify(self, message: str, **kwargs: Any) -> None:  # type: ignore[override]
        self.notes.append(message)
        super().notify(message, **kwargs)
