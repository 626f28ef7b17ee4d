"""NO_COLOR=1 means no colour escape code at all, read from the raw bytes the console
writes to a real pseudo-terminal (bold, reverse, underline and dim are fine).

The same run without NO_COLOR must show colour codes: that is what makes the check
able to fail.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from fcntl import ioctl
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SGR = re.compile(rb"\x1b\[([0-9;:]*)m")
COLOUR = {b"38", b"48", b"39", b"49", *(str(n).encode() for n in (*range(30, 38),
          *range(40, 48), *range(90, 98), *range(100, 108)))}  # fmt: skip


def console_bytes(tmp_path: Path, env: dict[str, str], keys: list[bytes]) -> bytes:
    """Everything `triage --demo` writes to a 100x30 terminal while `keys` are typed."""
    main, side = pty.openpty()
    ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    full = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    full.update(HOME=str(tmp_path), TMPDIR=str(tmp_path), TERM="xterm-256color", **env)
    p = subprocess.Popen([sys.executable, "-m", "triage.cli", "--demo"], cwd=ROOT, env=full,
                         stdin=side, stdout=side, stderr=side, start_new_session=True)  # fmt: skip
    os.close(side)
    out = b""
    try:
        out = read_until(main, out, b"live")  # the first sync is done
        for key in keys:
            os.write(main, key)
            out = read_until(main, out, b"", seconds=0.7)
    finally:
        p.send_signal(signal.SIGTERM)
        out = read_until(main, out, b"", seconds=1.0)
        p.wait(timeout=30)
        os.close(main)
    return out


def read_until(fd: int, out: bytes, text: bytes, seconds: float = 30.0) -> bytes:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (not text or text not in out):
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                out += os.read(fd, 65536)
            except OSError:  # the console has exited
                break
    assert not text or text in out, f"{text!r} never came; got {out[-400:]!r}"
    return out


def parameters(out: bytes) -> set[bytes]:
    return {p for params in SGR.findall(out) for p in params.split(b";")}


KEYS = [b"\r", b"\x1b", b"e", b"\x1b", b"a", b"\x1b", b"v"]  # thread, both dialogs, pane


def test_no_color_sends_no_colour_codes_only_attributes(tmp_path: Path) -> None:
    out = console_bytes(tmp_path, {"NO_COLOR": "1"}, KEYS)
    used = parameters(out)
    assert not used & COLOUR, f"colour codes under NO_COLOR: {sorted(used & COLOUR)}"
    assert {b"1", b"7"} <= used  # bold and reverse still mark what matters
    for shown in (b"LATE", b"Escalate to the CEO", b"Reassign", b"REASON"):  # every screen
        assert shown in out


def test_without_no_color_the_same_screens_are_in_colour(tmp_path: Path) -> None:
    out = console_bytes(tmp_path, {}, KEYS[:1])
    assert parameters(out) & COLOUR
