"""The console under measurement: TriageApp headless, with the sync loop parked.

The app's sync worker would otherwise race the benchmark for the provider;
`ParkedSync` hands the app the real service but makes its own sync rounds wait
forever, and the benchmark runs `TriageService.sync()` itself when a figure
needs one. `count_render_lines` counts `QueueTable.render_line` calls, the
proof that a re-order repaints only the rows on screen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from textual.pilot import Pilot

from triage.service.core import TriageService
from triage.ui.app import TriageApp
from triage.ui.widgets.queue_table import QueueTable

SIZE = (160, 52)  # the notes' terminal: about 48 queue rows on screen


class ParkedSync:
    """The service as the app sees it, except that the app's own syncs never run."""

    def __init__(self, service: TriageService) -> None:
        self._service = service

    def __getattr__(self, name: str) -> Any:
        return getattr(self._service, name)

    async def sync(self) -> Any:
        await asyncio.Event().wait()  # parked: the benchmark syncs by itself

    async def wait_for_changes(self, timeout: float) -> None:
        await asyncio.Event().wait()


def make_app(service: TriageService) -> TriageApp:
    return TriageApp(ParkedSync(service))  # type: ignore[arg-type]


def table_of(app: TriageApp) -> QueueTable:
    return app.screen.query_one(QueueTable)


async def until_painted(pilot: Pilot[None], *, limit_s: float = 120.0) -> QueueTable:
    """Wait until the queue table has built its visible rows (its first paint)."""
    deadline = time.monotonic() + limit_s
    while True:
        try:
            table = table_of(pilot.app)  # type: ignore[arg-type]
        except Exception:  # the queue screen is not mounted yet
            table = None
        if table is not None and (table.renders > 0 or not table.rows):
            return table
        if time.monotonic() > deadline:
            raise TimeoutError("the queue table never painted")
        await asyncio.sleep(0)


class RenderCounter:
    """How many times `QueueTable.render_line` ran (all tables, this process)."""

    calls = 0


@contextmanager
def count_render_lines() -> Iterator[type[RenderCounter]]:
    original = QueueTable.render_line

    def counting(self: QueueTable, y: int) -> Any:
        RenderCounter.calls += 1
        return original(self, y)

    QueueTable.render_line = counting  # type: ignore[method-assign]
    try:
        yield RenderCounter
    finally:
        QueueTable.render_line = original  # type: ignore[method-assign]
