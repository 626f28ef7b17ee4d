"""SIGHUP and SIGTERM end the console even when its quit cannot finish: after
`QUIT_GRACE`, or at once on a second signal (a console outliving its terminal is a
process left running on a shared server)."""

from __future__ import annotations

import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from fcntl import ioctl
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("stuck_console.py")


def started(tmp_path: Path, grace: float) -> tuple[subprocess.Popen[bytes], int]:
    main, side = pty.openpty()
    ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(HOME=str(tmp_path), TMPDIR=str(tmp_path), TERM="xterm-256color",
               PYTHONPATH=str(ROOT))  # fmt: skip
    p = subprocess.Popen([sys.executable, str(SCRIPT), str(grace)], cwd=ROOT, env=env,
                         stdin=side, stdout=side, stderr=side, start_new_session=True)  # fmt: skip
    os.close(side)
    out, deadline = b"", time.monotonic() + 60
    while b"live" not in out and time.monotonic() < deadline:
        if select.select([main], [], [], 0.1)[0]:
            out += os.read(main, 65536)
    assert b"live" in out, out[-400:]
    return p, main


def ended(p: subprocess.Popen[bytes], main: int, within: float) -> int | None:
    try:
        return p.wait(timeout=within)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=30)
        return None
    finally:
        os.close(main)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_quit_that_cannot_finish_ends_after_the_grace(tmp_path: Path, sig: int) -> None:
    p, main = started(tmp_path, grace=1.0)
    p.send_signal(sig)
    assert ended(p, main, within=20) == 128 + sig


def test_a_second_signal_ends_it_at_once(tmp_path: Path) -> None:
    p, main = started(tmp_path, grace=600)
    p.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    assert ended(p, main, within=20) == 128 + signal.SIGTERM
