"""The Report screen: the CEO's figures over the last 7 or 30 days, from the provider.

Three panes (`t` switches): charts (attainment per manager and per region, and the
day-by-day trend), the figures of `triage report` grouped by manager, region or client
(`g`), and the breaches, latest first (enter opens the conversation). `p` switches
the period, `c` writes the figures as CSV under the user's data directory. The report
is computed by the service from the provider's messages in a worker (never on the UI
thread): the screen says "computing…" until it ends, and why it failed when it does
(offline: ctrl+r tries again). When the screen is too small for charts, the charts
pane shows the same attainment as a table instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import ContentSwitcher, DataTable, Footer, Static

from triage.domain.report import GROUPS, Breach, Detail
from triage.service.api import Service
from triage.text.datefmt import day_month_time, day_time
from triage.text.i18n import N_, _, ngettext
from triage.text.timefmt import format_left
from triage.ui.keys import binding, bindings
from triage.ui.screens.base import close_burst, user_zone
from triage.ui.text import inert, safe, safe_plain
from triage.ui.widgets.report_charts import AttainmentChart, Trend, share

PERIODS = (7, 30)  # days, switched with p
PANES = ("charts", "figures", "breaches")
PANE_TITLES = {"charts": N_("Charts"), "figures": N_("Figures"), "breaches": N_("Breaches")}
GROUP_WORDS = {"manager": N_("manager"), "region": N_("region"), "client": N_("client")}
CHARTS_MIN_WIDTH = 70  # columns the two bar charts need side by side
CHART_FRAME = 4  # a bar chart's lines besides one line a bar: title, borders, tick labels
TREND_MIN = 7  # the daily trend's lines at the least
SCREEN_FRAME = 3  # the header's two lines and the footer
FIGURE_COLUMNS = (N_("REPLIES"), N_("ON TIME"), N_("SHARE"), N_("MEDIAN"), N_("P90"),
                  N_("BREACHES"), N_("DONE"), N_("SNOOZED"), N_("REASSIGNED"),
                  N_("ASKED NEW"))  # fmt: skip
BREACH_COLUMNS = (N_("DEADLINE (UTC)"), N_("LATE BY"), N_("MANAGER"), N_("CLIENT"),
                  N_("SUBJECT"))  # fmt: skip


def minutes(value: object) -> str:
    return _("{minutes}m").format(minutes=f"{value:.0f}") if isinstance(value, int | float) else "-"


def group_word(by: str) -> str:
    """ "manager", "region", "client" in the console's language (the CSV keeps the ids)."""
    return _(GROUP_WORDS.get(by, by))


