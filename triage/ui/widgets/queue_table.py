"""The queue table: a Line API widget that renders only the rows on screen.

Textual's DataTable measures every cell, so painting or re-sorting 10k-50k rows
takes seconds. Here `render_line` builds one visible row at a time
from the already sorted rows (a `QueueView` or a filtered list), nothing walks
the rows off screen. Each row's cells that do not move with the clock are
sanitized and fitted once per conversation; a one-second tick computes only the
visible rows' clock cells (kept for the repaint that follows) and repaints the
lines whose cells changed (usually none: countdowns show minutes).

Row 0 is a fixed header; rows below scroll. Column layout and cell texts live
in `columns.py`; every piece of email text goes through `triage.ui.text`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from triage.domain.model import Conversation, SlaState
from triage.domain.settings import Config
from triage.text.i18n import _
from triage.ui.keys import bindings
from triage.ui.text import safe_cell
from triage.ui.widgets.columns import (
    AWAY,
    ESCALATION_COLUMNS,
    QUEUE_COLUMNS,
    STATE_CLASS,
    ClockCells,
    Column,
    Markers,
    RenderedRow,
    RowClock,
    fit,
    layout,
    markers_for,
    position_of,
    static_cells,
    with_flags,
)

ROW_CACHE_LIMIT = 2000  # rows kept rendered; scrolling through 30k must not keep 30k strips


class QueueTable(ScrollView, can_focus=True):
    """Sorted conversations, one per line, with a cursor and live countdowns."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "queue-table--header",
        "queue-table--breached",
        "queue-table--at-risk",
        "queue-table--ok",
        "queue-table--escalated",
        "queue-table--muted",
        "queue-table--cursor",
        "queue-table--empty",
    }
    DEFAULT_CSS = """
    QueueTable {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        *bindings("cursor_down", "cursor_up", "page_down", "page_up", "first", "last", "select")
    ]

    @dataclass
    class Highlighted(Message):
        """The cursor moved onto another conversation."""

        thread_id: str

    @dataclass
    class Selected(Message):
        """The user chose a conversation (enter or double click)."""

        thread_id: str

    def __init__(self, config: Config, *, mode: str = "queue", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.config = config
        self.mode = mode
        self.columns = ESCALATION_COLUMNS if mode == "escalations" else QUEUE_COLUMNS
        self.empty_text = _("No conversation is waiting.")
        self._rows: Sequence[Conversation] = []
        self._markers: Markers = {}
        self.away: frozenset[str] = frozenset()  # managers away: their rows say AW
        self._cursor = 0
        self._layout: list[tuple[Column, int]] = []
        self._layout_key: tuple[int, int] = (-1, -1)
        self._flags_width = 0
        self._gen = 0  # bumped when the layout or the theme changes: cached rows are stale
        self._cache: dict[str, RenderedRow] = {}
        self._styles: dict[tuple[SlaState, bool], dict[str, Style]] = {}
        self._base: Style | None = None
        self._header: Strip | None = None
        self._frame_width: int | None = None
        self._row_clock = RowClock(config, datetime.min)
        self._clock_cells: dict[str, ClockCells] = {}  # this instant's clock cells, by thread
        self.renders = 0  # rows actually rebuilt, for tests and benchmarks

    # ---- data in ----

    @property
    def rows(self) -> Sequence[Conversation]:
        return self._rows

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def highlighted(self) -> str | None:
        """The thread id under the cursor, or None for an empty table."""
        return self._rows[self._cursor].thread_id if self._rows else None

    def set_rows(
        self, conversations: Sequence[Conversation], now: datetime, markers: Markers | None = None
    ) -> None:
        """Show `conversations` in the given order; the cursor stays on its thread.

        A `QueueView` costs O(log n) here (cursor by bisection, markers from its
        flagged rows); a plain list is walked once for the markers."""
        before = self.highlighted
        self._rows = conversations
        self._markers = dict(markers or {})
        grace = timedelta(minutes=self.config.agency.escalate_after_minutes)
        self._flags_width = markers_for(conversations, self._markers, self.mode, now, grace)
        if self.away:  # room for " AW" (not walking the rows to see whose they are)
            self._flags_width += len(AWAY) + 1 if self._flags_width else len(AWAY)
        self._set_now(now)
        found = position_of(conversations, before) if before is not None else None
        if found is not None:
            self._cursor = found
        else:
            self._cursor = max(0, min(self._cursor, len(conversations) - 1))
        self.virtual_size = Size(self.size.width, len(conversations) + 1)
        self._scroll_cursor_into_view()
        self.refresh()
        if self.highlighted != before and self.highlighted is not None:
            self.post_message(self.Highlighted(self.highlighted))

    def tick(self, now: datetime) -> int:
        """New time: repaint only the visible lines whose text changed. Returns how many."""
        if now == self._row_clock.now:
            return 0
        self._set_now(now)
        changed: list[int] = []
        top = round(self.scroll_offset.y)
        rows, cache = self._rows, self._cache
        for y in range(1, self.size.height):
            index = top + y - 1
            if index >= len(rows):
                break
            conv = rows[index]
            row = cache.get(conv.thread_id)
            # The clock cells computed here are kept for the repaint that follows.
            if row is None or row.conv is not conv or row.clock != self._clock_of(conv):
                changed.append(y)
        if changed:
            # One region from the first to the last changed line: unchanged lines
            # in between come back from the row cache, and Textual handles one
            # dirty region instead of fifty.
            self.refresh(Region(0, changed[0], self.size.width, changed[-1] - changed[0] + 1))
        return len(changed)

    def _set_now(self, now: datetime) -> None:
        self._row_clock = RowClock(self.config, now)
        self._clock_cells = {}

    def _clock_of(self, conv: Conversation) -> ClockCells:
        cells = self._clock_cells.get(conv.thread_id)
        if cells is None:
            cells = self._clock_cells[conv.thread_id] = self._row_clock.cells(conv)
        return cells

    def move_to(self, thread_id: str) -> bool:
        """Put the cursor on `thread_id` if it is listed."""
        index = position_of(self._rows, thread_id)
        if index is None:
            return False
        self._set_cursor(index)
        return True

    # ---- cursor ----

    def _set_cursor(self, index: int) -> None:
        if not self._rows:
            return
        index = max(0, min(index, len(self._rows) - 1))
        if index == self._cursor:
            return
        old, self._cursor = self._cursor, index
        self._refresh_row(old)
        self._refresh_row(index)
        self._scroll_cursor_into_view()
        self.post_message(self.Highlighted(self._rows[index].thread_id))

    def _refresh_row(self, index: int) -> None:
        y = index - round(self.scroll_offset.y) + 1
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def _scroll_cursor_into_view(self) -> None:
        visible = max(1, self.size.height - 1)
        top = round(self.scroll_offset.y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, immediate=True)
        elif self._cursor >= top + visible:
            self.scroll_to(y=self._cursor - visible + 1, animate=False, immediate=True)

    def action_cursor_down(self) -> None:
        self._set_cursor(self._cursor + 1)

    def action_cursor_up(self) -> None:
        self._set_cursor(self._cursor - 1)

    def action_page_down(self) -> None:
        self._set_cursor(self._cursor + max(1, self.size.height - 2))

    def action_page_up(self) -> None:
        self._set_cursor(self._cursor - max(1, self.size.height - 2))

    def action_first(self) -> None:
        self._set_cursor(0)

    def action_last(self) -> None:
        self._set_cursor(len(self._rows) - 1)

    def action_select_cursor(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.Selected(self.highlighted))

    async def _on_click(self, event: events.Click) -> None:
        index = round(self.scroll_offset.y) + event.y - 1
        if event.y >= 1 and 0 <= index < len(self._rows):
            self._set_cursor(index)
            if event.chain >= 2:
                self.action_select_cursor()

    # ---- rendering ----

    def notify_style_update(self) -> None:
        # Theme switch: cached strips and styles hold resolved colours.
        super().notify_style_update()
        self._forget_rendering()

    def _forget_rendering(self) -> None:
        self._cache.clear()
        self._styles.clear()
        self._base = self._header = None
        self._gen += 1

    def _on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, len(self._rows) + 1)
        self._scroll_cursor_into_view()

    def render_lines(self, crop: Region) -> list[Strip]:
        # One frame asks for every line: measure the width once, not per line.
        self._frame_width = self.scrollable_content_region.width
        try:
            return super().render_lines(crop)
        finally:
            self._frame_width = None

    def _width(self) -> int:
        if self._frame_width is not None:
            return self._frame_width
        return self.scrollable_content_region.width

    def _columns(self, width: int) -> list[tuple[Column, int]]:
        if (width, self._flags_width) != self._layout_key:
            self._layout = layout(with_flags(self.columns, self._flags_width), width)
            self._layout_key = (width, self._flags_width)
            self._forget_rendering()
        return self._layout

    def _base_style(self) -> Style:
        if self._base is None:
            self._base = self.rich_style
        return self._base

    def _component(self, name: str) -> Style:
        return self._base_style() + self.get_component_rich_style(name, partial=True)

    def render_line(self, y: int) -> Strip:
        width = self._width()
        cols = self._columns(width)
        if y == 0:
            if self._header is None:
                self._header = self._render_header(width, cols)
            return self._header
        index = round(self.scroll_offset.y) + y - 1
        if not self._rows and y == 1:
            text = safe_cell(self.empty_text, width)
            return Strip([Segment(text, self._component("queue-table--empty"))], width)
        if index >= len(self._rows):
            return Strip.blank(width, self._base_style())
        return self._row(index, cols, width)

    def _render_header(self, width: int, cols: list[tuple[Column, int]]) -> Strip:
        titles = [(_(c.title) if c.title else "", c, w) for c, w in cols]
        title = " ".join(safe_cell(t.rjust(w) if c.right else t, w) for t, c, w in titles)
        style = self._component("queue-table--header")
        return Strip([Segment(safe_cell(title, width), style)], width)

    def _row(self, index: int, cols: list[tuple[Column, int]], width: int) -> Strip:
        conv = self._rows[index]
        tid = conv.thread_id
        outbox = self._markers.get(tid, "")
        if conv.owner in self.away:
            outbox = f"{AWAY} {outbox}" if outbox else AWAY
        row = self._cache.get(tid)
        if row is None or row.conv is not conv or row.gen != self._gen or row.outbox != outbox:
            if len(self._cache) >= ROW_CACHE_LIMIT:
                self._cache.clear()
            static = static_cells(conv, self.config, outbox, self.mode, cols)
            row = self._cache[tid] = RenderedRow(conv, outbox, self._gen, static)
        clock = self._clock_of(conv)
        selected = index == self._cursor
        if row.strip is None or row.clock != clock or row.selected != selected:
            row.strip = self._build_row(row.static, clock, selected, cols, width)
            row.clock, row.selected = clock, selected
            self.renders += 1
        return row.strip

    def _row_styles(self, state: SlaState, selected: bool) -> dict[str, Style]:
        """Each column kind's style for a row in `state` (resolved once per theme)."""
        styles = self._styles.get((state, selected))
        if styles is None:
            base = self._base_style()
            cursor = (
                self.get_component_rich_style("queue-table--cursor", partial=True)
                if selected
                else Style()
            )
            state_style = self._component(STATE_CLASS[state])
            styles = self._styles[(state, selected)] = {
                "": base + cursor,
                "state": state_style + cursor,
                "left": state_style + cursor,
                "flags": self._component("queue-table--escalated") + cursor,
                "waiting": self._component("queue-table--muted") + cursor,
            }
        return styles

    def _build_row(
        self,
        static: dict[str, str],
        clock: ClockCells,
        selected: bool,
        cols: list[tuple[Column, int]],
        width: int,
    ) -> Strip:
        state, state_text, left, region, waited, escalated = clock
        flags = static.get("flags", "").strip()
        if escalated and self.mode == "queue":  # the pane lists it: say so on the row too
            flags = f"ESC {flags}".strip()
        moving = {"state": state_text, "left": left, "region": region, "waiting": waited,
                  "flags": flags}  # fmt: skip
        styles = self._row_styles(state, selected)
        plain = styles[""]
        gap = Segment(" ", plain)
        segments: list[Segment] = []
        for column, w in cols:
            if segments:
                segments.append(gap)
            key = column.key
            text = None if key in moving else static.get(key)
            if text is None:
                text = fit(moving[key], w, column.right)
            segments.append(Segment(text, styles.get(key, plain)))
        length = sum(w for _, w in cols) + len(cols) - 1  # each cell is fitted to w
        if length == width:
            return Strip(segments, width)
        return Strip(segments, length).adjust_cell_length(width, plain)
