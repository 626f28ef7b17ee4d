"""The queue table's columns: which fit the terminal, and the text of each cell.

A row's cells split in two: the ones fixed by the conversation (client, subject,
owner, markers, reason) are sanitized and fitted once per conversation and
layout (`static_cells`), and the ones that move with the clock (state,
countdown, the region's local time, how long it has waited) are recomputed per
tick (`RowClock.cells`), from small memos, since 50 rows share a few regions
and many equal texts. `RenderedRow` is what the table caches per conversation;
`markers_for` / `position_of` answer from a `QueueView` without walking it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from textual.strip import Strip

from triage.domain import calendar
from triage.domain.model import Conversation, SlaState, Status
from triage.domain.ordering import QueueView
from triage.domain.reasons import reason_label
from triage.domain.settings import Config
from triage.domain.urgency import escalation_of, state_of
from triage.domain.workflow import status_at
from triage.text.datefmt import clock, natural, weekday_time
from triage.text.i18n import N_, _, current
from triage.text.timefmt import format_left, format_left_seconds
from triage.ui.text import safe_cell

# Glyph + word, so the state reads without colour.
STATE_TEXT = {SlaState.BREACHED: N_("✖ LATE"), SlaState.AT_RISK: N_("▲ RISK"), SlaState.OK: "  ok"}
STATE_CLASS = {
    SlaState.BREACHED: "queue-table--breached",
    SlaState.AT_RISK: "queue-table--at-risk",
    SlaState.OK: "queue-table--ok",
}
NEVER_DROP = 9
# state, its text, countdown, region + local time, waited, escalated now (the rule can be
# time's doing)
ClockCells = tuple[SlaState, str, str, str, str, bool]
# A row of a view beside the queue says its status where the queue says the deadline's.
STATUS_TEXT = {Status.SNOOZED: "zz", Status.DONE: N_("done"), Status.ANSWERED: N_("answd")}


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


# At 80 columns everything but WAITING fits; the subject takes what is left.
QUEUE_COLUMNS = (
    Column("state", "", 6, 6, NEVER_DROP),
    Column("left", N_("LEFT"), 9, 9, NEVER_DROP, right=True),
    Column("client", N_("CLIENT"), 16, 10, NEVER_DROP),
    Column("region", N_("REGION"), 15, 14, 6),
    Column("subject", N_("SUBJECT"), 14, 10, 7, flex=True),
    Column("flags", "", 0, 0, 5),
    Column("owner", N_("OWNER"), 7, 5, 4),
    Column("waiting", N_("WAITING"), 10, 8, 1),
)
ESCALATION_COLUMNS = (
    Column("state", "", 6, 6, NEVER_DROP),
    Column("left", N_("LEFT"), 9, 9, NEVER_DROP, right=True),
    Column("client", N_("CLIENT"), 16, 10, NEVER_DROP),
    Column("region", N_("REGION"), 15, 14, 6),
    Column("reason", N_("REASON"), 18, 12, 5, flex=True),
    Column("by", N_("BY"), 8, 6, 3),
    Column("owner", N_("OWNER"), 8, 6, 4),
    Column("flags", "", 0, 0, 7),
    Column("subject", N_("SUBJECT"), 20, 10, 1, flex=True),
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


Markers = dict[str, str]  # thread id -> its outbox marker ("queued", "unsent")
# The marker of a row whose owner is away: two letters, so that at 80 columns "ESC CEO
# AW" still leaves the OWNER column its room (who is away matters on such a row).
AWAY = "AW"


ASKED_NEW = "AM?"  # the client asked for another account manager


def markers_width(esc: bool, ceo: bool, outbox: str, spoof: bool = False,
                  asked: bool = False) -> int:  # fmt: skip
    """How wide the markers column is when any row shows these markers (0: no column)."""
    words = (("ESC", esc), (_("CEO"), ceo), (_("SPOOF"), spoof), (ASKED_NEW, asked),
             (outbox, outbox))  # fmt: skip
    return len(" ".join(w for w, on in words if on))


def flags_width(rows: Iterable[Conversation], markers: Markers, mode: str, late: bool) -> int:
    """How wide the markers column must be for these rows (walks them all); `late`: some
    row may be escalated by breaching past the grace."""
    rows = list(rows)
    esc = mode == "queue" and (late or any(c.escalated and not c.acknowledged for c in rows))
    ceo = any(c.ceo_contacted for c in rows)
    spoof = any(c.impersonation for c in rows)
    asked = any(c.asked_new_manager for c in rows)
    shown = [markers[c.thread_id] for c in rows if c.thread_id in markers] if markers else []
    return markers_width(esc, ceo, max(shown, key=len, default=""), spoof, asked)


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


def flags_of(c: Conversation, outbox: str) -> str:
    """The markers that do not move with the clock: CEO (the client wrote to the CEO),
    SPOOF (the sender poses as staff or the CEO), AM? (the client asked for another
    account manager), and the outbox's word for a reply of this conversation ("queued",
    "unsent"). ESC is the clock's (`RowClock.cells`)."""
    parts = []
    if c.ceo_contacted:
        parts.append(_("CEO"))
    if c.impersonation:
        parts.append(_("SPOOF"))
    if c.asked_new_manager:
        parts.append(ASKED_NEW)
    if outbox:
        parts.append(outbox)
    return " ".join(parts)


