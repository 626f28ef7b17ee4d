"""The warning ladder: each step told once, to the right person, within their hours."""

from __future__ import annotations

import dataclasses
from datetime import time, timedelta

from tests.support.builders import T0, agency_config, conversation
from triage.domain.alerts import Ladder, Step, on_shift
from triage.domain.model import CEO_ID, Status, Tier
from triage.domain.ordering import QueueView
from triage.domain.settings import AgencyConfig, AlertsConfig

MIN = timedelta(minutes=1)


def steps(ladder: Ladder, convs: list[object], now: object, user: str = "alice",
          **cfg: object) -> list[tuple[str, Step]]:  # fmt: skip
    view = QueueView.of(convs, now)  # type: ignore[arg-type]
    config = agency_config(**cfg)
    return [(a.thread_id, a.step) for a in ladder.due(view, now, config, user)]  # type: ignore[arg-type]


def test_each_step_is_told_once_and_what_was_shown_at_start_is_not_told() -> None:
    # Both due at T0 + 60 min; T00002 is at risk already when the console starts.
    convs = [conversation(1), conversation(2, deadline=T0 + 10 * MIN)]
    ladder = Ladder()
    assert steps(ladder, convs, T0) == []  # the first look only records
    assert steps(ladder, convs, T0 + 5 * MIN) == []  # T00002 still at risk: shown, not told
    # T00002 breached: a new step; T00001 has 16 minutes left, not at risk yet
    assert steps(ladder, convs, T0 + 44 * MIN) == [("T00002", Step.BREACHED)]
    assert steps(ladder, convs, T0 + 46 * MIN) == [("T00001", Step.AT_RISK)]
    assert steps(ladder, convs, T0 + 50 * MIN) == []  # told once
    assert steps(ladder, convs, T0 + 60 * MIN) == [("T00001", Step.BREACHED)]
    assert steps(ladder, convs, T0 + 90 * MIN) == []


def test_only_the_owners_waiting_conversations_are_told() -> None:
    convs = [conversation(1, owner="bob"),
             conversation(2, status=Status.DONE, waiting=False),
             conversation(3, status=Status.SNOOZED, wake_at=T0 + 2 * 60 * MIN),
             conversation(4, status=Status.ANSWERED, waiting=False, deadline=None)]  # fmt: skip
    ladder = Ladder(primed=True)
    assert steps(ladder, convs, T0 + 61 * MIN) == []
    assert steps(Ladder(primed=True), convs, T0 + 61 * MIN, user="bob") == [
        ("T00001", Step.BREACHED)]  # fmt: skip


def test_the_ceo_is_told_new_escalations_and_premium_breaches() -> None:
    convs = [conversation(1, escalated=True, escalation_reason="client unhappy"),
             conversation(2, tier=Tier.PREMIUM), conversation(3)]  # fmt: skip
    graced = AgencyConfig(("agency.example",), "ceo@agency.example", escalate_after_minutes=30)
    ladder = Ladder()
    assert steps(ladder, convs, T0, user=CEO_ID, agency=graced) == []  # in the pane at start
    convs.append(conversation(4, ceo_contacted=True))
    assert steps(ladder, convs, T0 + MIN, user=CEO_ID, agency=graced) == [
        ("T00004", Step.ESCALATED)]  # fmt: skip
    # at the deadline: premium T00002 breached (T00003 is standard); 30 minutes on,
    # both are escalated by the rule (T00002's breach was told already: one alert more)
    assert steps(ladder, convs, T0 + 61 * MIN, user=CEO_ID, agency=graced) == [
        ("T00002", Step.BREACHED)]  # fmt: skip
    assert steps(ladder, convs, T0 + 91 * MIN, user=CEO_ID, agency=graced) == [
        ("T00002", Step.ESCALATED), ("T00003", Step.ESCALATED)]  # fmt: skip


def test_nothing_is_told_outside_the_managers_hours_unless_asked() -> None:
    # T0 is Thursday 10:15 UTC (05:15 in New York); the deadline an hour later.
    convs = [conversation(1)]
    alice = agency_config().managers["alice"]
    nights = dataclasses.replace(alice, timezone="America/New_York", hours=(time(18), time(23)))
    managers = {**agency_config().managers, "alice": nights}
    assert steps(Ladder(primed=True), convs, T0 + 61 * MIN, managers=managers) == []
    loud = AlertsConfig(outside_hours=True)
    assert steps(Ladder(primed=True), convs, T0 + 61 * MIN, managers=managers, alerts=loud) == [
        ("T00001", Step.BREACHED)]  # fmt: skip
    cfg = agency_config(managers=managers)
    assert not on_shift(nights, T0, cfg)
    assert on_shift(nights, T0 + 14 * 60 * MIN, cfg)  # 19:15 in New York
    assert on_shift(alice, T0, cfg)  # no hours configured: always


def test_a_backlog_told_already_is_not_built_again() -> None:
    """Every few seconds the ladder looks at all the breached: those told every step they
    can be told are skipped by id, so a console on a big backlog does not build them."""
    from triage.domain.ordering import SortedQueue, Unbuilt, entry

    builds: list[str] = []

    def build(conv: object) -> object:
        builds.append(conv.thread_id)  # type: ignore[attr-defined]
        return conv

    late = [conversation(n, deadline=T0 + n * MIN) for n in range(1, 40)]
    q = SortedQueue()
    q.load([Unbuilt(entry(c)[:4], c, build, queued=True) for c in late])  # type: ignore[arg-type]
    ladder, cfg = Ladder(primed=True), agency_config()
    told = ladder.due(q.view(T0 + 30 * MIN), T0 + 30 * MIN, cfg, "alice")
    assert {a.step for a in told} == {Step.AT_RISK, Step.BREACHED} and len(builds) == 39
    ladder.due(q.view(T0 + 2 * 60 * MIN), T0 + 2 * 60 * MIN, cfg, "alice")  # all breached
    builds.clear()
    fresh = [Unbuilt(entry(c)[:4], c, build, queued=True) for c in late]  # rebuilt views
    q.load(fresh)  # type: ignore[arg-type]
    assert ladder.due(q.view(T0 + 3 * 60 * MIN), T0 + 3 * 60 * MIN, cfg, "alice") == []
    both = {Step.AT_RISK, Step.BREACHED}
    told_both = [c.thread_id for c in late if ladder.told[c.thread_id] >= both]
    assert told_both and not set(told_both) & set(builds)
