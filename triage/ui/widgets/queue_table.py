"""The queue table: a Line API widget that renders only the rows on screen.

Textual's DataTable measures every cell, so painting or re-sorting 10k-50k rows
takes seconds (issue 6). Here `render_line` builds one visible row at a time
from the already sorted list, and each row's Strip is cached under the text of
its cells: a one-second tick recomputes the visible rows' texts and repaints
only the lines whose text changed (usually only countdowns, once a minute).

Row 0 is a fixed header; rows below scroll. Every piece of email text goes
through `triage.ui.text.safe_cell` (sanitized, fitted to the column width).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

import humanize
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from triage import sla
from triage.config import Config
from triage.model import Conversation, SlaState
from triage.queue import state_of
from triage.ui.text import safe_cell

# Glyph + word, so the state reads without colour.
STATE_TEXT = {SlaState.BREACHED: "✖ LATE", SlaState.AT_RISK: "▲ RISK", SlaState.OK: "  ok"}
STATE_CLASS = {
    SlaState.BREACHED: "queue-table--breached",
    SlaState.AT_RISK: "queue-table--at-risk",
    SlaState.OK: "queue-table--ok",
}
NEVER_DROP = 9


@dataclass(frozen=True)
class Column:
    """One column: `width` is preferred, `min_width` the least it shrinks to.

    The lowest `priority` is dropped first when the terminal is narrow; NEVER_DROP
    columns (state, countdown, client) always stay. A `flex` column takes the
    space that is left."""

    key: str
    title: str
    width: int
    min_width: int
    priority: int
    flex: bool = False
    right: bool = False  # right-aligned (countdowns line up on the colon)


QUEUE_COLUMNS = (
    Column("state", "", 6, 6, NEVER_DROP),
    Column("left", "LEFT", 7, 6, NEVER_DROP, right=True),
    Column("client", "CLIENT", 18, 10, NEVER_DROP),
    Column("region", "REGION", 15, 14, 5),
    Column("subject", "SUBJECT", 20, 10, 6, flex=True),
    Column("flags", "", 0, 0, 4),
    Column("owner", "OWNER", 8, 6, 2),
    Column("waiting", "WAITING", 10, 8, 1),
)
ESCALATION_COLUMNS = (
    Column("state", "", 6, 6, NEVER_DROP),
    Column("left", "LEFT", 7, 6, NEVER_DROP, right=True),
    Column("client", "CLIENT", 16, 10, NEVER_DROP),
    Column("region", "REGION", 15, 14, 6),
    Column("reason", "REASON", 18, 12, 5, flex=True),
    Column("by", "BY", 8, 6, 3),
    Column("owner", "OWNER", 8, 6, 4),
    Column("flags", "", 0, 0, 7),
    Column("subject", "SUBJECT", 20, 10, 1, flex=True),
)


def layout(columns: Sequence[Column], width: int) -> list[tuple[Column, int]]:
    """Which columns fit in `width` cells and how wide each is (1-cell gaps)."""
    active = list(columns)

    def need(cols: list[Column], comfortable: bool = False) -> int:
        # Comfortable: the must-keep and flex columns at their preferred width.
        keep = (lambda c: c.flex or c.priority == NEVER_DROP) if comfortable else None
        size = sum(c.width if keep and keep(c) else c.min_width for c in cols)
        return size + len(cols) - 1

    while need(active, True) > width and any(c.priority < NEVER_DROP for c in active):
        active.remove(min((c for c in active if c.priority < NEVER_DROP), key=_prio))
    widths = {c.key: c.min_width for c in active}
    spare = max(0, width - need(active))
    # Most important first, each column grows to its preferred width; what is
    # left goes to the least important flex column (the subject, the long one).
    for c in sorted(active, key=_prio, reverse=True):
        grow = min(spare, c.width - c.min_width)
        widths[c.key] += grow
        spare -= grow
    flex = [c for c in active if c.flex]
    if flex:
        widths[min(flex, key=_prio).key] += spare
    return [(c, widths[c.key]) for c in active]


def _prio(c: Column) -> int:
    return c.priority


def flags_width(rows: Sequence[Conversation], queued: frozenset[str], mode: str) -> int:
    """How wide the markers column must be for these rows (0: no markers, no column)."""
    esc = mode == "queue" and any(c.escalated and not c.acknowledged for c in rows)
    ceo = any(c.ceo_contacted for c in rows)
    has_queued = any(c.thread_id in queued for c in rows) if queued else False
    return len(" ".join(w for w, on in (("ESC", esc), ("CEO", ceo), ("queued", has_queued)) if on))


def with_flags(columns: Sequence[Column], width: int) -> list[Column]:
    """The column set with the markers column sized to `width` (or left out)."""
    out = []
    for c in columns:
        if c.key == "flags":
            if not width:
                continue
            c = Column(c.key, c.title, width, width, c.priority)
        out.append(c)
    return out


def flags_of(c: Conversation, queued: bool, mode: str) -> str:
    """The markers column: ESC (escalated), CEO (client wrote to the CEO), queued reply."""
    parts = []
    if c.escalated and not c.acknowledged and mode == "queue":
        parts.append("ESC")
    if c.ceo_contacted:
        parts.append("CEO")
    if queued:
        parts.append("queued")
    return " ".join(parts)


def _first_name(config: Config, manager_id: str) -> str:
    return config.manager_name(manager_id).split(" ")[0] if manager_id else "-"


def row_texts(
    c: Conversation, now: datetime, config: Config, queued: bool, mode: str
) -> tuple[SlaState, dict[str, str]]:
    """Every cell's text of one row (not yet sanitized or fitted) and its state."""
    state = state_of(c, now, timedelta(minutes=config.agency.at_risk_minutes))
    left = c.seconds_left(now)
    region = config.regions.get(c.region)
    local = sla.local_time(now, region).strftime("%H:%M") if region else "--:--"
    label = (region.label if region else c.region)[:8]
    waited = now - c.last_message_at
    texts = {
        "state": STATE_TEXT[state],
        "left": sla.format_left(left) if left is not None else "",
        "client": c.client_name or c.client_email,
        "region": f"{label:<8} {local}{'?' if c.region_guessed else ''}",
        "subject": c.subject,
        "flags": flags_of(c, queued, mode),
        "owner": _first_name(config, c.owner),
        "waiting": humanize.naturaldelta(waited) if waited >= timedelta(0) else "now",
        "reason": c.escalation_reason,
        "by": _first_name(config, c.escalated_by),
    }
    return state, texts


