"""The CEO's report: how the team did over a period, per manager, region or client.

Computed from the threads as the provider has them (every staff reply measured from
the client message it answered, against the target that applied then), and from the
notes (done, snoozed, reassigned): any console computes the same numbers, and the
cache is not needed. A breach is a reply after its deadline, or a conversation still
waiting past its deadline at the end of the period. Times are business minutes of
the client's region. `asked_new_manager` counts the client messages of the period
that ask for another manager (`triage.domain.signals`), to the manager who owned the
conversation when the client wrote. `detail` adds what the console's Report screen
draws: every grouping at once, a daily trend and the list of breaches.
Pure: the threads, the period and the config are given.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from triage.domain import conversation, routing, signals, workflow
from triage.domain.model import Conversation, MessageInfo, Note, NoteAction, ThreadData
from triage.domain.settings import Config

GROUPS = ("manager", "region", "client")
COLUMNS = ("group", "replies", "within_target", "attainment", "median_reply_minutes",
           "p90_reply_minutes", "breaches", "done", "snoozed", "reassigned",
           "asked_new_manager")  # fmt: skip


@dataclass
class Row:
    """One group's figures (see the module's docstring for what each counts)."""

    group: str
    replies: int = 0
    within_target: int = 0
    minutes: list[float] = field(default_factory=list)
    breaches: int = 0
    done: int = 0
    snoozed: int = 0
    reassigned: int = 0
    asked_new_manager: int = 0

    def as_dict(self) -> dict[str, object]:
        """The JSON object: `attainment` None and times None when there is no reply."""
        m = sorted(self.minutes)
        return {
            "group": self.group, "replies": self.replies, "within_target": self.within_target,
            "attainment": round(self.within_target / self.replies, 4) if self.replies else None,
            "median_reply_minutes": round(statistics.median(m), 1) if m else None,
            "p90_reply_minutes": round(_p90(m), 1) if m else None,
            "breaches": self.breaches, "done": self.done, "snoozed": self.snoozed,
            "reassigned": self.reassigned, "asked_new_manager": self.asked_new_manager,
        }  # fmt: skip


def _p90(sorted_minutes: list[float]) -> float:
    """The 90th percentile, interpolated between the two nearest replies."""
    if len(sorted_minutes) == 1:
        return sorted_minutes[0]
    return statistics.quantiles(sorted_minutes, n=10, method="inclusive")[-1]


def report(
    threads: Iterable[ThreadData], cfg: Config, start: datetime, end: datetime, by: str,
    account_owners: Mapping[str, str] | None = None,
) -> list[dict[str, object]]:  # fmt: skip
    """Per group of `by`, the figures for replies and actions in [start, end)."""
    if by not in GROUPS:
        raise ValueError(f"--by: {by!r} is not one of {', '.join(GROUPS)}")
    rows: dict[str, Row] = defaultdict(lambda: Row(""))
    for thread in threads:
        conv = conversation.derive(thread, cfg, account_owners or {})
        if conv is not None:
            _count(thread, conv, cfg, start, end, by, rows)
    out = []
    for name in sorted(rows):
        rows[name].group = name
        out.append(rows[name].as_dict())
    return out


def _count(
    thread: ThreadData, conv: Conversation, cfg: Config, start: datetime, end: datetime,
    by: str, rows: dict[str, Row],
) -> None:  # fmt: skip
    """Add one conversation's replies, breaches and actions to their groups."""
    mail = sorted(thread.messages, key=lambda m: m.received_at)
    first = next(m for m in mail if not routing.is_staff(m.sender, cfg))
    route = routing.route(first.sender, first.sender_name, cfg)
    region = cfg.regions.get(route.region)
    owner = rows[_group(by, conv, cfg, conv.owner)]
    for r in workflow.replies(mail, cfg, region, route):
        if start <= r.at < end:
            row = rows[_group(by, conv, cfg, r.by)]
            row.replies += 1
            row.within_target += r.on_time
            row.breaches += not r.on_time
            row.minutes.append(r.business_seconds / 60)
        elif r.asked_at and r.deadline and r.asked_at < end <= r.at and r.deadline < end:
            owner.breaches += 1  # still unanswered, past its deadline, when the period ended
    since = conv.waiting_since
    if conv.waiting and since and since < end and conv.deadline and conv.deadline < end:
        owner.breaches += 1  # waiting past its deadline, and still waiting
    for note in thread.notes:
        if start <= note.at < end:
            row = rows[_group(by, conv, cfg, note.by)]
            row.done += note.action == NoteAction.DONE
            row.snoozed += note.action == NoteAction.SNOOZE
            row.reassigned += note.action == NoteAction.REASSIGN
    for m in _asking(mail, cfg, start, end):
        rows[_group(by, conv, cfg, _owner_when(m.received_at, thread.notes, conv))
             ].asked_new_manager += 1  # fmt: skip


