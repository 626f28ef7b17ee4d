"""`make screenshots`: the README's pictures, drawn from the demo on a frozen clock.

Each picture is the console on the bundled demo (no live arrivals) at a fixed
instant, in UTC, exported as SVG text by Textual: the same inputs give the same
bytes, so `--check` (and tests/ui/test_readme_screenshots.py) can tell a stale
picture from a fresh one. Run `make screenshots` after changing what a screen
shows, and commit the SVGs with the change.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
# Tuesday 11:00 in New York and Toronto: every demo office open, some conversations late.
NOW = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
MAX_PAUSES = 500  # bounded: a first sync that never lands is an error, not a hang


@dataclass(frozen=True)
class Picture:
    """One README picture: its file, the terminal it is drawn in, the keys pressed first."""

    name: str
    size: tuple[int, int]
    theme: str
    keys: tuple[str, ...]
    caption: str


PICTURES = (
    Picture("queue", (100, 30), "triage-dark", ("down",), "The queue, most overdue first"),
    Picture("thread", (100, 30), "triage-dark", ("enter",), "A conversation: deadline and why"),
    Picture("escalations", (100, 30), "triage-dark", ("v",), "The CEO's escalation pane"),
    Picture("queue-mono-80x24", (80, 24), "triage-mono", (), "80x24, monochrome, over SSH"),
)


def pin_environment() -> None:
    """UTC for the clock column, and no NO_COLOR from the caller's shell."""
    os.environ["TZ"] = "UTC"
    os.environ.pop("NO_COLOR", None)
    time.tzset()


async def render(picture: Picture) -> str:
    """The picture's SVG text, from a fresh demo service on the frozen clock."""
    from triage.cli import close_service, demo_service
    from triage.clock import FrozenClock
    from triage.ui.app import TriageApp

    service = demo_service(FrozenClock(NOW), live=False)
    app = TriageApp(service, theme=picture.theme)
    try:
        async with app.run_test(size=picture.size) as pilot:
            await _first_sync(app, pilot.pause)
            for key in picture.keys:
                await pilot.press(key)
                await _idle(app, pilot.pause)
            return app.export_screenshot(title=f"triage: {picture.caption}")
    finally:
        await close_service(service)


async def _first_sync(app: object, pause: Callable[[], Awaitable[None]]) -> None:
    for _ in range(MAX_PAUSES):
        if getattr(app, "sync_rounds", 0) >= 1:
            await _idle(app, pause)
            return
        await pause()
    raise RuntimeError("the demo's first sync never reached the screen")


async def _idle(app: object, pause: Callable[[], Awaitable[None]]) -> None:
    """Messages handled and every worker but the endless sync loop finished."""
    workers = app.workers  # type: ignore[attr-defined]
    for _ in range(3):
        await pause()
        busy = [w for w in workers if w.group != "sync" and not w.is_finished]
        if busy:  # never an empty list: that would wait for the sync loop too
            await workers.wait_for_complete(busy)
    await pause()


def path_of(picture: Picture, out: Path = OUT) -> Path:
    return out / f"{picture.name}.svg"


async def stale(out: Path = OUT) -> list[Path]:
    """The pictures whose file differs from what the console draws now (or is missing)."""
    pin_environment()
    found = []
    for picture in PICTURES:
        path = path_of(picture, out)
        if not path.exists() or path.read_text(encoding="utf-8") != await render(picture):
            found.append(path)
    return found


async def write_all(out: Path = OUT) -> list[Path]:
    pin_environment()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for picture in PICTURES:
        path = path_of(picture, out)
        path.write_text(await render(picture), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="python -m tools.screenshots", description=__doc__, formatter_class=raw
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a picture is stale")
    args = parser.parse_args(argv)
    if args.check:
        old = asyncio.run(stale())
        for path in old:
            print(f"stale: {path.relative_to(ROOT)} (run `make screenshots`)", file=sys.stderr)
        return 1 if old else 0
    for path in asyncio.run(write_all()):
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
