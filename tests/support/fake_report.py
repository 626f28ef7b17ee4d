"""The FakeService's report: a week of figures for the Report screen's tests and snapshots.

Fixed numbers (not computed: the domain's own tests check the arithmetic), shaped as
`triage.domain.report.detail` returns them: three managers, the fake's four regions,
one figure a day, and the breached conversations of the fake queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from triage.domain.model import Conversation
from triage.domain.report import Breach, Day, Detail


def _row(group: str, replies: int, on_time: int, median: float | None, p90: float | None,
         breaches: int, done: int = 0, snoozed: int = 0, reassigned: int = 0,
         asked: int = 0) -> dict[str, object]:  # fmt: skip
    return {
        "group": group, "replies": replies, "within_target": on_time,
        "attainment": round(on_time / replies, 4) if replies else None,
        "median_reply_minutes": median, "p90_reply_minutes": p90, "breaches": breaches,
        "done": done, "snoozed": snoozed, "reassigned": reassigned, "asked_new_manager": asked,
    }  # fmt: skip


GROUPS: dict[str, list[dict[str, object]]] = {
    "manager": [_row("alice", 14, 11, 38.0, 71.5, 4, done=2, snoozed=3, asked=1),
                _row("bob", 9, 9, 22.0, 48.0, 0, snoozed=1, reassigned=1),
                _row("claire", 6, 4, 95.0, 210.0, 2, done=1)],
    "region": [_row("Ontario", 5, 5, 120.0, 300.0, 0), _row("Québec", 3, 2, 90.0, 240.0, 1),
               _row("US East", 13, 10, 31.0, 66.0, 3, asked=1),
               _row("US West", 8, 7, 25.0, 80.0, 2, reassigned=1)],
    "client": [_row("Acme Corp", 6, 4, 41.0, 75.0, 2, asked=1),
               _row("Birch Media", 5, 4, 30.0, 95.0, 1), _row("Delta Foods", 4, 4, 60.0, 90.0, 0),
               _row("Kestrel Air", 3, 2, 20.0, 33.0, 1)],
}  # fmt: skip
# Replies and replies on time, from the oldest day of the week to today.
DAYS = ((3, 3), (5, 4), (6, 5), (0, 0), (0, 0), (7, 5), (6, 6), (2, 1))


def canned_detail(start: datetime, end: datetime, convs: Mapping[str, Conversation]) -> Detail:
    """The week's figures over [start, end); the breaches are the fake's breached rows."""
    first = start.date()
    days = tuple(Day(first + timedelta(days=i), n, ok, n - ok) for i, (n, ok) in enumerate(DAYS))
    breaches = []
    for tid, hours in (("t12", 2), ("t02", 1), ("t01", 0)):
        c = convs[tid]
        due = end - timedelta(hours=hours, minutes=20)
        replied = due + timedelta(minutes=35) if tid == "t12" else None
        breaches.append(Breach(tid, c.subject, c.client_name, c.owner, due, replied))
    return Detail(start, end, {k: list(v) for k, v in GROUPS.items()}, days, tuple(breaches))
