"""SVG snapshots of every screen in French, default and monochrome themes, at 80x24.

French labels run about a fifth longer than English ones: these pictures are where
a label that no longer fits, a footer that loses its help key or a column cut too
short shows. The same frozen clock, fake service and pinned zone as the English
snapshots. Regenerate with `pytest tests/ui/test_snapshots_french.py --snapshot-update`.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Iterator
from datetime import time, timedelta
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.support.fake_service import FakeService
from tests.ui.conftest import report_shown, settle
from tests.ui.test_snapshots_dialogs import SnapApp
from tests.ui.test_snapshots_dialogs import settle as settle_dialog
from triage.domain.templates import Template
from triage.text.i18n import set_language
from triage.ui.app import TriageApp
from triage.ui.keys import retranslate
from triage.ui.themes import DEFAULT_THEME, MONO_THEME
from triage.ui.widgets.queue_table import QueueTable

SIZE = (80, 24)
THEMES = [DEFAULT_THEME, MONO_THEME]


@pytest.fixture(autouse=True)
def french() -> Iterator[None]:
    set_language("fr")
    retranslate()
    yield
    set_language("en")
    retranslate()


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("which", ["thread", "reply", "escalate", "reassign", "done", "snooze"])
def test_conversation_screens(snap_compare: Any, which: str, theme: str) -> None:
    assert snap_compare(SnapApp(which, theme), terminal_size=SIZE, run_before=settle_dialog)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("view", ["queue", "escalations"])
def test_tables(snap_compare: Any, view: str, theme: str) -> None:
    app = TriageApp(FakeService(), theme=theme, start_view=view)

    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("j")

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("view", ["snoozed", "done"])
def test_workflow_views(snap_compare: Any, view: str, theme: str) -> None:
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

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize(
    "keys", ["question_mark", "ctrl+p", "H"], ids=["help", "palette", "handoff"]
)
def test_help_palette_and_handoff(snap_compare: Any, keys: str, theme: str) -> None:
    from tests.ui.test_handoff import on_shift_until

    service = FakeService()
    on_shift_until(service, time(11, 20))
    app = TriageApp(service, theme=theme)

    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        app.tell_alerts(service.now())
        await pilot.press(keys)
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


@pytest.mark.parametrize("theme", THEMES)
def test_template_picker(snap_compare: Any, theme: str) -> None:
    service = FakeService()
    templates = {
        "recu": Template("recu", "Bonjour {client_first_name}, bien reçu.", "Bien reçu", "fr"),
        "received": Template("received", "Hi {client_first_name}, got it.", "Received", "en"),
    }
    service.config = dataclasses.replace(service.config, templates=templates)
    app = TriageApp(service, theme=theme)

    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        assert app.screen.query_one(QueueTable).move_to("t03")  # Alice's own: no question
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("pane", ["breaches"])
def test_report(snap_compare: Any, pane: str, theme: str) -> None:
    app = TriageApp(FakeService(user="ceo"), theme=theme)

    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("P")
        await report_shown(pilot)
        if pane == "breaches":
            await pilot.press("t", "t")
            await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


@pytest.mark.parametrize("theme", THEMES)
def test_away_dialog(snap_compare: Any, theme: str) -> None:
    app = TriageApp(FakeService(), theme=theme)

    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("A", *"3j à bob")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


@pytest.mark.parametrize("theme", THEMES)
async def test_the_report_charts_read_french_and_fit_80x24(theme: str) -> None:
    """Not a snapshot: after some other tests in the same process, plotext placed the
    trend's French day labels two cells apart from a fresh process (same text, same
    bars; the cause is not found), so the pane is checked by what it says."""
    app = TriageApp(FakeService(user="ceo"), theme=theme)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("P")
        await report_shown(pilot)
        lines = screen_lines(app.export_screenshot())
    shown = "\n".join(lines)
    for words in ("À temps, gestionnaires", "À temps, régions", "jour par jour", "lun. 10",
                  "mar. 11", "Graphiques", "réponses"):  # fmt: skip
        assert words in shown, words
    assert "On time" not in shown and "replies" not in shown  # nothing left in English
    assert all(len(line) <= SIZE[0] for line in lines)  # nothing drawn past 80 cells


def screen_lines(svg: str) -> list[str]:
    """The text of a screenshot, a line per screen row."""
    rows: dict[float, list[tuple[float, str]]] = {}
    for m in re.finditer(r'<text[^>]* x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        rows.setdefault(float(m[2]), []).append((float(m[1]), html.unescape(m[3])))
    cell = 12.2  # the width of a cell in Textual's screenshots
    out = []
    for y in sorted(rows):
        line = ""
        for x, text in sorted(rows[y]):
            line = line.ljust(round(x / cell)) + text
        out.append(line.replace("\xa0", " ").rstrip())
    return out
