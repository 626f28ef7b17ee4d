"""The measurements: each returns raw samples; `run.py` turns them into the table.

In-process figures share one TriageService per size, on a copy of the warm
cache, talking to the seeded mailbox through its in-process JMAP transport:
- `core_figures`: an incremental sync with no changes, a sync bringing 500
  changes, persisting an escalation (no Textual involved);
- `console_figures`: a countdown tick and a re-order after a 500-change sync,
  in the headless console.
`start_ms` and `memory` run `benchmarks.child` in fresh processes.
The server runs in this process, so its CPU time is measured and taken out of
the client's; cache methods are wrapped to time the cache's share of a call.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks.data import change_conversations, open_service
from triage.demo.mailbox import DemoMailbox
from triage.service.core import TriageService

CHANGES = 500


def changes_for(demo: DemoMailbox) -> int:
    """500 changes, or half the mailbox when it is smaller (the quick mode's 200)."""
    return min(CHANGES, len(demo.server.threads) // 2)


Samples = dict[str, list[float]]


class Timed:
    """Wraps methods of one object to add up the wall time spent in them."""

    def __init__(self, obj: object, names: tuple[str, ...], clock: Callable[[], float]) -> None:
        self.total = 0.0
        self._clock = clock
        for name in names:
            setattr(obj, name, self._wrap(getattr(obj, name)))

    def _wrap(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = self._clock()
            try:
                return method(*args, **kwargs)
            finally:
                self.total += self._clock() - t0

        return timed


def time_server(demo: DemoMailbox) -> list[float]:
    """Make the mailbox's server add up its own CPU time (seconds) into the returned cell."""
    spent = [0.0]
    handle = demo.server.handle_request

    async def timed(request: Any) -> Any:
        t0 = time.process_time()
        try:
            return await handle(request)
        finally:
            spent[0] += time.process_time() - t0

    demo.server.handle_request = timed  # type: ignore[method-assign]
    return spent


def storage_writes(service: TriageService) -> int:
    """Completed file writes of the cache's files (hot, thread references, bodies, outbox)."""
    c = service.cache
    return sum(db.atomic.writes for db in (c._hot, c._ref_db, c._body_db, c._out_db))


CACHE_WRITES = ("apply_sync", "put_outbox", "remove_outbox", "audit")


async def core_figures(demo: DemoMailbox, cache_dir: Path, repeats: int) -> tuple[Samples, Any]:
    """Figures 4-6; returns the samples and the still-open service (for the console)."""
    server_cpu = time_server(demo)
    service = open_service(cache_dir, demo, demo.clock)  # type: ignore[arg-type]
    cache_time = Timed(service.cache, CACHE_WRITES, time.perf_counter)
    out: Samples = {k: [] for k in ("noop_requests", "noop_cpu_ms", "sync_writes",
                                    "sync_cache_ms", "sync_round_ms", "esc_cache_ms",
                                    "esc_call_ms")}  # fmt: skip
    await service.sync()  # connects (session, mailboxes): not part of a steady round
    for _ in range(repeats):
        sent, server0, cpu0 = (
            service.provider.http.requests_sent,
            server_cpu[0],
            time.process_time(),
        )
        await service.sync()
        out["noop_cpu_ms"].append(1000 * (time.process_time() - cpu0 - (server_cpu[0] - server0)))
        out["noop_requests"].append(service.provider.http.requests_sent - sent)
    changes = changes_for(demo)
    out["changes"] = [changes]
    for r in range(repeats):
        change_conversations(demo, changes, r)
        writes, cache0, t0 = storage_writes(service), cache_time.total, time.perf_counter()
        result = await service.sync()
        out["sync_round_ms"].append(1000 * (time.perf_counter() - t0))
        out["sync_cache_ms"].append(1000 * (cache_time.total - cache0))
        out["sync_writes"].append(storage_writes(service) - writes)
        if len(result.added) + len(result.updated) + len(result.removed) < changes * 0.9:
            raise RuntimeError(f"a {changes}-change sync saw only {result}")
    queue = [c for c in list(service.queue_view()) if not c.escalated]
    for r in range(repeats):
        cache0, t0 = cache_time.total, time.perf_counter()
        await service.escalate(queue[r * 3].thread_id, "benchmark: client unhappy")
        out["esc_call_ms"].append(1000 * (time.perf_counter() - t0))
        out["esc_cache_ms"].append(1000 * (cache_time.total - cache0))
    return out, service


async def _cpu_ms(action: Callable[[], Awaitable[None]]) -> float:
    t0 = time.process_time()
    await action()
    return 1000 * (time.process_time() - t0)


async def console_figures(
    service: TriageService, demo: DemoMailbox, repeats: int, first_round: int
) -> Samples:
    """Figures 2-3 in the headless console (the app's own sync loop parked)."""
    from benchmarks.console import SIZE, count_render_lines, make_app, until_painted

    out: Samples = {k: [] for k in ("reorder_cpu_ms", "reorder_ms", "reorder_lines")}
    out["visible_lines"], out["rows"] = [], []
    with count_render_lines() as counter:
        app = make_app(service)
        async with app.run_test(size=SIZE) as pilot:
            table = await until_painted(pilot)
            await pilot.pause()
            # 61 s: every visible countdown (shown to the minute) changes, the
            # worst tick; 1 s: the usual one, where few rows cross a minute.
            for key, step in (("tick", 61), ("tick_1s", 1)):
                out[f"{key}_cpu_ms"], out[f"{key}_rows"] = [], []
                for r in range(repeats + 1):  # the first tick warms caches: not counted
                    service.clock.advance(timedelta(seconds=step))  # type: ignore[attr-defined]
                    built = table.renders
                    cpu = await _cpu_ms(lambda: _tick(app, pilot))
                    if r:
                        out[f"{key}_cpu_ms"].append(cpu)
                        out[f"{key}_rows"].append(table.renders - built)
            for r in range(repeats):
                change_conversations(demo, changes_for(demo), first_round + r)
                await service.sync()
                await pilot.pause()
                calls, t0 = counter.calls, time.perf_counter()
                out["reorder_cpu_ms"].append(await _cpu_ms(lambda: _reload(app, pilot)))
                out["reorder_ms"].append(1000 * (time.perf_counter() - t0))
                out["reorder_lines"].append(counter.calls - calls)
            out["visible_lines"].append(table.size.height)
            out["rows"].append(len(table.rows))
    return out


async def _tick(app: Any, pilot: Any) -> None:
    app.tick()  # what the app's one-second interval runs
    await pilot.pause()  # ...and the frame it causes


async def _reload(app: Any, pilot: Any) -> None:
    # What ConversationsSynced triggers: the round's changes put in order, set_rows.
    app.reload_screens()
    await pilot.pause()


def _child(*args: str) -> tuple[float, dict[str, Any]]:
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.child", *args],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(f"benchmarks.child {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return t0, json.loads(proc.stdout.strip().splitlines()[-1])


def start_ms(cache_dir: Path | None) -> float:
    """Process start to first paint: the console on `cache_dir`, or the bare app (None)."""
    t0, got = _child("start", str(cache_dir)) if cache_dir else _child("baseline")
    return 1000 * (float(got["painted"]) - t0)


def memory(cache_dir: Path) -> tuple[int, int]:
    """(peak RSS, hot cache file size) in bytes, loading the cache in a fresh process."""
    _, got = _child("memory", str(cache_dir))
    return int(got["peak_bytes"]), int(got["file_bytes"])
