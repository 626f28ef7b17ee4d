"""The Report screen's charts: attainment bars per group, and the daily trend.

Both are textual-plotext bar charts drawn in full blocks, so they read without colour
(the monochrome theme draws them with no colour at all), with the figure in each
label: `AttainmentChart` one bar per group, `Trend` one bar per day. Group names are manager
names and region labels from the config, made inert (`safe_plain`) before they reach
the chart; plotext's own output is only what plotext draws around them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from textual_plotext import PlotextPlot

from triage.domain.report import Day
from triage.text.datefmt import day_month, weekday_day
from triage.text.i18n import _, ngettext
from triage.ui.text import safe_plain
from triage.ui.themes import MONO_THEME

LABEL_WIDTH = 16


def share(value: object) -> str:
    """An attainment as a percentage ("-" when there was no reply)."""
    return f"{value:.0%}" if isinstance(value, int | float) else "-"


class Chart(PlotextPlot):
    """A plotext chart that follows the console's theme (none at all for mono)."""

    def on_mount(self) -> None:
        super().on_mount()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._match_theme())
        self._match_theme()

    def _match_theme(self) -> None:
        # "clear": no colour at all, for the theme made for monochrome screens.
        self.theme = "clear" if self.app.theme == MONO_THEME else "auto"


class AttainmentChart(Chart):
    """Replies within target, as a share of replies, per group: one bar each."""

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title = title

    def show(self, rows: Sequence[Mapping[str, Any]]) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        shown = list(reversed(rows))  # plotext draws the first bar at the bottom
        labels = [f"{safe_plain(str(r['group']), LABEL_WIDTH)} {share(r['attainment'])}"
                  for r in shown]  # fmt: skip
        values = [100 * float(r["attainment"] or 0) for r in shown]
        if labels:
            plt.bar(labels, values, orientation="horizontal", width=1 / 5, marker="█")
        plt.xlim(0, 100)
        plt.xticks([0, 50, 100], ["0%", "50%", "100%"])
        plt.title(self.title)
        self.refresh()


class Trend(Chart):
    """Each day's attainment (UTC days), one bar a day; a day without replies is empty."""

    def show(self, days: Sequence[Day]) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        if days:
            xs = list(range(len(days)))
            plt.bar(xs, [100 * (d.attainment or 0) for d in days], width=3 / 5, marker="█")
            step = max(1, len(days) // 7)
            picked = xs[::step]
            names = [weekday_day(days[i].day) if step == 1 else day_month(days[i].day)
                     for i in picked]  # fmt: skip
            plt.xticks([float(i) for i in picked], names)
        plt.ylim(0, 100)
        plt.yticks([0, 50, 100], ["0%", "50%", "100%"])
        replies, late = sum(d.replies for d in days), sum(d.late for d in days)
        plt.title(_("On time, day by day (UTC): {replies}, {late}").format(
            replies=ngettext("{n} reply", "{n} replies", replies).format(n=replies),
            late=ngettext("{n} late", "{n} late", late).format(n=late),
        ))  # fmt: skip
        self.refresh()