def first_name(config: Config, manager_id: str) -> str:
    return config.manager_name(manager_id).split(" ")[0] if manager_id else "-"


@lru_cache(maxsize=4096)
def fit(text: str, width: int, right: bool = False) -> str:
    """`safe_cell`, memoized: clock cells repeat ("0:42", "5 minutes") across rows."""
    return safe_cell(text.rjust(width) if right else text, width)


def static_cells(
    c: Conversation, config: Config, outbox: str, mode: str, cols: Sequence[tuple[Column, int]]
) -> dict[str, str]:
    """The fitted, inert text of every cell that does not move with the clock."""
    texts = {
        "client": c.client_name or c.client_email,
        "subject": c.subject,
        "flags": flags_of(c, outbox),
        "owner": first_name(config, c.owner),
        "reason": reason_label(c.escalation_reason),
        "by": first_name(config, c.escalated_by),
    }
    # Not memoized like `fit`: these texts rarely repeat, and would evict the clock's.
    return {col.key: safe_cell(texts[col.key], w) for col, w in cols if col.key in texts}


DAY_AND_TIME_AFTER = 12 * 3600  # further off than this, a countdown reads as "Wed 17:00"


def due_at(deadline: datetime, zone: str) -> str:
    """A far deadline as the client's local weekday and time: "Wed 17:00", "mer 17:00"."""
    return _due_at(deadline, zone, current())


@lru_cache(maxsize=1024)
def _due_at(deadline: datetime, zone: str, language: str) -> str:
    return weekday_time(deadline.astimezone(ZoneInfo(zone)), compact=True, language=language)


