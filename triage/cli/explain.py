"""`triage explain THREAD_ID [--json]`: one conversation's deadline, computed in words.

The arrival in the client's local time, when the clock started and why (closed,
holiday, weekend, after hours, short day), which target applied and where it came
from, and the deadline in the client's time and the user's. Email text (the
subject) is printed only through the sanitizer.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from triage.cli.start import UsageError
from triage.domain.explain import Explanation, explain
from triage.service.core import TriageService
from triage.text.datefmt import day_time, weekday_time
from triage.text.i18n import _
from triage.text.isotime import iso
from triage.text.sanitize import sanitize_line
from triage.text.timefmt import format_left


def print_explain(service: TriageService, thread_id: str, now: datetime, as_json: bool) -> None:
    conv = service.conversation(thread_id)
    if conv is None:
        raise UsageError(
            _("no conversation {thread_id!r} in the cache (run `triage sync`)").format(
                thread_id=thread_id
            )
        )
    region = service.config.regions.get(conv.region)
    facts = explain(conv, region, now)
    zone = ZoneInfo(region.timezone) if region else None
    if as_json:
        print(json.dumps(_json(thread_id, facts, zone), indent=2))
        return
    title = sanitize_line(conv.subject or "(no subject)", 80)
    label = sanitize_line(region.label if region else conv.region, 40)
    print(f"{thread_id}  {title}")
    print(
        _("  region     {label}{guessed}").format(
            label=label, guessed=_(" (guessed from the address)") if conv.region_guessed else ""
        )
    )
    for line in _lines(facts, zone):
        print(f"  {line}")


def _lines(f: Explanation, zone: ZoneInfo | None) -> list[str]:
    if f.arrival is None or f.deadline is None:
        return [f"status     {f.status}: no reply is due"]
    out = [f"status     {f.status}", f"arrived    {_both(f.arrival, zone)}"]
    if f.clock_start is not None and f.clock_start > f.arrival:
        out.append(
            _("clock      started {clock_start}, because:").format(
                clock_start=_both(f.clock_start, zone)
            )
        )
        out += [f"             {why}" for why in f.why_later]
    else:
        out.append(_("clock      started on arrival (the region was open)"))
    out.append(
        _("target     {target} (from the {source})").format(
            target=f.target or _("the region target"), source=f.target_source or _("region")
        )
    )
    out.append(_("due        {deadline}").format(deadline=_both(f.deadline, zone)))
    if f.seconds_left is not None:
        left = format_left(abs(f.seconds_left))
        out.append(
            (
                _("now        {left} overdue")
                if f.seconds_left < 0
                else _("now        {left} left")
            ).format(left=left)
        )
    return out


def _both(at: datetime, zone: ZoneInfo | None) -> str:
    mine = at.astimezone()
    if zone is None:
        return _("{time} {zone} (yours)").format(time=day_time(mine), zone=mine.tzname())
    theirs = at.astimezone(zone)
    return _("{theirs} {their_zone} client · {mine} {my_zone} yours").format(
        theirs=day_time(theirs), their_zone=theirs.tzname(),
        mine=weekday_time(mine), my_zone=mine.tzname(),
    )  # fmt: skip


def _json(thread_id: str, f: Explanation, zone: ZoneInfo | None) -> dict[str, Any]:
    def local(at: datetime | None) -> str | None:
        return at.astimezone(zone).isoformat() if at and zone else None

    return {
        "thread_id": thread_id, "status": f.status,
        "arrival": iso(f.arrival) if f.arrival else None, "arrival_local": local(f.arrival),
        "clock_start": iso(f.clock_start) if f.clock_start else None,
        "clock_start_local": local(f.clock_start), "clock_start_why": list(f.why_later),
        "target": f.target, "target_source": f.target_source,
        "deadline": iso(f.deadline) if f.deadline else None, "deadline_local": local(f.deadline),
        "seconds_left": round(f.seconds_left) if f.seconds_left is not None else None,
    }  # fmt: skip
