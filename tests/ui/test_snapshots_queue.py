"""SVG snapshots of the queue and the escalation pane, default and monochrome themes.

At 80x24 (the SSH case: columns dropped, never the countdown, state or client)
and 120x36. Deterministic: the FakeService's frozen clock, UTC pinned by the
conftest, no focused Input (no cursor blink), workers waited on.
Regenerate with `pytest tests/ui/test_snapshots_queue.py --snapshot-update`.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.support.fake_service import FakeService
from tests.ui.conftest import settle
from triage.ui.app import TriageApp
from triage.ui.themes import DEFAULT_THEME, MONO_THEME

SIZES = [(80, 24), (120, 36)]
THEMES = [DEFAULT_THEME, MONO_THEME]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("view", ["queue", "escalations"])
def test_snapshot(snap_compare: Any, view: str, theme: str, size: tuple[int, int]) -> None:
    app = TriageApp(FakeService(), theme=theme, start_view=view)

    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("j")  # the cursor on the second row, to show both row styles

    assert snap_compare(app, terminal_size=size, run_before=ready)


def test_snapshot_filtered_queue(snap_compare: Any) -> None:
    """The active filter is shown in the status bar, and an empty result says so."""
    app = TriageApp(FakeService(), theme=DEFAULT_THEME)

    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("m", "g")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("view", ["snoozed", "done"])
def test_snapshot_workflow_view(snap_compare: Any, view: str, theme: str,
                                size: tuple[int, int]) -> None:  # fmt: skip
    """The snoozed view (wake times) and the done view, with the status bar's snoozed count."""
    service = FakeService()
    app = TriageApp(service, theme=theme)

    async def ready(pilot: Pilot[None]) -> None:
        now = service.now()
        await service.snooze("t06", now + timedelta(hours=1))
        await service.snooze("t09", now + timedelta(days=1))
        await service.done("t05", "out of office")
        await service.done("t08", "thanks / no question")
        await settle(pilot)
        await pilot.press("2" if view == "snoozed" else "3")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("theme", THEMES)
def test_snapshot_handoff(snap_compare: Any, theme: str, size: tuple[int, int]) -> None:
    """The handoff view: what comes due before the next shift, and who can take it."""
    from tests.ui.test_handoff import on_shift_until

    service = FakeService()
    on_shift_until(service, time(11, 20))
    app = TriageApp(service, theme=theme)

    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        # The offer toast comes with the first look at the clock: have it now, so the
        # picture does not depend on whether the one-second tick came first.
        app.tell_alerts(service.now())
        await pilot.press("H")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=ready)
