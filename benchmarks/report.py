"""The one table: every performance target, per size, median (min-max), and a verdict.

A verdict is judged at the sizes the target names (10k, 50k); a run that did
not measure them (the quick mode, which CI runs to keep the benchmark alive)
says "not judged" rather than guess from smaller sizes.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata

from triage.clock import SystemClock

Results = dict[int, dict[str, list[float]]]  # size -> figure -> samples


def spread(values: Sequence[float], unit: str = "") -> str:
    """'12.3 (11.9-13.0)': median and range; one sample shows alone."""
    if not values:
        return "-"
    med = statistics.median(values)
    lo, hi = min(values), max(values)
    text = _num(med) + unit
    return text if lo == hi else f"{text} ({_num(lo)}-{_num(hi)})"


def _num(x: float) -> str:
    if x == int(x):
        return f"{int(x):,}"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.1f}" if abs(x) >= 1 else f"{x:.2f}"


def median(results: Results, size: int, key: str) -> float:
    return statistics.median(results[size][key])


def size_label(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 and n >= 1000 else str(n)


Verdict = tuple["bool | None", str]  # (met, or None when not judged; a note)


@dataclass(frozen=True)
class Row:
    """One line of the table: what, how each size's cell reads, the target, its judge."""

    what: str
    cell: Callable[[Results, int], str]
    target: str = ""
    judge: Callable[[Results, list[int]], Verdict] | None = None


def verdict(row: Row, results: Results, sizes: list[int]) -> str:
    if row.judge is None:
        return ""
    met, note = row.judge(results, sizes)
    word = "not judged" if met is None else "met" if met else "**NOT met**"
    return f"{word} ({note})" if note else word


def render(rows: list[Row], results: Results, header: list[str]) -> str:
    sizes = sorted(results)
    cols = ["what", *(size_label(n) for n in sizes), "target", "verdict"]
    lines = [*header, "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in rows:
        cells = [row.what, *(row.cell(results, n) for n in sizes), row.target]
        lines.append("| " + " | ".join([*cells, verdict(row, results, sizes)]) + " |")
    return "\n".join(lines)


def environment(mode: str, repeats: int) -> list[str]:
    """Versions, machine and date, printed above the table."""
    versions = ", ".join(
        f"{p} {metadata.version(p)}" for p in ("textual", "rich", "tinydb", "orjson", "httpx")
    )
    now = SystemClock().now().strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"triage benchmark ({mode}, {repeats} runs per figure): {now}",
        f"Python {platform.python_version()} on {platform.system()} {platform.release()}; "
        f"{versions}",
        f"CPU: {_cpu_model()} x {os.cpu_count()}",
        "Cells: median (min-max) over the runs.",
    ]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or sys.platform
