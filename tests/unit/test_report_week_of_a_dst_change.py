"""The report on a seeded week with a DST change and a holiday in it, computed by hand.

The week is Sun 7 Nov 2027 00:00 UTC to Sun 14 Nov 2027 00:00 UTC. Daylight saving
ends on Sun 7 Nov at 02:00 (CDT -> CST, ADT -> AST, EDT -> EST), and Thu 11 Nov is a
holiday in both markets used: Veterans Day (US) and Remembrance Day (New Brunswick).

- US Central: America/Chicago, 08:00-17:00 Mon-Fri, US holidays, a 1-hour target.
- New Brunswick: America/Moncton, 09:00-17:00 Mon-Fri, CA-NB holidays, next business day.
- Night line: America/New_York, 24x7, a 1-hour target in wall-clock time.

Prairie is Alice's (US Central), Fundy is Bob's (New Brunswick), the night line Carol's.
Every figure below is worked out in the comments next to the thread it comes from.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta

from tests.support.builders import agency_config
from triage.domain.model import Client, Manager, MessageInfo, Note, Region, ThreadData
from triage.domain.report import Breach, Day, detail, report
from triage.domain.settings import Config

START = datetime(2027, 11, 7, tzinfo=UTC)
END = datetime(2027, 11, 14, tzinfo=UTC)
PRAIRIE, FUNDY, NIGHT = "kim@prairie.example", "luc@fundy.example", "ops@night.example"
ALICE, BOB, CAROL = "alice@agency.example", "bob@agency.example", "carol@agency.example"


def config() -> Config:
    regions = {r.id: r for r in (
        Region("us-central", "US Central", "America/Chicago", "US", (time(8), time(17))),
        Region("ca-nb", "New Brunswick", "America/Moncton", "CA-NB", reply_within=None),
        Region("night", "Night line", "America/New_York", "US", None),
    )}  # fmt: skip
    managers = {m.id: m for m in (
        Manager("alice", "Alice Martin", ALICE, ("us-central",)),
        Manager("bob", "Bob Roy", BOB, ("ca-nb",)),
        Manager("carol", "Carol Diaz", CAROL, ("night",)),
    )}  # fmt: skip
    clients = {c.key: c for c in (
        Client("prairie.example", "Prairie", "us-central", "alice"),
        Client("fundy.example", "Fundy", "ca-nb", "bob"),
        Client(NIGHT, "Night line", "night", "carol"),
    )}  # fmt: skip
    return dataclasses.replace(agency_config(), regions=regions, managers=managers,
                               clients=clients)  # fmt: skip


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def thread(tid: str, *lines: tuple[str, str, str], notes: tuple[Note, ...] = ()) -> ThreadData:
    """Lines of (UTC time, sender, preview)."""
    mail = tuple(
        MessageInfo(f"{tid}-{i}", tid, sender, "", ("team@agency.example",), (),
                    f"Subject {tid}", z(at), f"{tid}.{i}@x", in_watched=True, preview=text)
        for i, (at, sender, text) in enumerate(lines)
    )  # fmt: skip
    return ThreadData(tid, mail, notes)


THREADS = (
    # Fri 5 Nov 16:30 CDT; 30 minutes before the close, then Mon 8 Nov opens at 08:00 CST
    # (14:00 UTC: an hour later in UTC than on Friday): due Mon 08:30 CST (14:30 UTC).
    # Answered Mon 08:20 CST (14:20 UTC): 30 + 20 = 50 business minutes, on time. (With
    # Friday's offset kept, Monday 08:20 CST would read 09:20 and give 110.)
    thread("P1", ("2027-11-05T21:30", PRAIRIE, "Catalogue question"),
           ("2027-11-08T14:20", ALICE, "Here you go")),
    # Wed 10 Nov 16:00 CST: due 17:00 CST (23:00 UTC), the close. Thu 11 is Veterans Day.
    # Answered Fri 12 Nov 08:15 CST (14:15 UTC): 60 + 0 + 15 = 75 business minutes, late;
    # a breach, 1 day 15:15 late on the wall clock.
    thread("P2", ("2027-11-10T22:00", PRAIRIE, "Store hours"),
           ("2027-11-12T14:15", ALICE, "Sorry for the wait")),
    # Mon 8 Nov 09:00 CST, snoozed by Alice at 09:05, woken at 09:40 and answered 09:45
    # CST: 45 minutes.
    thread("P8", ("2027-11-08T15:00", PRAIRIE, "Numbers tomorrow"),
           ("2027-11-08T15:45", ALICE, "Thanks"),
           notes=(Note("snooze", "alice", z("2027-11-08T15:05"), until=z("2027-11-09T15:00")),
                  Note("wake", "alice", z("2027-11-08T15:40")))),
    # Fri 12 Nov 16:30 CST, no answer: due Mon 15 Nov 08:30 CST, after the week: no breach.
    thread("P6", ("2027-11-12T22:30", PRAIRIE, "One more thing")),
    # Fri 5 Nov 15:00 ADT: next business day after Friday is Mon 8 Nov, due 17:00 AST
    # (21:00 UTC). Answered Mon 10:00 AST (14:00 UTC): Fri 15:00-17:00 = 120 and Mon
    # 09:00-10:00 = 60: 180 business minutes, on time.
    thread("P3", ("2027-11-05T18:00", FUNDY, "Devis"), ("2027-11-08T14:00", BOB, "Voici")),
    # Wed 10 Nov 16:00 AST: Thu 11 is Remembrance Day in New Brunswick, so the next
    # business day is Fri 12, due 17:00 AST (21:00 UTC). Answered Fri 16:00 AST (20:00
    # UTC): 60 + 0 + 420 = 480 business minutes, on time (late without the holiday).
    thread("P4", ("2027-11-10T20:00", FUNDY, "Brochure"), ("2027-11-12T20:00", BOB, "Voilà")),
    # Tue 9 Nov 10:00 AST, the client asks for another manager; Bob answers 11:00 AST (60
    # minutes, due Wed 17:00: on time) and the CEO gives it to Alice at 15:10 UTC. The
    # request counts for Bob, who owned it when the client wrote; the reassignment for the
    # CEO, who made it.
    thread("P7", ("2027-11-09T14:00", FUNDY, "Je veux un autre directeur de comptes."),
           ("2027-11-09T15:00", BOB, "Bien reçu"),
           notes=(Note("reassign", "ceo", z("2027-11-09T15:10"),
                       "client asked for someone else", "alice", previous="bob"),)),
    # A "merci" after Bob's message, marked done by Bob: done without reply.
    thread("P9", ("2027-11-09T12:00", BOB, "Les fichiers"), ("2027-11-09T13:00", FUNDY, "Merci!"),
           notes=(Note("done", "bob", z("2027-11-09T13:05"), "thanks / no question",
                       seen=z("2027-11-09T13:00")),)),
    # Sun 7 Nov 01:30 EDT (05:30 UTC), on the night line: clocks go back at 02:00 EDT.
    # Answered 01:10 EST (06:10 UTC): the local clock says 20 minutes earlier, 40 minutes
    # went by; within the hour.
    thread("P5", ("2027-11-07T05:30", NIGHT, "Banner"), ("2027-11-07T06:10", CAROL, "Up")),
)  # fmt: skip


def test_per_manager() -> None:
    rows = {r["group"]: r for r in report(THREADS, config(), START, END, "manager")}
    # Alice: 45, 50, 75 (P8, P1, P2); P2 late. Median 50; p90 at rank 0.9 x 2 = 1.8:
    # 50 + 0.8 x 25 = 70.
    assert rows["alice"] == {
        "group": "alice", "replies": 3, "within_target": 2, "attainment": 0.6667,
        "median_reply_minutes": 50.0, "p90_reply_minutes": 70.0, "breaches": 1, "done": 0,
        "snoozed": 1, "reassigned": 0, "asked_new_manager": 0}  # fmt: skip
    # Bob: 60, 180, 480 (P7, P3, P4), all on time. Median 180; p90 180 + 0.8 x 300 = 420.
    assert rows["bob"] == {
        "group": "bob", "replies": 3, "within_target": 3, "attainment": 1.0,
        "median_reply_minutes": 180.0, "p90_reply_minutes": 420.0, "breaches": 0, "done": 1,
        "snoozed": 0, "reassigned": 0, "asked_new_manager": 1}  # fmt: skip
    assert rows["carol"]["median_reply_minutes"] == 40.0 and rows["carol"]["attainment"] == 1.0
    assert (rows["ceo"]["replies"], rows["ceo"]["reassigned"]) == (0, 1)


def test_per_region() -> None:
    rows = {r["group"]: r for r in report(THREADS, config(), START, END, "region")}
    assert (rows["US Central"]["replies"], rows["US Central"]["breaches"]) == (3, 1)
    nb = rows["New Brunswick"]
    assert (nb["replies"], nb["within_target"], nb["done"], nb["asked_new_manager"]) == (3, 3, 1, 1)
    assert (nb["median_reply_minutes"], nb["reassigned"]) == (180.0, 1)
    assert (rows["Night line"]["replies"], rows["Night line"]["p90_reply_minutes"]) == (1, 40.0)


def test_the_days_and_the_breaches() -> None:
    d = detail(THREADS, config(), START, END)
    assert d.groups["manager"] == report(THREADS, config(), START, END, "manager")
    # Replies by UTC day: Sun 7 P5; Mon 8 P1, P3, P8; Tue 9 P7; Fri 12 P2 (late), P4.
    assert d.days == (
        Day(date(2027, 11, 7), 1, 1, 0), Day(date(2027, 11, 8), 3, 3, 0),
        Day(date(2027, 11, 9), 1, 1, 0), Day(date(2027, 11, 10), 0, 0, 0),
        Day(date(2027, 11, 11), 0, 0, 0), Day(date(2027, 11, 12), 2, 1, 1),
        Day(date(2027, 11, 13), 0, 0, 0),
    )  # fmt: skip
    assert d.breaches == (Breach("P2", "Subject P2", "Prairie", "alice", z("2027-11-10T23:00"),
                                 z("2027-11-12T14:15")),)  # fmt: skip
    late = timedelta(days=1, hours=15, minutes=15)
    assert d.breaches[0].late_seconds(END) == late.total_seconds()
