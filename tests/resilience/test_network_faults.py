"""The network misbehaves: deadlines, Retry-After, backoff, offline, recovery, auth.

Every test drives the real TriageService (sync engine, actions, JMAP provider,
JmapHttp) against the demo JMAP server through a fault-injecting transport.
Retry pauses are recorded by the rig instead of slept.
"""

from __future__ import annotations

import dataclasses
import email.utils
import os
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.resilience.conftest import Rig
from tests.support import faults
from triage.config import Config
from triage.providers.base import AuthError, OfflineError, ProviderError
from triage.providers.jmap import http
from triage.service.core import TriageService

SECRET = "tok-SECRET-1234"


class MaxRandom(random.Random):
    """Jitter that always picks the top of its range, so the backoff curve shows."""

    def uniform(self, a: float, b: float) -> float:
        return b


def thread_keywords(rig: Rig, key: str) -> set[str]:
    server = rig.demo.server
    emails = server.thread_emails(rig.demo.threads[key])
    return {k for e in emails for k, v in e.keywords.items() if v}


# -- the overall deadline ---------------------------------------------------------


async def test_a_server_that_stalls_after_the_headers_is_cut_by_the_deadline(rig: Rig) -> None:
    service = rig.open(timeout=0.2, retries=1)
    assert rig.transport is not None
    rig.transport.plan = [faults.stall(3600), faults.stall(3600)]
    # An hour-long stall ends only by the deadline (else pytest-timeout fails the test).
    with pytest.raises(OfflineError, match=r"did not answer within 0\.2 s"):
        await service.sync()
    assert [s.fault for s in rig.transport.seen].count("stall") == 2 and not rig.transport.plan
    status = service.status()
    assert (status.online, status.offline_since) == (False, rig.clock.now())
    assert "did not answer" in status.error
    assert len(rig.sleeps) == 1  # the read was retried once, then given up


async def test_a_server_that_drips_bytes_is_cut_by_the_deadline(rig: Rig) -> None:
    # 1 byte every 20 ms never trips a per-read timeout: only the overall deadline helps.
    service = rig.open(timeout=0.2, retries=1)
    assert rig.transport is not None
    rig.transport.aim("Mailbox/get", faults.drip(1, 0.02), faults.drip(1, 0.02))
    with pytest.raises(OfflineError, match="did not answer within"):
        await service.sync()
    assert [s.fault for s in rig.transport.seen].count("drip") == 2
    assert not service.status().online


async def test_one_stall_is_retried_and_the_sync_goes_through(rig: Rig) -> None:
    service = rig.open(timeout=0.2, retries=2)
    assert rig.transport is not None
    rig.transport.plan = [faults.stall(3600)]
    result = await service.sync()
    assert result.full and len(list(service.queue_view())) > 10
    assert service.status().online
    assert len(rig.sleeps) == 1


# -- Retry-After -------------------------------------------------------------------


def _http_date(rig: Rig, seconds: float) -> str:
    return email.utils.format_datetime(rig.clock.now() + timedelta(seconds=seconds), usegmt=True)


@pytest.mark.parametrize("code", [429, 503])
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        ("date+12", 12.0),
        ("86400", http.MAX_RETRY_AFTER),
        ("date+86400", http.MAX_RETRY_AFTER),
        ("date-300", 0.0),  # a date in the past: retry now, never a negative pause
    ],
)
async def test_retry_after_is_honoured_and_capped(
    rig: Rig, code: int, header: str, expected: float
) -> None:
    service = rig.open()
    assert rig.transport is not None
    value = _http_date(rig, float(header[4:])) if header.startswith("date") else header
    rig.transport.plan = [faults.status(code, {"Retry-After": value})]
    await service.sync()
    assert rig.sleeps == [expected]
    assert [s.fault for s in rig.transport.seen[:2]] == ["status", "ok"]
    assert rig.transport.seen[0].url == rig.transport.seen[1].url  # the same request again


# -- 500: backoff with jitter ---------------------------------------------------------


async def test_server_errors_back_off_exponentially_up_to_a_cap(rig: Rig) -> None:
    service = rig.open(retries=8, rng=MaxRandom())
    assert rig.transport is not None
    rig.transport.plan = [faults.status(500)] * 8
    await service.sync()
    assert rig.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


async def test_server_error_backoff_is_jittered_by_the_injected_rng(rig: Rig) -> None:
    runs = []
    for seed in (1, 2, 1):
        rig.sleeps.clear()
        service = rig.open(rng=random.Random(seed))
        assert rig.transport is not None
        rig.transport.plan = [faults.status(500)] * 3
        await service.sync()
        runs.append(list(rig.sleeps))
    for pauses in runs:
        assert len(pauses) == 3
        assert all(0 <= d <= 0.5 * 2**n for n, d in enumerate(pauses, start=1))
    assert runs[0] != runs[1]  # jittered: two consoles do not retry in lockstep
    assert runs[0] == runs[2]  # and drawn only from the injected rng


