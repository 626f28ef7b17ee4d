"""`triage report`: the CEO's figures over a period, as a table, JSON or CSV.

`--days N` (default 7) ends now (or `--now`); `--from DATE --to DATE` are whole days
in UTC, `--to` included. Group names are manager ids, region labels or client names
from the config and email: the table prints them through the sanitizer; JSON and CSV
escape them as their formats do.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from triage.cli.start import UsageError
from triage.domain.report import as_csv
from triage.service.core import TriageService
from triage.text.i18n import _
from triage.text.sanitize import sanitize_line


def period(days: int | None, since: str | None, until: str | None, now: datetime
           ) -> tuple[datetime, datetime]:  # fmt: skip
    """[start, end) of the report; UsageError for a period that is not one."""
    if since or until:
        if not (since and until) or days is not None:
            raise UsageError(_("--from and --to go together (and without --days)"))
        start, last = _day(since, "--from"), _day(until, "--to")
        if last < start:
            raise UsageError(_("--to is before --from"))
        return (datetime.combine(start, time(), UTC),
                datetime.combine(last + timedelta(days=1), time(), UTC))  # fmt: skip
    n = 7 if days is None else days
    if not 1 <= n <= 366:
        raise UsageError(_("--days: from 1 to 366"))
    return now - timedelta(days=n), now


def _day(text: str, flag: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            _("{flag}: not a date such as 2026-11-24: {text!r}").format(flag=flag, text=text)
        ) from None


async def print_report(service: TriageService, start: datetime, end: datetime, by: str,
                       fmt: str) -> None:  # fmt: skip
    rows = await service.report(start, end, by)
    if fmt == "json":
        print(json.dumps(rows, indent=2))
    elif fmt == "csv":
        sys.stdout.write(as_csv(rows))
    else:
        _table(rows, start, end, by)


def _table(rows: list[dict[str, Any]], start: datetime, end: datetime, by: str) -> None:
    print(
        _("{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC, by {by}").format(
            start=start, end=end, by=by
        )
    )
    print(f"{by.upper():24} {'REPLIES':>7} {'ON TIME':>7} {'MEDIAN':>7} {'P90':>7} "
          f"{'BREACHES':>8} {'DONE':>5} {'SNOOZED':>7} {'REASSIGNED':>10} "
          f"{'ASKED NEW':>9}")  # fmt: skip
    for r in rows:
        share = f"{r['attainment']:.0%}" if r["attainment"] is not None else "-"
        med = f"{r['median_reply_minutes']:.0f}m" if r["median_reply_minutes"] is not None else "-"
        p90 = f"{r['p90_reply_minutes']:.0f}m" if r["p90_reply_minutes"] is not None else "-"
        print(f"{sanitize_line(str(r['group']), 24):24} {r['replies']:>7} {share:>7} "
              f"{med:>7} {p90:>7} {r['breaches']:>8} {r['done']:>5} {r['snoozed']:>7} "
              f"{r['reassigned']:>10} {r['asked_new_manager']:>9}")  # fmt: skip
    print(
        _(
            "times are business minutes of each client's region; ON TIME = within target; "
            "ASKED NEW = client messages asking for another account manager"
        )
    )
