"""A console whose quit never ends (what a gone terminal or a provider that does not
answer can do), on the demo: what `test_console_signals` runs under a pseudo-terminal.
Not a test itself. `python tests/e2e/stuck_console.py GRACE_SECONDS`."""

from __future__ import annotations

import asyncio
import sys

from triage.cli import console, main
from triage.ui.app import TriageApp


async def _never(self: TriageApp) -> None:
    await asyncio.Event().wait()


if __name__ == "__main__":
    TriageApp.action_quit = _never  # type: ignore[method-assign]
    console.QUIT_GRACE = float(sys.argv[1])
    sys.exit(main(["--demo"]))
