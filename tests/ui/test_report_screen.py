"""The Report screen: opened with P (and from the palette), computing in a worker with a
"computing…" and an error state, its panes, period and group keys, the breach list that
opens a conversation, and the CSV export."""

from __future__ import annotations

import asyncio
import csv
from datetime import timedelta
from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Static

from tests.support import fake_report
from tests.support.fake_service import FakeService
from tests.ui.conftest import NotingApp, settle
from tests.ui.test_bursts import burst
from triage.providers.base import ProviderError
from triage.ui.commands import TriageCommands
from triage.ui.screens.report import ReportScreen
from triage.ui.screens.thread import ThreadScreen

SIZE = (120, 36)


def said(screen: ReportScreen, widget_id: str) -> str:
    return str(screen.query_one(widget_id, Static).render())


def cells(table: DataTable[object]) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_p_opens_the_report_which_says_computing_until_the_worker_ends() -> None:
    service = FakeService(user="ceo")
    service.report_gate = asyncio.Event()
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        burst(app, "P")
        for _ in range(5):
            await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReportScreen)
        assert "Computing the report" in said(screen, "#report-state")
        assert screen.query_one("#figures", DataTable).row_count == 0
        service.report_gate.set()
        await settle(pilot)
        assert "29 replies, 83% on time · 3 breaches · 1 asked" in said(screen, "#report-state")
        start, end = service.report_periods[-1]
        assert end == service.now() and end - start == timedelta(days=7)


async def test_an_offline_provider_is_said_and_ctrl_r_tries_again() -> None:
    service = FakeService(user="ceo")
    service.fail_next(ProviderError("cannot reach the provider"), only="report_detail")
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, "P")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReportScreen)
        state = said(screen, "#report-state")
        assert "Could not compute the report: cannot reach the provider" in state
        assert "ctrl+r tries again" in state
        burst(app, "ctrl+r")
        await settle(pilot)
        assert "29 replies" in said(screen, "#report-state")


async def test_panes_period_and_group_keys() -> None:
    service = FakeService(user="ceo")
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, "P", "t")  # one burst: the report opens, then its next pane
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReportScreen) and screen.pane == "figures"
        figures = screen.query_one("#figures", DataTable)
        rows = cells(figures)
        assert rows[0][:4] == ["Alice Martin", "14", "11", "79%"] and rows[0][-1] == "1"
        burst(app, "g")
        await settle(pilot)
        assert [r[0] for r in cells(figures)] == ["Ontario", "Québec", "US East", "US West"]
        assert "by region" in said(screen, "#report-head")
        burst(app, "p")
        await settle(pilot)
        start, end = service.report_periods[-1]
        assert end - start == timedelta(days=30) and "Last 30 days" in said(screen, "#report-head")
        burst(app, "p")
        await settle(pilot)
        assert service.report_periods[-1][1] - service.report_periods[-1][0] == timedelta(days=7)


async def test_enter_on_a_breach_opens_its_conversation() -> None:
    service = FakeService(user="ceo")
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, "P", "t", "t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReportScreen) and screen.pane == "breaches"
        breaches = screen.query_one("#breaches", DataTable)
        first = cells(breaches)[0]
        assert first[1] == "0:35" and first[3] == "Kestrel Air"  # replied 35 minutes late
        assert cells(breaches)[1][1].endswith("waiting")
        burst(app, "j", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ThreadScreen) and app.screen.thread_id == "t02"
        burst(app, "escape")
        await settle(pilot)
        assert app.screen is screen


async def test_c_writes_the_figures_as_csv_and_says_where(tmp_path: Path) -> None:
    service = FakeService(user="ceo")
    service.export_dir = tmp_path
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, "P", "g", "c")
        await settle(pilot)
        path = tmp_path / "report-by-region.csv"
        assert any(str(path) in n and "written to" in n for n in app.notes), app.notes
        with path.open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert [r["group"] for r in rows] == ["Ontario", "Québec", "US East", "US West"]
        assert rows[2]["asked_new_manager"] == "1"


async def test_the_palette_offers_the_report_and_its_keys() -> None:
    service = FakeService(user="ceo")
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        queue_titles = [t for t, _h, _c in TriageCommands(app.screen).commands()]
        assert "Report" in queue_titles
        burst(app, "P")
        await settle(pilot)
        titles = [t for t, _h, _c in TriageCommands(app.screen).commands()]
        assert {"Report: next pane", "Report: 7 / 30 days", "Report: group by",
                "Report: export CSV"} <= set(titles)  # fmt: skip


async def test_too_small_for_charts_shows_a_table() -> None:
    service = FakeService(user="ceo")
    app = NotingApp(service)
    async with app.run_test(size=(60, 18)) as pilot:
        await settle(pilot)
        burst(app, "P")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReportScreen) and screen.has_class("-small")
        table = screen.query_one("#chart-table", DataTable)
        assert table.display and not screen.query_one("#bars").display
        assert cells(table)[0] == ["manager: Alice Martin", "14", "79%"]
        await pilot.resize_terminal(120, 36)
        await settle(pilot)
        assert not screen.has_class("-small")


async def test_more_groups_than_lines_for_bars_shows_a_table(monkeypatch: Any) -> None:
    """Twelve regions cannot have a line each at 80x24: a table, never merged bars."""
    many = [fake_report._row(f"Region {i}", 2, 1, 30.0, 40.0, 1) for i in range(12)]
    monkeypatch.setitem(fake_report.GROUPS, "region", many)
    app = NotingApp(FakeService(user="ceo"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst(app, "P")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReportScreen) and screen.has_class("-small")
        await pilot.resize_terminal(120, 36)
        await settle(pilot)
        assert not screen.has_class("-small")
        assert screen.query_one("#bars").size.height == 12 + 4
