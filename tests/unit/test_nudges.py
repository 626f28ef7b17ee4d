"""The nudge ladder on a frozen clock: at risk to the owner, breached to the owner and,
after the grace, the CEO; within the recipient's hours only (a nudge held overnight is
sent when the hours start if still needed, as its highest step); never for answered,
done or snoozed ones; the same key every round (once-only is keyed by it), a new one
for a new deadline; an away owner's nudges to the stand-in; text made inert."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, datetime, time, timedelta

from tests.support.builders import T0, agency_config, conversation
from triage.domain import away, nudges
from triage.domain.alerts import Ladder, Step
from triage.domain.model import CEO_ID, Mark, MarkKind, Status
from triage.domain.nudges import LOCK_EXPIRED_AFTER, LOCK_SLOT, due
from triage.domain.ordering import QueueView
from triage.domain.settings import AgencyConfig, AlertsConfig, Config
from triage.text.sanitize import is_inert

MIN = timedelta(minutes=1)
DUE = T0 + 60 * MIN  # conversation(n)'s deadline


def sent(convs: list[object], now: datetime, cfg: Config | None = None,
         absent: away.Absences | None = None) -> list[tuple[str, Step, str]]:  # fmt: skip
    found = due(convs, now, cfg or agency_config(), absent or {})  # type: ignore[arg-type]
    return [(n.thread_id, n.step, n.recipient) for n in found]


def graced(minutes: int) -> Config:
    return agency_config(agency=AgencyConfig(("agency.example",), "ceo@agency.example",
                                             escalate_after_minutes=minutes))  # fmt: skip


def test_each_step_of_the_ladder_at_its_minute() -> None:
    convs = [conversation(1, owner="carol")]
    cfg = graced(10)
    assert sent(convs, DUE - 16 * MIN, cfg) == []
    assert sent(convs, DUE - 15 * MIN, cfg) == [("T00001", Step.AT_RISK, "carol")]
    assert sent(convs, DUE - MIN, cfg) == [("T00001", Step.AT_RISK, "carol")]
    assert sent(convs, DUE, cfg) == [("T00001", Step.BREACHED, "carol")]
    assert sent(convs, DUE + 9 * MIN, cfg) == [("T00001", Step.BREACHED, "carol")]
    assert sent(convs, DUE + 10 * MIN, cfg) == [("T00001", Step.BREACHED, "carol"),
                                                 ("T00001", Step.ESCALATED, CEO_ID)]  # fmt: skip


def test_a_step_keeps_its_key_every_round_and_a_new_deadline_makes_a_new_one() -> None:
    cfg = agency_config()
    conv = conversation(1)
    [a] = due([conv], DUE - 10 * MIN, cfg, {})
    [b] = due([conv], DUE - 2 * MIN, cfg, {})
    assert a.key == b.key and a.token == b.token and len(a.key) == 16
    later = dataclasses.replace(conv, deadline=DUE + 60 * MIN)  # the client wrote again
    [c] = due([later], DUE + 50 * MIN, cfg, {})
    assert c.step is Step.AT_RISK and c.key != a.key
    d, ceo = due([conv], DUE + MIN, cfg, {})
    assert len({a.key, d.key, ceo.key}) == 3  # other steps (and recipients), same deadline


def test_answered_done_and_snoozed_ones_are_never_nudged() -> None:
    convs = [conversation(1, waiting=False, deadline=None, status=Status.ANSWERED),
             conversation(2, status=Status.DONE),
             conversation(3, status=Status.SNOOZED, wake_at=DUE + 5 * 60 * MIN),
             conversation(4, owner="")]  # fmt: skip
    assert sent(convs, DUE + MIN) == []
    woken = conversation(5, status=Status.SNOOZED, wake_at=DUE - 15 * MIN)  # at risk: awake
    assert sent([woken], DUE - 10 * MIN) == [("T00005", Step.AT_RISK, "alice")]


def test_quiet_hours_hold_a_nudge_until_they_start_and_then_only_the_highest_step() -> None:
    base = agency_config()
    # Carol works 09:00-17:00 in New York; T0 is 05:15 there, the deadline 06:15.
    carol = dataclasses.replace(base.managers["carol"], timezone="America/New_York",
                                hours=(time(9), time(17)))  # fmt: skip
    cfg = dataclasses.replace(base, managers={**base.managers, "carol": carol})
    convs = [conversation(1, owner="carol")]
    assert sent(convs, DUE - 10 * MIN, cfg) == []  # at risk at 06:05: held
    assert sent(convs, DUE + 60 * MIN, cfg) == [("T00001", Step.ESCALATED, CEO_ID)]  # any time
    opens = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)  # 09:00 in New York
    assert sent(convs, opens - MIN, cfg) == [("T00001", Step.ESCALATED, CEO_ID)]
    assert sent(convs, opens, cfg) == [("T00001", Step.BREACHED, "carol"),
                                       ("T00001", Step.ESCALATED, CEO_ID)]  # fmt: skip
    answered = [conversation(1, owner="carol", waiting=False, status=Status.ANSWERED)]
    assert sent(answered, opens, cfg) == []  # answered overnight: dropped
    loud = dataclasses.replace(cfg, alerts=AlertsConfig(outside_hours=True))
    assert sent(convs, DUE - 10 * MIN, loud) == [("T00001", Step.AT_RISK, "carol")]


def test_an_away_owners_nudges_go_to_the_backup_or_the_least_loaded_colleague() -> None:
    cfg = agency_config()
    convs = [conversation(1), conversation(2, owner="carol"), conversation(3, owner="carol")]
    notes = [away.note("alice", "alice", T0 - MIN, T0 + 24 * 60 * MIN, backup="bob")]
    absent = away.absences(notes, T0)
    assert sent(convs[:1], DUE - MIN, cfg, absent) == [("T00001", Step.AT_RISK, "bob")]
    [n] = due(convs[:1], DUE - MIN, cfg, absent)
    assert n.instead_of == "alice" and "Alice Martin is away" in n.body
    anyone = away.absences([away.note("alice", "ceo", T0 - MIN, T0 + 60 * MIN * 24)], T0)
    # us-east: carol is the only other qualified manager (bob is not): she takes it
    assert sent(convs[:1], DUE - MIN, cfg, anyone) == [("T00001", Step.AT_RISK, "carol")]
    both = away.absences([away.note("alice", "ceo", T0 - MIN, T0 + 60 * MIN),
                          away.note("carol", "carol", T0, T0 + 60 * MIN)], T0)  # fmt: skip
    assert sent(convs[:1], DUE - MIN, cfg, both) == [("T00001", Step.AT_RISK, "alice")]  # nobody


def test_the_least_loaded_qualified_colleague_is_picked() -> None:
    cfg = agency_config()
    west = [conversation(i, region="us-west", owner="bob") for i in (1, 2)]
    c = conversation(3, region="us-west", owner="carol")
    absent = away.absences([away.note("carol", "carol", T0, T0 + 60 * MIN)], T0)
    load = away.loads([*west, c])
    assert load == Counter({"bob": 2, "carol": 1})
    assert away.stand_in(c, absent, cfg, load, T0) == "alice"  # qualified, least loaded


def test_an_absence_ends_at_its_end_or_when_back_and_the_latest_note_wins() -> None:
    notes = [away.note("alice", "alice", T0, T0 + 60 * MIN, "bob")]
    assert set(away.absences(notes, T0 + 59 * MIN)) == {"alice"}
    assert away.absences(notes, T0 + 60 * MIN) == {}
    back = [*notes, away.note("alice", "bob", T0 + 10 * MIN, None)]
    assert away.absences(back, T0 + 11 * MIN) == {}
    again = [*back, away.note("alice", "alice", T0 + 20 * MIN, T0 + 90 * MIN)]
    [a] = away.absences(reversed(again), T0 + 30 * MIN).values()  # any order
    assert (a.until, a.backup) == (T0 + 90 * MIN, "")


def test_a_lock_is_live_in_its_slot_and_the_next_then_expired_and_values_are_few() -> None:
    start = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # a slot's first second
    lock = nudges.lock_mark(start)
    assert nudges.locked([lock], start + LOCK_SLOT * 2 - timedelta(seconds=1))
    assert not nudges.locked([lock], start + LOCK_SLOT * 2)
    late = nudges.lock_mark(start + LOCK_SLOT - timedelta(seconds=1))  # taken at the end
    assert late == lock and not nudges.locked([late], start + LOCK_EXPIRED_AFTER)
    assert not nudges.locked([Mark(MarkKind.OWNER, "alice")], start)
    values = {nudges.lock_mark(start + i * LOCK_SLOT).value for i in range(100)}
    assert values == {"0", "1", "2", "3"}  # a bounded set of keywords, however many nudges


def test_a_nudge_is_sent_once_its_nudged_note_is_there() -> None:
    [n] = due([conversation(1)], DUE - MIN, agency_config(), {})
    before = nudges.note(n, nudges.NUDGING, "alice", T0)
    assert before.until == T0 + LOCK_EXPIRED_AFTER and before.to == "alice"
    assert not nudges.sent([before], n.key)
    assert nudges.sent([before, nudges.note(n, nudges.NUDGED, "bob", T0)], n.key)
    [other] = due([conversation(2)], DUE - MIN, agency_config(), {})
    assert not nudges.sent([nudges.note(other, nudges.NUDGED, "bob", T0)], n.key)


def test_a_held_nudge_is_due_when_the_recipients_hours_start() -> None:
    base = agency_config()
    carol = dataclasses.replace(base.managers["carol"], timezone="America/New_York",
                                hours=(time(9), time(17)))  # fmt: skip
    cfg = dataclasses.replace(base, managers={**base.managers, "carol": carol})
    opens = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    [n, ceo] = due([conversation(1, owner="carol")], opens, cfg, {})
    assert (n.due_at, ceo.due_at) == (opens, DUE)  # the CEO has no hours: at the breach


def test_the_nudge_says_how_long_and_by_when_in_both_zones_and_is_inert() -> None:
    hostile = "Acme\x1b[31m [bold]Corp[/bold]\u202e"
    base = agency_config()
    alice = dataclasses.replace(base.managers["alice"], timezone="America/Los_Angeles")
    cfg = dataclasses.replace(base, managers={**base.managers, "alice": alice})
    conv = conversation(1, client_name=hostile, subject="Pay\x07 now\r\nBcc: x@evil.test")
    [n] = due([conv], DUE - 12 * MIN, cfg, {})
    first = n.body.splitlines()[0]
    assert first.endswith("has waited 48 min; 12 min left; reply by 06:15 New York "
                          "(03:15 yours)")  # fmt: skip
    assert is_inert(n.subject, single_line=True) and is_inert(n.body)
    assert "\r" not in n.subject and "\n" not in n.subject
    late, _ceo = due([conv], DUE + 75 * MIN, cfg, {})
    assert "has waited 2 h 15 min; 1 h 15 min overdue; it was due 06:15 New York" in late.body


def test_the_console_ladder_tells_the_stand_in_and_not_the_away_owner() -> None:
    convs = [conversation(1)]
    view = QueueView.of(convs, T0)
    cfg = agency_config()
    absent = away.absences([away.note("alice", "alice", T0, T0 + 24 * 60 * MIN, "carol")], T0)
    for user, told in (("alice", []), ("carol", [("T00001", Step.AT_RISK)])):
        ladder = Ladder(primed=True)
        found = ladder.due(view, DUE - 10 * MIN, cfg, user, absent)
        assert [(a.thread_id, a.step) for a in found] == told
