"""Benchmark data: a seeded mailbox of N conversations and a warm cache built from it.

The mailbox is `DemoMailbox.for_benchmark` (regions, known and unknown clients,
owners, staff replies, 1-5 messages a thread), served by the in-process JMAP
server. The warm cache is what a real full sync through `TriageService` writes,
so every figure reads real cache documents. Everything is a pure function of
(size, seed): the mailbox's ids and states are counters, the clock is frozen,
so two builds give byte-identical cache files and a copied cache stays in step
with a rebuilt mailbox.
"""

from __future__ import annotations

import dataclasses
import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

import triage.demo
from triage.clock import FrozenClock
from triage.config import Config, load_config
from triage.providers.jmap import Credentials, connect_provider
from triage.service.core import TriageService

if TYPE_CHECKING:  # the start-up child must not pay for the demo server's import
    from triage.demo.mailbox import DemoMailbox

# A Wednesday, 10:00 in New York: US and Canadian regions are open, so the
# queue holds breached, at-risk and fine conversations at once.
BENCH_NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
SEED = 7
DEMO_CONFIG = Path(triage.demo.__file__).with_name("demo.toml")
TEAM = "team@agency.example"
CACHE_FILES = ("cache.json", "threads.json", "bodies.json", "outbox.json")


def bench_mailbox(n: int, seed: int = SEED) -> DemoMailbox:
    """The embedded mailbox with `n` conversations, frozen at BENCH_NOW."""
    from triage.demo.mailbox import DemoMailbox

    return DemoMailbox.for_benchmark(n, seed, BENCH_NOW)


def bench_config(cache_dir: Path) -> Config:
    """The demo config (its regions, clients, managers) with the cache in `cache_dir`."""
    return dataclasses.replace(
        load_config(DEMO_CONFIG, env={}), cache_path=cache_dir / "cache.json"
    )


def _no_network(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("benchmark: no provider here", request=request)


def open_service(
    cache_dir: Path, demo: DemoMailbox | None = None, clock: FrozenClock | None = None
) -> TriageService:
    """A TriageService on the cache in `cache_dir` (built without network I/O).

    With `demo` it talks to that mailbox; without, every request fails at once,
    as with the network down, so nothing can sneak into a measurement.
    """
    clock = clock or FrozenClock(BENCH_NOW)
    cfg = bench_config(cache_dir)
    if demo is not None:
        return TriageService(cfg, clock, provider=demo.provider())
    settings = dataclasses.replace(cfg.provider, kind="jmap")
    offline = connect_provider(
        settings, Credentials("basic", "bench", "bench"), clock=clock,
        session_url="http://127.0.0.1:9/jmap/session",
        transport=httpx.MockTransport(_no_network),
    )  # fmt: skip
    return TriageService(cfg, clock, provider=offline)


async def build_warm_cache(demo: DemoMailbox, cache_dir: Path) -> None:
    """Run a real full sync of `demo` into `cache_dir`."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    service = open_service(cache_dir, demo)
    try:
        result = await service.sync()
        if not result.full:
            raise RuntimeError(f"expected a full sync into an empty cache at {cache_dir}")
    finally:
        await service.close()


def copy_cache(src: Path, dst: Path) -> Path:
    """Copy a warm cache's files into a fresh directory (private, like a real one)."""
    dst.mkdir(parents=True, mode=0o700)
    for name in CACHE_FILES:
        shutil.copy2(src / name, dst / name)
    return dst


def cache_bytes(cache_dir: Path) -> int:
    """Size of the hot cache file (the one every action rewrites)."""
    return (cache_dir / "cache.json").stat().st_size


def change_conversations(demo: DemoMailbox, count: int, round_no: int) -> int:
    """Deliver `count` changes: 90% new messages in existing threads, 10% new threads.

    Half the follow-ups are client messages (the thread waits again, its
    deadline moves), half are staff replies (it leaves the queue), so a sync
    re-orders the queue. Deterministic for (seed, round_no). Returns `count`.
    """
    rng = random.Random(f"{demo.seed}:changes:{round_no}")
    server = demo.server
    now = demo.clock.now()
    existing = rng.sample(sorted(server.threads), count - count // 10)
    managers = sorted(demo.config.managers.values(), key=lambda m: m.id)
    for k, thread_id in enumerate(existing):
        last = server.emails[server.threads[thread_id][-1][1]]
        client = next(str(e.from_[0]["email"]) for e in server.thread_emails(thread_id)
                      if "agency.example" not in str(e.from_[0]["email"]))  # fmt: skip
        at = now - timedelta(minutes=rng.uniform(1, 50))
        at = min(max(at, last.received_at + timedelta(seconds=1)), now)
        mid = f"chg{round_no}.{k}.{demo.seed}@bench.example"
        reply = {"message_id": mid, "in_reply_to": last.message_id[0]}
        subject = f"Re: {last.subject}"
        if k % 2:
            m = rng.choice(managers)
            server.deliver(m.name, m.email, [client], subject, "Ok.", at, **reply, mailbox="sent")
        else:
            server.deliver("Client", client, [TEAM], subject, "Any news?", at, **reply)
    for k in range(count // 10):
        at = now - timedelta(minutes=rng.uniform(1, 50))
        address = f"new{round_no}-{k}@fresh-client{k % 37}.example.com"
        mid = f"new{round_no}.{k}@bench.example"
        subject = f"New request {round_no}.{k}"
        server.deliver("New Client", address, [TEAM], subject, "Hello?", at, message_id=mid)
    return count