async def test_persistent_server_errors_end_in_a_clear_error(rig: Rig) -> None:
    service = rig.open(retries=4)
    assert rig.transport is not None
    rig.transport.plan = [faults.status(500)] * 5
    with pytest.raises(ProviderError, match=r"server error \(HTTP 500\)"):
        await service.sync()
    assert len(rig.sleeps) == 4
    assert "HTTP 500" in service.status().error


# -- offline, the queue from the cache, recovery -------------------------------------------


def countdowns(service: TriageService, now: datetime) -> dict[str, float]:
    out = {c.thread_id: c.seconds_left(now) for c in list(service.queue_view())}
    return {t: left for t, left in out.items() if left is not None}


@pytest.mark.parametrize("fault", [faults.connect_error, faults.dns_error])
async def test_offline_start_keeps_the_queue_ticking_and_recovers(
    rig: Rig, fault: Callable[[], faults.Fault]
) -> None:
    first = rig.open()
    await first.sync()
    expected = [c.thread_id for c in list(first.queue_view())]
    assert len(expected) > 10

    service = rig.open()  # the next morning's start, with the network down
    assert rig.transport is not None
    rig.transport.outage = fault()
    with pytest.raises(OfflineError, match=r"cannot reach demo\.invalid"):
        await service.sync()
    down_at = rig.clock.now()
    status = service.status()
    assert (status.online, status.offline_since) == (False, down_at)
    assert rig.transport.forwarded == 0
    assert [c.thread_id for c in list(service.queue_view())] == expected  # usable from the cache

    at_risk = rig.demo.threads["at-risk-east"]  # 9 minutes left at the start
    before = countdowns(service, rig.clock.now())
    rig.clock.advance(timedelta(minutes=10))
    after = countdowns(service, rig.clock.now())
    assert before[at_risk] > 0 > after[at_risk]
    assert len(before) > 10 and after == {t: left - 600 for t, left in before.items()}
    with pytest.raises(OfflineError):
        await service.sync()
    assert service.status().offline_since == down_at  # still offline since the first failure


async def test_escalate_while_offline_is_queued_and_flushed_on_recovery(rig: Rig) -> None:
    await rig.open().sync()
    service = rig.open()
    assert rig.transport is not None
    rig.transport.outage = faults.connect_error()
    with pytest.raises(OfflineError):
        await service.sync()
    thread = rig.demo.threads["ok-central"]
    await service.escalate(thread, "client threatens to leave")
    assert service.status().outbox_count == 1
    assert "triage-escalated" not in thread_keywords(rig, "ok-central")
    assert thread in {c.thread_id for c in service.escalations()}  # shown locally at once

    rig.transport.outage = None
    result = await service.sync()
    assert result.flushed == 1
    status = service.status()
    assert (status.online, status.offline_since, status.outbox_count) == (True, None, 0)
    assert "triage-escalated" in thread_keywords(rig, "ok-central")
    await service.sync()  # the next round reads the shared state back from the provider
    conv = next(c for c in service.conversations() if c.thread_id == thread)
    assert conv.escalated and conv.escalation_reason == "client threatens to leave"


# -- authentication ---------------------------------------------------------------------


def _jmap_config(rig: Rig, tmp_path: Path, **provider: Any) -> Config:
    p = dataclasses.replace(
        rig.config.provider, kind="jmap", auth="bearer", session_url=rig.demo.session_url,
        **provider,
    )  # fmt: skip
    return dataclasses.replace(rig.config, provider=p)


async def test_401_names_the_token_file_and_is_not_retried(rig: Rig, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text(SECRET + "\n")
    os.chmod(token, 0o600)
    cfg = _jmap_config(rig, tmp_path, token_file=token)
    service = rig.open(config=cfg, record_sleeps=False)
    assert rig.transport is not None
    with pytest.raises(AuthError, match=r"HTTP 401.*check provider\.token_file") as err:
        await service.sync()
    sent = [s for s in rig.transport.seen if s.url.endswith("/jmap/session")]
    assert len(sent) == 1  # a wrong token is not retried (nor hammered into a lockout)
    assert SECRET not in str(err.value)
    assert "provider.token_file" in service.status().error
    assert service.status().online  # the network is fine: this is not "offline"


async def test_401_with_a_token_from_the_environment_names_token_env(
    rig: Rig, tmp_path: Path
) -> None:
    cfg = _jmap_config(rig, tmp_path, token_env="TRIAGE_TEST_TOKEN")
    env = {"TRIAGE_TEST_TOKEN": SECRET}
    service = rig.open(config=cfg, env=env, record_sleeps=False)
    with pytest.raises(AuthError, match=r"check provider\.token_env") as err:
        await service.sync()
    assert SECRET not in str(err.value)
    assert rig.transport is not None
    assert len([s for s in rig.transport.seen if s.url.endswith("/jmap/session")]) == 1