class RowClock:
    """The clock-driven cells at one instant, with what rows share memoized."""

    def __init__(self, config: Config, now: datetime) -> None:
        self.config = config
        self.now = now
        self.at_risk = timedelta(minutes=config.agency.at_risk_minutes)
        self.grace = timedelta(minutes=config.agency.escalate_after_minutes)
        self._regions: dict[tuple[str, bool], str] = {}

    def _region(self, c: Conversation) -> str:
        key = (c.region, c.region_guessed)
        text = self._regions.get(key)
        if text is None:
            region = self.config.regions.get(c.region)
            local = (
                clock(calendar.local_time(self.now, region), compact=True) if region else "--:--"
            )
            label = fit(region.label if region else c.region, 8)  # cut with "…"
            text = self._regions[key] = f"{label} {local}{'?' if c.region_guessed else ''}"
        return text

    def cells(self, c: Conversation) -> ClockCells:
        """(state, countdown, region and its local time, waited, escalated) for one row.

        WAITING counts from the clock start, as the deadline does."""
        now = self.now
        if c.status is not Status.WAITING and (status := status_at(c, now)) in STATUS_TEXT:
            return self._asleep(c, status)
        state = state_of(c, now, self.at_risk)
        since = c.clock_start or c.waiting_since or c.last_message_at
        waited = now - since
        return (
            state,
            _(STATE_TEXT[state]),
            self._countdown(c, state),
            self._region(c),
            natural(waited) if waited >= timedelta(0) else _("not yet"),
            escalation_of(c, now, self.grace) is not None,
        )

    def _asleep(self, c: Conversation, status: Status) -> ClockCells:
        """A snoozed, done or answered row: its status, and when it wakes if it sleeps."""
        region = self.config.regions.get(c.region)
        wake = ""
        if status is Status.SNOOZED and c.wake_at is not None:
            wake = due_at(c.wake_at, region.timezone if region else "UTC")
        # WAITING is how long the client has waited: no one waits on a done or answered one.
        waited = ""
        if status is Status.SNOOZED and c.waiting and (since := c.clock_start or c.waiting_since):
            waited = natural(self.now - since) if self.now >= since else _("not yet")
        if status is Status.ANSWERED:  # how fast (business time, ✖ when late) and by whom
            if c.reply_seconds is not None:
                mark = "✖" if c.reply_on_time is False else "✓"
                wake = f"{mark} {format_left(c.reply_seconds)}"
            waited = (
                _("by {name}").format(name=first_name(self.config, c.replied_by))
                if c.replied_by
                else ""
            )
        return (SlaState.OK, _(STATUS_TEXT[status]), wake, self._region(c), waited, False)

    def _countdown(self, c: Conversation, state: SlaState) -> str:
        left = c.seconds_left(self.now)
        if left is None or c.deadline is None:
            return ""
        if state is SlaState.AT_RISK:
            return format_left_seconds(left)  # visibly moving: "14m09s"
        if left > DAY_AND_TIME_AFTER:
            region = self.config.regions.get(c.region)
            return due_at(c.deadline, region.timezone if region else "UTC")
        return format_left(left)


class RenderedRow:
    """One conversation's rendering: its fixed cells, and the strip last built."""

    __slots__ = ("clock", "conv", "gen", "outbox", "selected", "static", "strip")

    def __init__(self, conv: Conversation, outbox: str, gen: int, static: dict[str, str]) -> None:
        self.conv, self.outbox, self.gen, self.static = conv, outbox, gen, static
        self.clock: ClockCells | None = None
        self.selected = False
        self.strip: Strip | None = None


def markers_for(
    rows: Sequence[Conversation], markers: Markers, mode: str, now: datetime, grace: timedelta
) -> int:
    """The markers column's width; a QueueView answers from its few flagged rows."""
    if not isinstance(rows, QueueView):
        late = any(escalation_of(c, now, grace) for c in rows)
        return flags_width(rows, markers, mode, late)
    late = rows.due_by(now - grace) > 0
    esc = mode == "queue" and (
        late or any(c.escalated and not c.acknowledged for c in rows.flagged)
    )
    ceo = any(c.ceo_contacted for c in rows.flagged)
    spoof = any(c.impersonation for c in rows.flagged)
    asked = any(c.asked_new_manager for c in rows.flagged)
    shown = [word for t, word in markers.items() if rows.has(t)]
    return markers_width(esc, ceo, max(shown, key=len, default=""), spoof, asked)


def position_of(rows: Sequence[Conversation], thread_id: str) -> int | None:
    if isinstance(rows, QueueView):
        return rows.index_of(thread_id)
    return next((i for i, c in enumerate(rows) if c.thread_id == thread_id), None)
