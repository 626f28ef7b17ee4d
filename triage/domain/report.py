"""The CEO's report: how the team did over a period, per manager, region or client.

Computed from the threads as the provider has them (every staff reply measured from
the client message it answered, against the target that applied then), and from the
notes (done, snoozed, reassigned): any console computes the same numbers, and the
cache is not needed. A breach is a reply after its deadline, or a conversation still
waiting past its deadline at the end of the period. Times are business minutes of
the client's region. Pure: the threads, the period and the config are given.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from triage.domain import conversation, routing, workflow
from triage.domain.model import Conversation, NoteAction, ThreadData
from triage.domain.settings import Config

GROUPS = ("manager", "region", "client")


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

    def as_dict(self) -> dict[str, object]:
        """The JSON object: `attainment` None and times None when there is no reply."""
        m = sorted(self.minutes)
        return {
            "group": self.group, "replies": self.replies, "within_target": self.within_target,
            "attainment": round(self.within_target / self.replies, 4) if self.replies else None,
            "median_reply_minutes": round(statistics.median(m), 1) if m else None,
            "p90_reply_minutes": round(_p90(m), 1) if m else None,
            "breaches": self.breaches, "done": self.done, "snoozed": self.snoozed,
            "reassigned": self.reassigned,
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


def _group(by: str, conv: Conversation, cfg: Config, manager: str) -> str:
    if by == "manager":
        return manager or "(nobody)"
    if by == "region":
        region = cfg.regions.get(conv.region)
        return region.label if region else conv.region
    return conv.client_name or conv.client_key