def _asking(mail: list[MessageInfo], cfg: Config, start: datetime, end: datetime
            ) -> list[MessageInfo]:  # fmt: skip
    """The client messages of [start, end) that ask for another manager."""
    phrases = cfg.signals.new_manager_phrases
    return [m for m in mail if start <= m.received_at < end and not routing.is_staff(m.sender, cfg)
            and signals.asks_new_manager(m.preview, phrases)]  # fmt: skip


def _owner_when(at: datetime, notes: Iterable[Note], conv: Conversation) -> str:
    """Who owned the conversation at `at`: the one the next reassignment took it from."""
    later = sorted((n for n in notes if n.action == NoteAction.REASSIGN and n.at >= at),
                   key=lambda n: n.at)  # fmt: skip
    return later[0].previous if later and later[0].previous else conv.owner


def _group(by: str, conv: Conversation, cfg: Config, manager: str) -> str:
    if by == "manager":
        return manager or "(nobody)"
    if by == "region":
        region = cfg.regions.get(conv.region)
        return region.label if region else conv.region
    return conv.client_name or conv.client_key


def as_csv(rows: Iterable[Mapping[str, object]]) -> str:
    """The rows as CSV with a header line (`triage report --csv`, the screen's export)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


# ---- what the Report screen draws ----


@dataclass(frozen=True)
class Day:
    """One day (UTC) of the trend: replies, how many were on time, how many late."""

    day: date
    replies: int
    within_target: int
    late: int

    @property
    def attainment(self) -> float | None:
        return self.within_target / self.replies if self.replies else None


@dataclass(frozen=True)
class Breach:
    """A reply after its deadline, or a conversation still waiting past it."""

    thread_id: str
    subject: str
    client: str
    manager: str  # who replied late, or who owns the one still waiting
    deadline: datetime
    replied_at: datetime | None  # None: still waiting when the period ended

    def late_seconds(self, end: datetime) -> float:
        return ((self.replied_at or end) - self.deadline).total_seconds()


@dataclass(frozen=True)
class Detail:
    """The whole report over [start, end): each grouping, the days and the breaches."""

    start: datetime
    end: datetime
    groups: dict[str, list[dict[str, object]]]  # "manager", "region", "client" -> rows
    days: tuple[Day, ...]
    breaches: tuple[Breach, ...]  # the latest first


def detail(
    threads: Iterable[ThreadData], cfg: Config, start: datetime, end: datetime,
    account_owners: Mapping[str, str] | None = None,
) -> Detail:  # fmt: skip
    """Every grouping of `report`, a daily trend and the breaches, from one read."""
    threads = list(threads)
    owners = account_owners or {}
    groups = {by: report(threads, cfg, start, end, by, owners) for by in GROUPS}
    tally: dict[date, list[int]] = {}
    first = start.date()
    for i in range((end - start + timedelta(seconds=86_399)).days):
        tally[first + timedelta(days=i)] = [0, 0, 0]
    found: list[Breach] = []
    for thread in threads:
        conv = conversation.derive(thread, cfg, owners)
        if conv is not None:
            found += _day_tally(thread, conv, cfg, start, end, tally)
    days = tuple(Day(d, *t) for d, t in sorted(tally.items()))
    found.sort(key=lambda b: b.replied_at or end, reverse=True)
    return Detail(start, end, groups, days, tuple(found))


def _day_tally(
    thread: ThreadData, conv: Conversation, cfg: Config, start: datetime, end: datetime,
    tally: dict[date, list[int]],
) -> list[Breach]:  # fmt: skip
    """Add a conversation's replies to their days; its breaches, as `_count` sees them."""
    mail = sorted(thread.messages, key=lambda m: m.received_at)
    first = next(m for m in mail if not routing.is_staff(m.sender, cfg))
    route = routing.route(first.sender, first.sender_name, cfg)
    out: list[Breach] = []
    client = conv.client_name or conv.client_key
    for r in workflow.replies(mail, cfg, cfg.regions.get(route.region), route):
        if start <= r.at < end:
            day = tally.setdefault(r.at.date(), [0, 0, 0])
            day[0] += 1
            day[1] += r.on_time
            day[2] += not r.on_time
            if not r.on_time and r.deadline is not None:
                out.append(Breach(conv.thread_id, conv.subject, client, r.by, r.deadline, r.at))
        elif r.asked_at and r.deadline and r.asked_at < end <= r.at and r.deadline < end:
            out.append(Breach(conv.thread_id, conv.subject, client, conv.owner, r.deadline, None))
    since, due = conv.waiting_since, conv.deadline
    if conv.waiting and since and since < end and due and due < end:
        out.append(Breach(conv.thread_id, conv.subject, client, conv.owner, due, None))
    return out
