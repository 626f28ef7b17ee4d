"""SVG snapshots of the Report screen: the charts and the breaches, default and mono themes.

At 80x24 (charts still fit, side by side) and 120x36; the FakeService's canned week.
Regenerate with `pytest tests/ui/test_snapshots_report.py --snapshot-update`.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from tests.support.fake_service import FakeService
from tests.ui.conftest import report_shown, settle
from triage.ui.app import TriageApp
from triage.ui.themes import DEFAULT_THEME, MONO_THEME

SIZES = [(80, 24), (120, 36)]
THEMES = [DEFAULT_THEME, MONO_THEME]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("pane", ["charts", "breaches"])
def test_snapshot_report(snap_compare: Any, pane: str, theme: str, size: tuple[int, int]) -> None:
    app = TriageApp(FakeService(user="ceo"), theme=theme)

    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("P")
        await report_shown(pilot)
        if pane == "breaches":
            await pilot.press("t", "t")
            await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=ready)
