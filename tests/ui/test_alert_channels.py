"""Alerts on their channels: a toast, the bell, and the desktop notification sequence
(OSC 9 / OSC 777, wrapped for tmux), with hostile email text made inert in each."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from tests.support.fake_service import FakeService
from tests.ui.conftest import NotingApp, settle
from triage.domain.settings import AlertsConfig
from triage.ui.alerts import desktop_sequence
from triage.ui.app import TriageApp

SIZE = (100, 30)


def alerting(service: FakeService, **alerts: Any) -> FakeService:
    service.config = dataclasses.replace(service.config, alerts=AlertsConfig(**alerts))
    return service


async def test_a_conversation_turning_at_risk_rings_and_toasts_once() -> None:
    service = alerting(FakeService())
    app = NotingApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.tell_alerts(service.now())  # the first look: what is shown already
        assert app.emitted == [] and not [n for n in app.notes if n.startswith("At risk")]
        # t07 (Alice's, dana@gmail.com) has 52 minutes left: at risk in 38 minutes
        service.clock.advance(timedelta(minutes=38))
        app.tell_alerts(service.now())
        app.tell_alerts(service.now() + timedelta(seconds=5))
        told = [n for n in app.notes if n.startswith("At risk: dana@gmail.com")]
        assert len(told) == 1 and "(0:14 left)" in told[0]
        # Alice's t03 and t10 breached meanwhile: one toast and one bell per alert
        alerts = [n for n in app.notes if n.startswith(("At risk:", "Breached:"))]
        assert len(alerts) == 3 and app.emitted == ["\a"] * 3


async def test_the_desktop_notification_carries_no_escape_from_email_and_passes_tmux(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,1,0")
    service = alerting(FakeService.hostile(), bell=False, toast=False, desktop="osc777")
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.tell_alerts(service.now())
        service.clock.advance(timedelta(minutes=38))
        app.tell_alerts(service.now())
        assert len(app.emitted) == 3
        for seq in app.emitted:
            assert seq.startswith("\x1bPtmux;\x1b\x1b]777;notify;triage: ")
            assert seq.endswith("\x07\x1b\\")
            inner = seq[len("\x1bPtmux;") : -len("\x1b\\")].replace("\x1b\x1b", "\x1b")
            fields = inner[len("\x1b]777;notify;") : -1]
            assert fields.count(";") == 1  # title;body: nothing from email splits them
            assert not any(ch in fields for ch in "\x1b\x07\x9c\x9d\x00\u202e")


def test_osc9_and_777_sequences_are_printable_text_cut_short() -> None:
    evil = "Pay \x1b]52;c;aGk=\x07 now;\x9c" + "x" * 300
    nine = desktop_sequence("osc9", "triage: Breached", evil, in_tmux=False)
    assert nine.startswith("\x1b]9;triage: Breached: Pay ]52;c;aGk= now;") and nine.endswith("\x07")
    assert nine.count("\x1b") == 1 and nine.count("\x07") == 1 and len(nine) < 130
    seven = desktop_sequence("osc777", "a;b", evil, in_tmux=False)
    assert seven.startswith("\x1b]777;notify;ab;Pay ]52c") and seven.count(";") == 3
