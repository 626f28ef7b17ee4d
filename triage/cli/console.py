"""Starting the console, and ending it cleanly however the terminal goes away.

Closing the terminal sends SIGHUP, and `kill` sends SIGTERM: both ask the app to
quit like `q` does, so a reply still in its undo delay is sent, the service is
closed (drafts are already on disk) and a demo's temporary cache is removed. A
second signal, or a quit still running after `QUIT_GRACE`, ends the process at
once: consoles whose terminal had gone were found still running (one spinning a
CPU) an hour after their tmux session was killed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from collections.abc import Mapping
from types import FrameType

from triage.cli.checks import require_keys
from triage.cli.start import open_service
from triage.clock import SystemClock

HANGUPS = (signal.SIGHUP, signal.SIGTERM)
QUIT_GRACE = 20.0  # seconds a quit asked by a signal may take before the process ends


def run_console(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    service = open_service(args, env, SystemClock())
    try:
        require_keys(service.config)
        from triage.ui.app import TriageApp  # textual is imported only for the console

        theme = args.theme or service.config.theme
        app = TriageApp(service, theme=theme, start_view=args.view or "queue",
                        keymap=dict(service.config.keys))  # fmt: skip

        asked: list[int] = []

        def hang_up(signum: int, frame: FrameType | None) -> None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # not running yet, or any more: just stop
                raise SystemExit(128 + signum) from None
            if asked:  # asked twice: stop now
                os._exit(128 + signum)
            asked.append(signum)
            # Quit as `q` does, on the app's own loop: a reply held for undo goes first.
            # A quit that has not ended after QUIT_GRACE (a terminal gone, a provider
            # that does not answer) ends the process anyway: drafts and held replies are
            # on disk, and the next run sends what is due.
            loop.call_soon_threadsafe(lambda: loop.create_task(app.action_quit()))
            loop.call_soon_threadsafe(loop.call_later, QUIT_GRACE, os._exit, 128 + signum)

        previous = {s: signal.signal(s, hang_up) for s in HANGUPS}
        try:
            app.run()
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
    finally:
        asyncio.run(service.close())
    return 0
