"""The CEO's report on a seeded fortnight, every figure computed by hand in the comments.

US East (09:00-17:00, US holidays, a 1-hour target); the period runs from Fri 30 Oct
to Thu 12 Nov 2026 17:00 UTC: daylight saving ends on Sun 1 Nov (EDT -> EST) and
Wed 11 Nov is Veterans Day (closed). Acme's conversations are Carol's.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.builders import agency_config
from triage.domain.model import MessageInfo, Note, ThreadData
from triage.domain.report import report

START = datetime(2026, 10, 30, tzinfo=UTC)
END = datetime(2026, 11, 12, 17, 0, tzinfo=UTC)


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def mail(tid: str, n: int, at: str, sender: str) -> MessageInfo:
    return MessageInfo(f"{tid}-{n}", tid, sender, "", ("team@agency.example",), (), "Help",
                       z(at), f"{tid}.{n}@x", in_watched=True)  # fmt: skip


ACME, CAROL, ALICE = "pat@acme.example", "carol@agency.example", "alice@agency.example"


def pair(tid: str, asked: str, answered: str, by: str) -> tuple[MessageInfo, ...]:
    return (mail(tid, 1, asked, ACME), mail(tid, 2, answered, by))


THREADS = (
    # Fri 16:30 EDT, answered Mon 09:20 EST: 30 + 20 = 50 business minutes; due Mon 09:30.
    ThreadData("T1", pair("T1", "2026-10-30T20:30", "2026-11-02T14:20", CAROL),
               (Note("reassign", "carol", z("2026-10-31T12:00"), "workload", "carol"),)),
    # Mon 10:00 EST, answered 11:30 by Alice: 90 minutes, due 11:00: late.
    ThreadData("T2", pair("T2", "2026-11-02T15:00", "2026-11-02T16:30", ALICE)),
    # Tue 16:45 EST; Wed closed; answered Thu 09:30: 15 + 30 = 45 minutes, due Thu 09:45.
    ThreadData("T3", pair("T3", "2026-11-10T21:45", "2026-11-12T14:30", CAROL)),
    # Thu 10:00 EST, no answer: due 11:00, still waiting at the end (12:00 EST): a breach.
    ThreadData("T4", (mail("T4", 1, "2026-11-12T15:00", ACME),)),
    # a "thanks" marked done by Alice: no reply needed, no breach
    ThreadData("T5", (mail("T5", 1, "2026-11-03T14:00", ACME),),
               (Note("done", "alice", z("2026-11-03T14:30"), "thanks / no question",
                     seen=z("2026-11-03T14:00")),)),
)  # fmt: skip


def test_per_manager() -> None:
    rows = {r["group"]: r for r in report(THREADS, agency_config(), START, END, "manager")}
    assert rows["alice"] == {
        "group": "alice", "replies": 1, "within_target": 0, "attainment": 0.0,
        "median_reply_minutes": 90.0, "p90_reply_minutes": 90.0, "breaches": 1, "done": 1,
        "snoozed": 0, "reassigned": 0, "asked_new_manager": 0}  # fmt: skip
    # 45 and 50 minutes: median 47.5; p90 interpolated 45 + 0.9 x 5 = 49.5
    assert rows["carol"] == {
        "group": "carol", "replies": 2, "within_target": 2, "attainment": 1.0,
        "median_reply_minutes": 47.5, "p90_reply_minutes": 49.5, "breaches": 1, "done": 0,
        "snoozed": 0, "reassigned": 1, "asked_new_manager": 0}  # fmt: skip


def test_per_region_and_a_shorter_period() -> None:
    [east] = report(THREADS, agency_config(), START, END, "region")
    # 45, 50, 90: median 50; p90 at rank 1.8 of 0..2: 50 + 0.8 x 40 = 82
    assert (east["group"], east["replies"], east["within_target"], east["attainment"]) == (
        "US East", 3, 2, 0.6667)  # fmt: skip
    assert (east["median_reply_minutes"], east["p90_reply_minutes"], east["breaches"]) == (
        50.0, 82.0, 2)  # fmt: skip
    # The first week only (to Thu 5 Nov): T3 and T4 are outside it, T1 and T2 inside.
    [week] = report(THREADS, agency_config(), START, z("2026-11-05T00:00"), "region")
    assert (week["replies"], week["within_target"], week["breaches"], week["done"]) == (2, 1, 1, 1)


def test_a_reply_after_the_period_still_counts_its_breach_inside_it() -> None:
    # At the end of Mon 2 Nov 16:15 UTC, T2 (due 16:00) was unanswered: a breach then.
    [row] = report(THREADS[1:2], agency_config(), START, z("2026-11-02T16:15"), "client")
    assert (row["group"], row["replies"], row["breaches"]) == ("Acme", 0, 1)
    with pytest.raises(ValueError, match="--by: 'team'"):
        report(THREADS, agency_config(), START, END, "team")
