"""The bell and the desktop notification as the terminal receives them: the raw bytes a
console writes to a real pseudo-terminal, inside tmux (the passthrough wrapping) and
not, with hostile email text in every field. Three alerts fire (see
`alerting_console.py`); nothing from email may open an escape sequence of its own."""

from __future__ import annotations

import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from fcntl import ioctl
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("alerting_console.py")
OSC = re.compile(rb"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")  # a complete OSC sequence
TMUX_WRAPPED = re.compile(rb"\x1bPtmux;(?:[^\x1b]|\x1b\x1b)*\x1b\\")


def alert_bytes(tmp_path: Path, desktop: str, tmux: bool) -> bytes:
    main, side = pty.openpty()
    ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "NO_COLOR")}
    env.update(HOME=str(tmp_path), TERM="xterm-256color", PYTHONPATH=str(ROOT))
    if tmux:
        env["TMUX"] = "/tmp/tmux-0/default,1,0"
    p = subprocess.Popen([sys.executable, str(SCRIPT), desktop], cwd=ROOT, env=env,
                         stdin=side, stdout=side, stderr=side, start_new_session=True)  # fmt: skip
    os.close(side)
    out, deadline = b"", time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(main, 65536)
                except OSError:  # the console has exited
                    break
                if not chunk:
                    break
                out += chunk
            elif p.poll() is not None:
                break
    finally:
        p.kill()
        p.wait(timeout=30)
        os.close(main)
    assert p.returncode in (0, -9), out[-600:]
    return out


def bells(out: bytes) -> int:
    """BEL bytes that are the bell, not the end of an OSC sequence."""
    return OSC.sub(b"", TMUX_WRAPPED.sub(b"", out)).count(b"\x07")


def assert_inert(out: bytes) -> None:
    text = out.decode("utf-8", "replace")
    assert "\u241b]52" in text  # the hostile text was on screen, its ESC shown as a picture
    assert "\x1b]52" not in text and "\u202e" not in text and "\x9b" not in text
    assert "\x9d" not in text and "\x90" not in text  # no C1 OSC or DCS from email


@pytest.mark.parametrize("tmux", [False, True], ids=["terminal", "tmux"])
def test_the_bell_rings_once_per_alert(tmp_path: Path, tmux: bool) -> None:
    out = alert_bytes(tmp_path, "off", tmux)
    assert bells(out) == 3
    assert_inert(out)


def test_osc777_reaches_the_terminal_with_only_printable_text(tmp_path: Path) -> None:
    out = alert_bytes(tmp_path, "osc777", tmux=False)
    found = re.findall(rb"\x1b\]777;notify;([^\x07\x1b]*)\x07", out)
    assert len(found) == 3 and bells(out) == 3
    for fields in found:
        title, body = fields.decode().split(";")  # exactly two fields: nothing split them
        assert title.startswith("triage") and body and body.isprintable()
    assert_inert(out)


def test_inside_tmux_each_notification_is_wrapped_for_its_passthrough(tmp_path: Path) -> None:
    out = alert_bytes(tmp_path, "osc9", tmux=True)
    wrapped = TMUX_WRAPPED.findall(out)
    assert len(wrapped) == 3
    for seq in wrapped:
        inner = seq[len(b"\x1bPtmux;") : -len(b"\x1b\\")].replace(b"\x1b\x1b", b"\x1b")
        assert inner.startswith(b"\x1b]9;triage: ") and inner.endswith(b"\x07")
        assert inner.count(b"\x1b") == 1 and inner.count(b"\x07") == 1
        assert inner[5:-1].decode().isprintable()
    assert b"\x1b]9;" not in TMUX_WRAPPED.sub(b"", out)  # never unwrapped inside tmux
    assert_inert(out)
