"""`triage watch` and `triage away` on the demo: one round says what it sent, the
long-lived watch ends cleanly on SIGTERM and SIGINT, and every misuse is refused (exit 2)
with what to do instead."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from triage.cli import main
from triage.demo.mailbox import DEMO_CONFIG

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-24T16:00:00Z"  # a Tuesday afternoon on the US East coast


def test_one_round_on_the_demo_tells_each_nudge_it_sent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--demo", "watch", "--once", "--now", NOW]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines and err == ""
    assert all(line.startswith("nudged ") for line in lines), lines
    steps = {line.split(": ", 1)[1].rsplit(" ", 1)[0] for line in lines}
    assert steps <= {"at risk", "breached", "escalated"} and "breached" in steps
    assert any(line.startswith("nudged ceo (ceo@agency.example): escalated") for line in lines)


def test_a_demo_absence_sends_nothing_to_the_away_manager(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--demo", "away", "alice", "--until", "3d", "--backup", "bob"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("alice is away until ") and out.rstrip().endswith("go to bob")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["watch", "--now", NOW], "--now goes with --once"),
        (["watch", "--interval", "0"], "--interval"),
        (["away", "zoe", "--until", "3d"], "no manager 'zoe'"),
        (["away", "alice", "--until", "3d", "--backup", "alice"], "another configured manager"),
        (["away", "alice", "--until", "whenever"], "--until"),
        (["away", "alice", "--until", "3d", "--back"], "not allowed with"),
        (["away", "alice"], "one of the arguments --until --back is required"),
    ],
)
def test_misuse_is_refused_with_the_fix(
    argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(["--demo", *argv])
    except SystemExit as e:  # argparse's own refusals
        code = int(e.code or 0)
    assert code == 2
    assert words in capsys.readouterr().err


def test_email_nudges_turned_off_in_the_config_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "config.toml"
    text = DEMO_CONFIG.read_text().replace("[cache]", "[alerts]\nemail = false\n\n[cache]", 1)
    cfg.write_text(text.replace('path = "', f'path = "{tmp_path}/', 1))
    assert main(["watch", "--once", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "alerts.email is false" in err and "set [alerts] email = true" in err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_long_lived_watch_stops_cleanly_on_a_signal(tmp_path: Path, sig: int) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    p = subprocess.Popen([sys.executable, "-m", "triage.cli", "--demo", "watch",
                          "--interval", "3600"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)  # fmt: skip
    try:
        assert p.stdout is not None
        first = p.stdout.readline()
        assert first.startswith("triage watch: every 3600 s as alice"), first
        p.send_signal(sig)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    assert out.rstrip().endswith("triage watch: stopped") and "Traceback" not in err