def _move(keys: str, action: str, text: str, tip: str) -> Binding:
    return Binding(keys, action, text, id=action, show=False, tooltip=tip)


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
        _move("j,down", "cursor_down", "Down", "Move to the next conversation"),
        _move("k,up", "cursor_up", "Up", "Move to the previous conversation"),
        _move("pagedown,ctrl+f", "page_down", "Page down", "Move one screen down"),
        _move("pageup,ctrl+b", "page_up", "Page up", "Move one screen up"),
        _move("home", "first", "First", "Jump to the most urgent conversation"),
        _move("end", "last", "Last", "Jump to the least urgent conversation"),
        Binding("enter", "select_cursor", "Open", id="select", show=False,
                tooltip="Open the conversation under the cursor"),
    ]  # fmt: skip

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
        self.empty_text = "No conversation is waiting."
        self._rows: list[Conversation] = []
        self._index: dict[str, int] = {}
        self._queued: frozenset[str] = frozenset()
        self._now = datetime.min
        self._cursor = 0
        self._layout: list[tuple[Column, int]] = []
        self._layout_width = -1
        self._layout_key: tuple[int, int] = (-1, -1)
        self._flags_width = 0
        self._cache: dict[str, tuple[tuple[object, ...], Conversation, Strip]] = {}
        self.renders = 0  # rows actually rebuilt, for tests and benchmarks

    # ---- data in ----

    @property
    def rows(self) -> list[Conversation]:
        return self._rows

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def highlighted(self) -> str | None:
        """The thread id under the cursor, or None for an empty table."""
        return self._rows[self._cursor].thread_id if self._rows else None

    def set_rows(
        self, conversations: list[Conversation], now: datetime, queued: Iterable[str] = ()
    ) -> None:
        """Show `conversations` in the given order; the cursor stays on its thread."""
        before = self.highlighted
        self._rows = conversations
        self._index = {c.thread_id: i for i, c in enumerate(conversations)}
        self._queued = frozenset(queued)
        self._flags_width = flags_width(conversations, self._queued, self.mode)
        self._now = now
        if before is not None and before in self._index:
            self._cursor = self._index[before]
        else:
            self._cursor = max(0, min(self._cursor, len(conversations) - 1))
        self.virtual_size = Size(self.size.width, len(conversations) + 1)
        self._scroll_cursor_into_view()
        self.refresh()
        if self.highlighted != before and self.highlighted is not None:
            self.post_message(self.Highlighted(self.highlighted))

    def tick(self, now: datetime) -> int:
        """New time: repaint only the visible lines whose text changed. Returns how many."""
        self._now = now
        changed = 0
        top = round(self.scroll_offset.y)
        for y in range(1, self.size.height):
            index = top + y - 1
            if index >= len(self._rows):
                break
            conv = self._rows[index]
            cached = self._cache.get(conv.thread_id)
            if cached is None or cached[0] != self._key(conv, index):
                self.refresh(Region(0, y, self.size.width, 1))
                changed += 1
        return changed

    def move_to(self, thread_id: str) -> bool:
        """Put the cursor on `thread_id` if it is listed."""
        if thread_id not in self._index:
            return False
        self._set_cursor(self._index[thread_id])
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
        # Theme switch: cached strips hold resolved colours.
        super().notify_style_update()
        self._cache.clear()

    def _on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, len(self._rows) + 1)
        self._scroll_cursor_into_view()

    def _columns(self) -> list[tuple[Column, int]]:
        width = self.scrollable_content_region.width
        if (width, self._flags_width) != self._layout_key:
            self._layout = layout(with_flags(self.columns, self._flags_width), width)
            self._layout_key = (width, self._flags_width)
            self._layout_width = width
            self._cache.clear()
        return self._layout

    def _key(self, conv: Conversation, index: int) -> tuple[object, ...]:
        state, texts = row_texts(
            conv, self._now, self.config, conv.thread_id in self._queued, self.mode
        )
        cells = tuple(texts[c.key] for c, _ in self._columns())
        return (state, cells, index == self._cursor, self._layout_width)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            return self._header(width, base)
        index = round(self.scroll_offset.y) + y - 1
        if not self._rows and y == 1:
            style = base + self.get_component_rich_style("queue-table--empty", partial=True)
            return Strip([Segment(safe_cell(self.empty_text, width), style)], width)
        if index >= len(self._rows):
            return Strip.blank(width, base)
        return self._row(index, base)

    def _header(self, width: int, base: Style) -> Strip:
        style = base + self.get_component_rich_style("queue-table--header", partial=True)
        title = " ".join(
            safe_cell(c.title.rjust(w) if c.right else c.title, w) for c, w in self._columns()
        )
        return Strip([Segment(safe_cell(title, width), style)], width)

    def _row(self, index: int, base: Style) -> Strip:
        conv = self._rows[index]
        key = self._key(conv, index)
        cached = self._cache.get(conv.thread_id)
        if cached is not None and cached[0] == key and cached[1] is conv:
            return cached[2]
        strip = self._build_row(conv, key, base)
        self._cache[conv.thread_id] = (key, conv, strip)
        self.renders += 1
        return strip

    def _build_row(self, conv: Conversation, key: tuple[object, ...], base: Style) -> Strip:
        state, cells, selected, _ = key
        assert isinstance(state, SlaState) and isinstance(cells, tuple)
        style_of = self.get_component_rich_style
        state_style = base + style_of(STATE_CLASS[state], partial=True)
        special = {
            "state": state_style,
            "left": state_style,
            "flags": base + style_of("queue-table--escalated", partial=True),
            "waiting": base + style_of("queue-table--muted", partial=True),
        }
        cursor = style_of("queue-table--cursor", partial=True) if selected else Style()
        segments: list[Segment] = []
        for (column, w), text in zip(self._columns(), cells, strict=True):
            if segments:
                segments.append(Segment(" ", base + cursor))
            style = special.get(column.key, base) + cursor
            cell = str(text).rjust(w) if column.right else str(text)
            segments.append(Segment(safe_cell(cell, w), style))
        return Strip(segments).adjust_cell_length(self._layout_width, base + cursor)
