"""Starting the console, and ending it cleanly however the terminal goes away.

Closing the terminal sends SIGHUP, and `kill` sends SIGTERM: both ask the app to
quit like `q` does, so a reply still in its undo delay is sent, the service is
closed (drafts are already on disk) and a demo's temporary cache is removed.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Mapping
from types import FrameType

from triage.cli.checks import require_keys
from triage.cli.start import open_service
from triage.clock import SystemClock

HANGUPS = (signal.SIGHUP, signal.SIGTERM)


def run_console(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    service = open_service(args, env, SystemClock())
    try:
        require_keys(service.config)
        from triage.ui.app import TriageApp  # textual is imported only for the console

        theme = args.theme or service.config.theme
        app = TriageApp(service, theme=theme, start_view=args.view or "queue",
                        keymap=dict(service.config.keys))  # fmt: skip

        def hang_up(signum: int, frame: FrameType | None) -> None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # not running yet, or any more: just stop
                raise SystemExit(128 + signum) from None
            # Quit as `q` does, on the app's own loop: a reply held for undo goes first.
            loop.call_soon_threadsafe(lambda: loop.create_task(app.action_quit()))

        previous = {s: signal.signal(s, hang_up) for s in HANGUPS}
        try:
            app.run()
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
    finally:
        asyncio.run(service.close())
    return 0
