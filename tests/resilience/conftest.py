"""The resilience rig: the real TriageService over the demo JMAP server, with faults.

`Rig.open()` wires a service like `triage --demo` does, but on a frozen clock, a
mailbox without live arrivals, a cache under tmp_path and an `AimedTransport`.
The JmapHttp inside is rebuilt so its retry pauses are recorded (never slept)
and its jitter comes from a seeded rng. Opening a second service on the same
cache path without closing the first is how these tests "crash" a process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.support.faults import Fault, FaultyTransport
from triage.clock import FrozenClock
from triage.config import Config
from triage.demo.mailbox import DemoMailbox
from triage.providers.jmap import Credentials, JmapProvider
from triage.providers.jmap import credentials as jmap_credentials
from triage.providers.jmap.http import JmapHttp
from triage.service.core import TriageService

T0 = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # a Tuesday, 11:00 in New York
Aimed = Fault | Callable[[bytes], Fault]


@dataclass
class AimedTransport(FaultyTransport):
    """A FaultyTransport that can also aim a fault at the request carrying `needle`.

    An aimed fault may be a function of the request body (to answer with the ids
    asked for). `outage` (say connect_error) meets every request until cleared.
    """

    aimed: list[tuple[bytes, Aimed]] = field(default_factory=list)
    outage: Fault | None = None

    def aim(self, needle: str, *plan: Aimed) -> None:
        self.aimed.extend((needle.encode(), f) for f in plan)

    def methods(self) -> list[str]:
        """The JMAP methods of every API request seen, in order (for assertions)."""
        out = []
        for s in self.seen:
            for name in (b"EmailSubmission/set", b"Email/set", b"Email/changes", b"Email/query"):
                if name in s.body:
                    out.append(name.decode())
                    break
        return out

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        if self.outage is not None:
            self.plan.insert(0, self.outage)
        else:
            for i, (needle, fault) in enumerate(self.aimed):
                if needle in body:
                    del self.aimed[i]
                    self.plan.insert(0, fault if isinstance(fault, Fault) else fault(body))
                    break
        return await super().handle_async_request(request)


@dataclass
class Rig:
    clock: FrozenClock
    demo: DemoMailbox
    config: Config
    sleeps: list[float] = field(default_factory=list)
    opened: list[TriageService] = field(default_factory=list)
    transport: AimedTransport | None = None

    @property
    def cache_path(self) -> Path:
        return self.config.cache_path

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def open(
        self,
        *,
        timeout: float = 5.0,
        retries: int = 4,
        rng: random.Random | None = None,
        credentials: Credentials | None = None,
        record_sleeps: bool = True,
        config: Config | None = None,
        env: dict[str, str] | None = None,
    ) -> TriageService:
        """A new service (a new "process") on the same cache and the same server.

        A `kind = "jmap"` config reads its secret as a real one would (token file or
        environment); the demo config signs in with the demo's own login."""
        cfg = config or self.config
        if credentials is None:
            demo = cfg.provider.kind == "demo"
            login = self.demo.login
            credentials = Credentials("basic", login.username, login.password) if demo else (
                jmap_credentials(cfg.provider, env or {}))  # fmt: skip
        transport = AimedTransport(self.demo.transport())
        sleep = self._sleep if record_sleeps else asyncio.sleep
        http = JmapHttp(self.demo.session_url, credentials, timeout=timeout, transport=transport,
                        retries=retries, sleep=sleep, clock=self.clock,
                        rng=rng or random.Random(0))  # fmt: skip
        p = cfg.provider
        provider = JmapProvider(
            http, mailbox=p.mailbox, notes_mailbox=p.notes_mailbox, clock=self.clock
        )
        service = TriageService(cfg, self.clock, provider=provider, env=env)
        self.transport = transport
        self.opened.append(service)
        return service


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    clock = FrozenClock(T0)
    demo = DemoMailbox(clock, live=False)
    cfg = dataclasses.replace(demo.config, cache_path=tmp_path / "cache" / "cache.json")
    r = Rig(clock, demo, cfg)
    yield r
    for service in r.opened:
        await service.close()
