"""What runs in a fresh process: start-up to first paint, the bare baseline, peak memory.

`python -m benchmarks.child start CACHE_DIR` builds a TriageService on a warm
cache (no sync, no network), runs the console headless and prints, as one JSON
line, `time.monotonic()` at the queue table's first paint; the parent took
`time.monotonic()` just before starting the process (the clock is system-wide),
so the difference is start to first painted queue, imports included.
`baseline` does the same for a bare Textual app with one widget.
`memory CACHE_DIR` loads the cache into a TriageService, builds the queue (sorted,
with the rows a 160x52 screen shows) and prints the peak RSS.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time

SCREEN_ROWS = 50  # a 160x52 console shows 50 rows


def _emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)
    os._exit(0)  # the figure is taken; tearing the app down is not part of it


async def _baseline() -> None:
    from textual.app import App, ComposeResult
    from textual.widget import Widget

    class Painted(Widget):
        painted = False

        def render(self) -> str:
            Painted.painted = True
            return "hello"

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Painted()

    async with Bare().run_test(size=(160, 52)) as pilot:
        while not Painted.painted:
            await pilot.pause(0)
        _emit(painted=time.monotonic())


async def _start(cache_dir: str) -> None:
    from pathlib import Path

    from benchmarks.console import make_app, until_painted
    from benchmarks.data import open_service

    imported = time.monotonic()
    service = open_service(Path(cache_dir))
    loaded = time.monotonic()
    app = make_app(service)
    async with app.run_test(size=(160, 52)) as pilot:
        table = await until_painted(pilot)
        _emit(painted=time.monotonic(), imported=imported, loaded=loaded, rows=len(table.rows))


def _memory(cache_dir: str) -> None:
    from pathlib import Path

    from benchmarks.data import cache_bytes, open_service

    service = open_service(Path(cache_dir))
    view = service.queue_view()
    shown = view[:SCREEN_ROWS]  # what the console builds: the rows on screen
    _emit(peak_bytes=_peak_rss(), file_bytes=cache_bytes(Path(cache_dir)), rows=len(view),
          shown=len(shown))  # fmt: skip


def _peak_rss() -> int:
    """Peak RSS of this program, in bytes.

    VmHWM belongs to the memory image exec() created; ru_maxrss also keeps the
    high-water mark of the image it replaced, a copy of the (large) parent's.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def main(argv: list[str]) -> None:
    mode = argv[0]
    if mode == "baseline":
        asyncio.run(_baseline())
    elif mode == "start":
        asyncio.run(_start(argv[1]))
    elif mode == "memory":
        _memory(argv[1])
    else:
        raise SystemExit(f"unknown mode {mode!r}: baseline | start DIR | memory DIR")


if __name__ == "__main__":
    main(sys.argv[1:])
