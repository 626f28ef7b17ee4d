"""The benchmark's data generator is deterministic and realistic; the quick run works.

Speed is never asserted here: the run is checked for its shape (one table,
every target's row), not its numbers.
"""

from __future__ import annotations

import asyncio
import collections
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.data import (
    BENCH_NOW,
    bench_mailbox,
    build_warm_cache,
    change_conversations,
    copy_cache,
    open_service,
)
from benchmarks.report import spread
from benchmarks.targets import ROWS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("bench") / "warm"
    asyncio.run(build_warm_cache(bench_mailbox(120, seed=3), directory))
    return directory


def test_same_seed_same_cache_bytes(warm: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    asyncio.run(build_warm_cache(bench_mailbox(120, seed=3), again))
    assert (again / "cache.json").read_bytes() == (warm / "cache.json").read_bytes()


def test_another_seed_another_mailbox(tmp_path: Path) -> None:
    a, b = bench_mailbox(60, seed=1), bench_mailbox(60, seed=2)
    subjects = {e.from_[0]["email"] for e in a.server.emails.values()}
    assert subjects != {e.from_[0]["email"] for e in b.server.emails.values()}


def test_warm_cache_is_realistic(warm: Path, tmp_path: Path) -> None:
    service = open_service(copy_cache(warm, tmp_path / "copy"))
    convs = service.conversations()
    assert len(convs) == 120
    assert len({c.region for c in convs}) >= 3
    assert len({c.owner for c in convs}) >= 2
    assert any(c.region_guessed for c in convs) and not all(c.region_guessed for c in convs)
    sizes = collections.Counter(c.message_count for c in convs)
    assert set(sizes) == {1, 2, 3, 4, 5}
    waiting = list(service.queue_view())
    assert 0 < len(waiting) < len(convs)  # staff replies took some out of the queue
    assert any(c.deadline is not None and c.deadline < BENCH_NOW for c in waiting)
    assert any(c.deadline is not None and c.deadline > BENCH_NOW for c in waiting)
    asyncio.run(service.close())


def test_changes_reach_the_cache_in_one_write(tmp_path: Path) -> None:
    demo = bench_mailbox(80, seed=5)
    cache_dir = tmp_path / "c"
    asyncio.run(build_warm_cache(demo, cache_dir))

    async def scenario() -> tuple[int, int, int]:
        service = open_service(cache_dir, demo, demo.clock)  # type: ignore[arg-type]
        await service.sync()
        writes = service.cache._hot.atomic.writes
        change_conversations(demo, 40, round_no=0)
        result = await service.sync()
        changed = len(result.added) + len(result.updated) + len(result.removed)
        new = len(result.added)
        await service.close()
        return service.cache._hot.atomic.writes - writes, changed, new

    writes, changed, new = asyncio.run(scenario())
    assert writes == 1
    assert changed >= 36 and new == 4


def test_spread_shows_median_and_range() -> None:
    assert spread([3.1, 1.5, 2.2]) == "2.2 (1.5-3.1)"
    assert spread([120.4, 80.0, 99.5], "x") == "99.5x (80-120)"
    assert spread([1.0, 1.0]) == "1"
    assert spread([]) == "-"


def test_quick_run_prints_one_table_with_every_target() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--sizes", "200", "--repeats", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = [line for line in proc.stdout.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| what | 200 | target | verdict |")
    assert len(table) == 1 + len(ROWS)
    for row in ROWS:
        assert any(line.startswith(f"| {row.what} |") for line in table), row.what
    assert "textual" in proc.stdout and "CPU:" in proc.stdout
