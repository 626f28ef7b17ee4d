"""Absences: which managers are away, until when, and who takes their alerts meanwhile.

An absence is team-level shared state: an `away` note (manager in `previous`, the
backup in `to`, "" for "whoever is least loaded", the end in `until`) filed on the
provider where account-level notes go, ended early by a `back` note. The latest note
of a manager wins; an absence whose end has passed is over by itself. While a manager
is away their alerts and nudges go to the stand-in: the backup named (unless away
too), else the qualified colleague on shift with the least load, else nobody (the
alert is then kept for the manager). Pure: the notes, the queue and `now` are given.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from triage.domain import calendar
from triage.domain.handoff import shift
from triage.domain.model import Conversation, Note, NoteAction
from triage.domain.settings import Config

Absences = Mapping[str, "Away"]  # manager id -> their absence (only those away now)


@dataclass(frozen=True)
class Away:
    """One manager's absence as recorded: by whom, since when, until when, backup."""

    manager: str
    until: datetime
    backup: str = ""  # "" : the least-loaded qualified colleague
    by: str = ""
    at: datetime | None = None


def note(manager: str, by: str, at: datetime, until: datetime | None, backup: str = "") -> Note:
    """The note that records an absence (`until` given) or its end (`until` None)."""
    if until is None:
        return Note(NoteAction.BACK, by=by, at=at, previous=manager, account=True)
    return Note(NoteAction.AWAY, by=by, at=at, previous=manager, to=backup, until=until,
                account=True)  # fmt: skip


def absences(notes: Iterable[Note], now: datetime) -> dict[str, Away]:
    """The managers away at `now`: each one's latest away/back note, if an unexpired away."""
    latest: dict[str, Note] = {}
    for n in notes:
        if n.action not in (NoteAction.AWAY, NoteAction.BACK) or not n.previous:
            continue
        seen = latest.get(n.previous)
        if seen is None or seen.at <= n.at:
            latest[n.previous] = n
    return {m: Away(m, n.until, n.to, n.by, n.at) for m, n in latest.items()
            if n.action == NoteAction.AWAY and n.until is not None and now < n.until}  # fmt: skip


def stand_in(
    c: Conversation, away: Absences, cfg: Config, load: Counter[str], now: datetime
) -> str:
    """Who is told about `c` now: its owner, or while the owner is away their stand-in
    (the owner still, when nobody can stand in)."""
    absence = away.get(c.owner)
    if absence is None:
        return c.owner
    if absence.backup and absence.backup not in away and absence.backup in cfg.managers:
        return absence.backup
    takers = [m for m in cfg.managers.values()
              if m.id != c.owner and m.id not in away and c.region in m.regions
              and _on(m.id, cfg, now)]  # fmt: skip
    if not takers:
        return c.owner
    return min(takers, key=lambda m: (load[m.id], m.id)).id


def loads(conversations: Iterable[Conversation]) -> Counter[str]:
    """Each manager's waiting conversations (the load a stand-in is picked by)."""
    return Counter(c.owner for c in conversations if c.waiting)


def _on(manager_id: str, cfg: Config, now: datetime) -> bool:
    hours = shift(cfg.managers[manager_id])
    return hours is None or calendar.is_open(now, hours)