def _charted(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """The groups with replies (the others have no share to draw: the figures list them)."""
    return [r for r in rows if _count(r, "replies")]


def _count(row: dict[str, object], key: str) -> int:
    value = row.get(key)
    return value if isinstance(value, int) else 0


class ReportScreen(Screen[None]):
    """How the team did over a period: charts, figures and breaches."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *bindings("report_pane", "report_period", "report_group", "report_export", "reload",
                  "help", "cursor_down", "cursor_up"),
        binding("back", keys="escape,q"),
    ]  # fmt: skip
    DEFAULT_CSS = """
    ReportScreen #report-head { height: auto; padding: 0 1; }
    ReportScreen #report-state { height: auto; padding: 0 1; text-style: bold; }
    ReportScreen #panes { height: 1fr; }
    ReportScreen #charts { height: 1fr; }
    ReportScreen #bars { height: 7; }
    ReportScreen #trend { height: 1fr; min-height: 6; }
    ReportScreen DataTable { height: 1fr; }
    ReportScreen #chart-table { display: none; }
    ReportScreen.-small #bars, ReportScreen.-small #trend { display: none; }
    ReportScreen.-small #chart-table { display: block; }
    """

    @dataclass
    class Computed(Message):
        """The report over the screen's period has been computed."""

        detail: Detail
        days: int

    @dataclass
    class Failed(Message):
        """The report could not be computed (offline, or the provider refused)."""

        error: str

    def __init__(self, service: Service) -> None:
        super().__init__()
        self.service = service
        self.days = PERIODS[0]
        self.by = GROUPS[0]
        self.pane = PANES[0]
        self.detail: Detail | None = None
        self.state = "computing"  # "computing", "ready" or "failed"
        self.error = ""

    def compose(self) -> ComposeResult:
        yield Static(id="report-head")
        yield Static(id="report-state")
        with ContentSwitcher(id="panes", initial="charts"):
            with Vertical(id="charts"):
                with Horizontal(id="bars"):
                    yield AttainmentChart(_("On time, per manager"), id="by-manager")
                    yield AttainmentChart(_("On time, per region"), id="by-region")
                yield Trend(id="trend")
                yield DataTable(id="chart-table", cursor_type="none", zebra_stripes=False)
            yield DataTable(id="figures", cursor_type="row")
            yield DataTable(id="breaches", cursor_type="row")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#chart-table", DataTable).add_columns(
            _("GROUP"), _("REPLIES"), _("ON TIME")
        )
        self.query_one("#figures", DataTable).add_columns(*self._figure_columns())
        self.query_one("#breaches", DataTable).add_columns(*(_(c) for c in BREACH_COLUMNS))
        self._fit(self.size.width, self.size.height)
        self.compute()

    def on_resize(self, event: Any) -> None:
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        """Charts that cannot fit become a table (never a chart cut off, never two bars
        drawn on one line): each bar chart gets one line a group, the trend the rest."""
        groups = self.detail.groups if self.detail is not None else {}
        bars = max(len(_charted(groups.get("manager", []))),
                   len(_charted(groups.get("region", []))), 3)  # fmt: skip
        need = bars + CHART_FRAME
        small = width < CHARTS_MIN_WIDTH or height - SCREEN_FRAME < need + TREND_MIN
        self.set_class(small, "-small")
        if not small:
            self.query_one("#bars").styles.height = need

    # ---- computing ----

    def period(self) -> tuple[datetime, datetime]:
        end = self.service.now()
        return end - timedelta(days=self.days), end

    @work(group="report", exclusive=True, exit_on_error=False)
    async def compute(self) -> None:
        """The figures from the provider, off the UI thread; ends with Computed/Failed."""
        self.state, self.error = "computing", ""
        self._show_head()
        days = self.days
        start, end = self.period()
        try:
            detail = await self.service.report_detail(start, end)
        except Exception as exc:
            self.post_message(self.Failed(str(exc)))
        else:
            self.post_message(self.Computed(detail, days))

    @on(Computed)
    def _computed(self, event: Computed) -> None:
        if event.days != self.days:
            return  # the period changed meanwhile: its own computation follows
        self.detail, self.state = event.detail, "ready"
        self._show()

    @on(Failed)
    def _failed(self, event: Failed) -> None:
        self.state, self.error = "failed", event.error
        self._show_head()

    # ---- drawing ----

    def _show(self) -> None:
        detail = self.detail
        if detail is None:
            return
        self._show_head()
        self._fit(self.size.width, self.size.height)
        managers = _charted(self._named(detail.groups["manager"]))
        self.query_one("#by-manager", AttainmentChart).show(managers)
        self.query_one("#by-region", AttainmentChart).show(_charted(detail.groups["region"]))
        self.query_one("#trend", Trend).show(detail.days)
        self._fill_chart_table(detail)
        self._fill_figures(detail)
        self._fill_breaches(detail)

    def _named(self, rows: list[dict[str, object]]) -> list[dict[str, object]]:
        """Manager rows with the managers' names (the figures and the CSV keep the ids)."""
        name = self.service.config.manager_name
        return [{**r, "group": name(str(r["group"]))} for r in rows]

    def _show_head(self) -> None:
        _start, end = self.detail_period()
        # One line at 80 columns: the period, the grouping, the panes (t: the next one).
        said = _("Last {days} days to {end} UTC · by {by} ·").format(
            days=self.days, end=day_time(end, compact=True), by=group_word(self.by)
        )
        head = Text(said, style="bold")
        for p in PANES:
            head.append(" ")
            title = _(PANE_TITLES[p])
            head.append(f"[{title}]" if p == self.pane else title,
                        style="bold reverse" if p == self.pane else "")  # fmt: skip
        self.query_one("#report-head", Static).update(head)
        state = self.query_one("#report-state", Static)
        if self.state == "computing":
            state.update(Text(_("Computing the report from the provider…")))
        elif self.state == "failed":
            state.update(Text(_("Could not compute the report: {error} (ctrl+r tries again)")
                              .format(error=inert(self.error, 200))))  # fmt: skip
        else:
            state.update(Text(self._summary()))

    def detail_period(self) -> tuple[datetime, datetime]:
        d = self.detail
        return (d.start, d.end) if d is not None and self.state == "ready" else self.period()

    def _summary(self) -> str:
        rows = self.detail.groups["manager"] if self.detail else []
        replies = sum(_count(r, "replies") for r in rows)
        on_time = sum(_count(r, "within_target") for r in rows)
        asked = sum(_count(r, "asked_new_manager") for r in rows)
        breaches = len(self.detail.breaches) if self.detail else 0
        overall = share(on_time / replies) if replies else "-"
        return _("{replies}, {share} on time · {breaches} · {asked}").format(
            replies=ngettext("{n} reply", "{n} replies", replies).format(n=replies),
            share=overall,
            breaches=ngettext("{n} breach", "{n} breaches", breaches).format(n=breaches),
            asked=ngettext("{n} asked for another manager", "{n} asked for another manager",
                           asked).format(n=asked),
        )  # fmt: skip

    def _fill_chart_table(self, detail: Detail) -> None:
        table = self.query_one("#chart-table", DataTable)
        table.clear()
        for by in ("manager", "region"):
            rows = detail.groups[by]
            for r in self._named(rows) if by == "manager" else rows:
                label = _("{group}: {name}").format(group=group_word(by), name=r["group"])
                table.add_row(safe(label, 30), str(r["replies"]), share(r["attainment"]))

    def _fill_figures(self, detail: Detail) -> None:
        table = self.query_one("#figures", DataTable)
        table.clear(columns=True)
        table.add_columns(*self._figure_columns())
        rows = detail.groups[self.by]
        for r in self._named(rows) if self.by == "manager" else rows:
            table.add_row(
                safe(str(r["group"]), 24), str(r["replies"]), str(r["within_target"]),
                share(r["attainment"]), minutes(r["median_reply_minutes"]),
                minutes(r["p90_reply_minutes"]), str(r["breaches"]), str(r["done"]),
                str(r["snoozed"]), str(r["reassigned"]), str(r["asked_new_manager"]),
            )  # fmt: skip

    def _figure_columns(self) -> list[str]:
        return [group_word(self.by).upper(), *(_(c) for c in FIGURE_COLUMNS)]

    def _fill_breaches(self, detail: Detail) -> None:
        table = self.query_one("#breaches", DataTable)
        table.clear()
        for i, b in enumerate(detail.breaches):
            table.add_row(*self._breach_cells(b, detail.end), key=f"{i}:{b.thread_id}")

    def _breach_cells(self, b: Breach, end: datetime) -> tuple[Text | str, ...]:
        late = format_left(-b.late_seconds(end)).lstrip("-")
        late = late if b.replied_at is not None else _("{late}, waiting").format(late=late)
        manager = self.service.config.manager_name(b.manager).split(" ")[0]
        return (day_month_time(b.deadline), late, safe(manager, 12), safe(b.client, 20),
                safe(b.subject or _("(no subject)"), 40))  # fmt: skip

    # ---- keys ----

    def action_report_pane(self) -> None:
        self.pane = PANES[(PANES.index(self.pane) + 1) % len(PANES)]
        self.query_one("#panes", ContentSwitcher).current = self.pane
        if self.pane != "charts":
            self.query_one(f"#{self.pane}", DataTable).focus()
        self._show_head()

    def action_report_period(self) -> None:
        self.days = PERIODS[(PERIODS.index(self.days) + 1) % len(PERIODS)]
        self.compute()

    def action_report_group(self) -> None:
        self.by = GROUPS[(GROUPS.index(self.by) + 1) % len(GROUPS)]
        if self.detail is not None and self.state == "ready":
            self._fill_figures(self.detail)
        self._show_head()

    def _table(self) -> DataTable[Any] | None:
        return self.query_one(f"#{self.pane}", DataTable) if self.pane != "charts" else None

    def action_cursor_down(self) -> None:
        if (table := self._table()) is not None:
            table.action_cursor_down()

    def action_cursor_up(self) -> None:
        if (table := self._table()) is not None:
            table.action_cursor_up()

    def action_reload(self) -> None:
        self.compute()

    def action_report_export(self) -> None:
        detail = self.detail
        if detail is None or self.state != "ready":
            self.notify(_("The report is not computed yet"), severity="warning", markup=False)
            return
        try:
            path = self.service.export_report(detail.groups[self.by], self.by, detail.start,
                                              detail.end)  # fmt: skip
        except OSError as exc:
            self.notify(_("Could not write the CSV: {error}").format(
                error=safe_plain(str(exc), 200)), severity="error", markup=False)  # fmt: skip
            return
        done = _("Figures by {by} written to {path}").format(
            by=group_word(self.by), path=safe_plain(str(path), 200)
        )
        self.notify(done, title=_("Report"), timeout=10, markup=False)

    @on(DataTable.RowSelected, "#breaches")
    def _open_breach(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value or ""
        thread_id = key.partition(":")[2]
        if self.service.conversation(thread_id) is None:
            self.notify(_("That conversation is not in this console's cache yet (s syncs)"),
                        severity="warning", markup=False)  # fmt: skip
            return
        from triage.ui.screens.thread import ThreadScreen

        self.app.push_screen(ThreadScreen(self.service, thread_id,
                                          user_zone=user_zone(self.service)))  # fmt: skip

    def action_help(self) -> None:
        from triage.ui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen.for_screen(self))

    def action_back(self) -> None:
        close_burst(self)
        self.dismiss(None)
