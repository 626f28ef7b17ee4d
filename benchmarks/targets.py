"""The performance targets as table rows: what each cell shows and how each verdict is judged."""

from __future__ import annotations

from benchmarks.report import Results, Row, Verdict, median, spread

START_LIMITS = {10_000: 1.5, 50_000: 2.5}  # start-up / baseline, at these sizes
TICK_MS, TICK_FLAT = 5.0, 1.25  # every visible countdown changed; 50k / 1k
MEMORY_MB, MEMORY_X, HOT_FILE_MB = 150, 3.0, 15.0  # at 50k
QUEUE_JSON_X = 0.5  # `triage queue --json` / the console's start, at 50k


def _ratio_cell(r: Results, n: int) -> str:
    ratios = [s / b for s, b in zip(r[n]["start_ms"], r[n]["baseline_ms"], strict=True)]
    return spread(ratios, "x")


def _start_ok(r: Results, sizes: list[int]) -> Verdict:
    judged = [n for n in START_LIMITS if n in sizes]
    if not judged:
        return None, "needs 10k or 50k"
    return all(_ratio(r, n) <= START_LIMITS[n] for n in judged), ""


def _ratio(r: Results, n: int) -> float:
    return median(r, n, "start_ms") / median(r, n, "baseline_ms")


def _tick_cell(r: Results, n: int) -> str:
    base = min(r)
    cell = spread(r[n]["tick_cpu_ms"])
    if n != base:
        cell += f", {median(r, n, 'tick_cpu_ms') / median(r, base, 'tick_cpu_ms'):.2f}x"
    return cell


def _tick_ok(r: Results, sizes: list[int]) -> Verdict:
    fast = all(median(r, n, "tick_cpu_ms") < TICK_MS for n in sizes)
    if not {1_000, 50_000} <= set(sizes):
        return fast, "ratio needs 1k and 50k"
    ratio = median(r, 50_000, "tick_cpu_ms") / median(r, 1_000, "tick_cpu_ms")
    return fast and ratio <= TICK_FLAT, ""


def _under(key: str, limit: float, at: int = 50_000) -> object:
    def judge(r: Results, sizes: list[int]) -> Verdict:
        if at not in sizes:
            return None, f"needs {at // 1000}k"
        return median(r, at, key) < limit, ""

    return judge


def _all(key: str, ok: object) -> object:
    def judge(r: Results, sizes: list[int]) -> Verdict:
        return all(ok(v) for n in sizes for v in r[n][key]), ""  # type: ignore[operator]

    return judge


def _lines_cell(r: Results, n: int) -> str:
    lines, rows = int(max(r[n]["reorder_lines"])), int(r[n]["rows"][0])
    return f"max {lines} of {rows:,} rows ({int(r[n]['visible_lines'][0])} lines on screen)"


def _lines_ok(r: Results, sizes: list[int]) -> Verdict:
    return all(max(r[n]["reorder_lines"]) <= r[n]["visible_lines"][0] for n in sizes), ""


def _memory_cell(r: Results, n: int) -> str:
    peak, file = r[n]["peak_mb"][0], r[n]["file_mb"][0]
    return f"{peak:.0f} MB = {peak / file:.1f}x file of {file:.1f} MB"


def _memory_ok(r: Results, sizes: list[int]) -> Verdict:
    if 50_000 not in sizes:
        return None, "needs 50k"
    peak, file = r[50_000]["peak_mb"][0], r[50_000]["file_mb"][0]
    return peak <= MEMORY_X * file and peak <= MEMORY_MB, ""


def _file_ok(r: Results, sizes: list[int]) -> Verdict:
    if 50_000 not in sizes:
        return None, "needs 50k"
    return r[50_000]["file_mb"][0] * 2**20 / 1e6 <= HOT_FILE_MB, ""


def _queue_json_cell(r: Results, n: int) -> str:
    ratios = [q / s for q, s in zip(r[n]["queue_json_ms"], r[n]["start_ms"], strict=True)]
    return f"{spread(r[n]['queue_json_ms'])} = {spread(ratios, 'x')} of start"


