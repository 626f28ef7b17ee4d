"""`make bench`: measure every performance target at 1k / 10k / 50k and print one table.

    python -m benchmarks.run                  # the full run (several minutes at 50k)
    python -m benchmarks.run --quick          # 200 / 1k, 2 runs: CI's smoke test
    python -m benchmarks.run --sizes 1000 10000 --repeats 3
    python -m benchmarks.run --results benchmarks/RESULTS.md   # also update that file

Per size: build the seeded mailbox, full-sync it into a warm cache (once), then
measure start-up in fresh processes (interleaved with the bare-Textual baseline),
peak memory in a fresh process, and the rest in this process on a copy of the
cache. Progress goes to stderr; the table to stdout. No figure is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import gc
import re
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import figures
from benchmarks.data import bench_mailbox, build_warm_cache, copy_cache
from benchmarks.report import Results, environment, render
from benchmarks.targets import ROWS

FULL_SIZES = (1_000, 10_000, 50_000)
QUICK_SIZES = (200, 1_000)
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def measure_size(n: int, repeats: int, tmp: Path) -> dict[str, list[float]]:
    """Every figure at one size."""
    log(f"{n:,} conversations: building the mailbox and the warm cache")
    demo = bench_mailbox(n)
    warm = tmp / f"warm-{n}"
    asyncio.run(build_warm_cache(demo, warm))
    # The mailbox's millions of objects are the harness's, not the console's:
    # keep the collector from walking them inside the measured figures.
    gc.freeze()
    out: dict[str, list[float]] = {"start_ms": [], "baseline_ms": [], "queue_json_ms": []}
    start_dir = copy_cache(warm, tmp / f"start-{n}")
    log(f"{n:,}: start-up, {repeats} runs each (fresh processes)")
    for _ in range(repeats):  # interleaved, so drift hits both alike
        out["baseline_ms"].append(figures.start_ms(None))
        out["start_ms"].append(figures.start_ms(start_dir))
        out["queue_json_ms"].append(figures.queue_json_ms(start_dir))
    peak, size = figures.memory(start_dir)
    out["peak_mb"], out["file_mb"] = [peak / 2**20], [size / 2**20]
    log(f"{n:,}: syncs, escalation, tick and re-order (this process)")
    out.update(asyncio.run(_in_process(demo, copy_cache(warm, tmp / f"work-{n}"), repeats)))
    return out


async def _in_process(demo: object, cache_dir: Path, repeats: int) -> dict[str, list[float]]:
    core, service = await figures.core_figures(demo, cache_dir, repeats)  # type: ignore[arg-type]
    try:
        console = await figures.console_figures(service, demo, repeats, first_round=repeats)  # type: ignore[arg-type]
    finally:
        await service.close()
    return {**core, **console}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--quick", action="store_true", help="small sizes, 2 runs (CI smoke test)")
    p.add_argument("--sizes", type=int, nargs="+", help="conversation counts to measure")
    p.add_argument("--repeats", type=int, help="runs per figure (default 5, quick 2)")
    p.add_argument("--results", type=Path, help="also write the table into this markdown file")
    return p.parse_args(argv)


def write_results(path: Path, table: str) -> None:
    """Replace the table between the bench markers (or append it with them)."""
    block = f"{BEGIN}\n{table}\n{END}"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN in text and END in text:
        pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
        text = pattern.sub(lambda _: block, text)
    else:
        text = f"{text.rstrip()}\n\n{block}\n" if text else f"{block}\n"
    path.write_text(text, encoding="utf-8")


def compile_sources() -> None:
    """Byte-compile triage, as installing a wheel does: with PYTHONDONTWRITEBYTECODE set
    (or a fresh checkout), every start would otherwise compile the changed modules
    again and count it as start-up."""
    root = Path(__file__).resolve().parent.parent
    for package in ("triage", "benchmarks"):
        compileall.compile_dir(root / package, quiet=1)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    compile_sources()
    sizes = sorted(args.sizes or (QUICK_SIZES if args.quick else FULL_SIZES))
    repeats = args.repeats or (2 if args.quick else 5)
    results: Results = {}
    with tempfile.TemporaryDirectory(prefix="triage-bench-") as tmp:
        for n in sizes:
            results[n] = measure_size(n, repeats, Path(tmp))
            gc.unfreeze()  # the mailbox and service of one size are not the next one's
            gc.collect()
    mode = "quick" if args.quick else "full"
    table = render(ROWS, results, environment(mode, repeats))
    print(table)
    if args.results:
        write_results(args.results, table)
        log(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