def _queue_json_ok(r: Results, sizes: list[int]) -> Verdict:
    if 50_000 not in sizes:
        return None, "needs 50k"
    ratio = median(r, 50_000, "queue_json_ms") / median(r, 50_000, "start_ms")
    return ratio <= QUEUE_JSON_X, ""


ROWS = [
    Row("1. start to first painted queue, warm cache (ms)", lambda r, n: spread(r[n]["start_ms"])),
    Row(
        "1. bare Textual app to first paint, same run (ms)",
        lambda r, n: spread(r[n]["baseline_ms"]),
    ),
    Row("1. start / bare app", _ratio_cell, "10k <= 1.5x, 50k <= 2.5x", _start_ok),
    Row(
        "1. `triage queue --json`, fresh process, no sync (ms; / start)",
        _queue_json_cell,
        "50k <= 0.5x start",
        _queue_json_ok,
    ),
    Row(
        "2. tick, all visible rows changed + frame (CPU ms; x 1k)",
        _tick_cell,
        "< 5 ms; 50k <= 1.25x 1k",
        _tick_ok,
    ),
    Row(
        "2. rows rebuilt per tick (every countdown changed)", lambda r, n: spread(r[n]["tick_rows"])
    ),
    Row("2. usual 1-second tick + frame (CPU ms)", lambda r, n: spread(r[n]["tick_1s_cpu_ms"])),
    Row("2. rows rebuilt per 1-second tick", lambda r, n: spread(r[n]["tick_1s_rows"])),
    Row(
        "3. re-order after a 500-change sync (CPU ms)",
        lambda r, n: spread(r[n]["reorder_cpu_ms"]),
        "< 50 ms at 50k",
        _under("reorder_cpu_ms", 50),
    ),  # type: ignore[arg-type]
    Row(
        "3. re-order, wall incl. one idle frame wait (ms)", lambda r, n: spread(r[n]["reorder_ms"])
    ),
    Row("3. render_line calls per re-order", _lines_cell, "only rows on screen", _lines_ok),
    Row(
        "4. escalate, whole call incl. provider (ms)",
        lambda r, n: spread(r[n]["esc_call_ms"]),
        "< 100 ms at 50k",
        _under("esc_call_ms", 100),
    ),  # type: ignore[arg-type]
    Row("4. escalate, cache writes part (ms)", lambda r, n: spread(r[n]["esc_cache_ms"])),
    Row(
        "5. sync of 500 changes: file writes (hot file + thread references)",
        lambda r, n: spread(r[n]["sync_writes"]),
        "one per file: 2",
        _all("sync_writes", lambda v: v <= 2),
    ),  # type: ignore[arg-type]
    Row(
        "5. sync of 500 changes: cache work (ms)",
        lambda r, n: spread(r[n]["sync_cache_ms"]),
        "< 300 ms at 50k",
        _under("sync_cache_ms", 300),
    ),  # type: ignore[arg-type]
    Row("5. sync of 500 changes: whole round (ms)", lambda r, n: spread(r[n]["sync_round_ms"])),
    Row(
        "6. incremental sync, no changes: HTTP requests",
        lambda r, n: spread(r[n]["noop_requests"]),
        "<= 2",
        _all("noop_requests", lambda v: v <= 2),
    ),  # type: ignore[arg-type]
    Row(
        "6. incremental sync, no changes: client CPU (ms)",
        lambda r, n: spread(r[n]["noop_cpu_ms"]),
        "< 20 ms",
        _all("noop_cpu_ms", lambda v: v < 20),
    ),  # type: ignore[arg-type]
    Row(
        "7. peak memory, cache loaded + queue built",
        _memory_cell,
        "50k: <= 150 MB, <= 3x file",
        _memory_ok,
    ),
    Row(
        "7. hot cache file (MB)",
        lambda r, n: f"{r[n]['file_mb'][0] * 2**20 / 1e6:.1f}",
        "50k: <= 15 MB",
        _file_ok,
    ),
]
