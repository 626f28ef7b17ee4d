"""The `triage` command: check-config, the start-up help, queue --json on the demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from triage.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"
NOW = "2026-11-24T16:00:00Z"  # a Tuesday: US and Canadian offices open


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "triage.cli", *args],
        capture_output=True, text=True, timeout=120, env=full_env, cwd=ROOT,
    )  # fmt: skip


def test_check_config_accepts_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and len(out.strip().splitlines()) == 1


def test_check_config_lists_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = EXAMPLE.read_text().replace(
        'timezone = "America/New_York"', 'timezon = "America/New_York"', 1
    )
    text = text.replace('reply_within = "1h"', 'reply_within = "1 hour"', 1)
    bad = tmp_path / "config.toml"
    bad.write_text(text)
    assert main(["check-config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "timezon" in err and "did you mean 'timezone'" in err
    assert "reply_within" in err and str(bad.name) in err


def test_no_config_explains_how_to_start(tmp_path: Path) -> None:
    r = run("queue", env={"XDG_CONFIG_HOME": str(tmp_path), "TRIAGE_CONFIG": ""})
    assert r.returncode == 2
    assert "triage --demo" in r.stderr and "config.example.toml" in r.stderr
    assert "Traceback" not in r.stderr


def test_queue_json_on_the_demo_is_sorted_and_complete() -> None:
    r = run("queue", "--demo", "--json", "--now", NOW)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert len(rows) >= 10
    keys = {"thread_id", "subject", "client", "client_email", "region", "region_guessed",
            "owner", "waiting_since", "deadline", "seconds_left", "state", "escalated",
            "escalation_reason"}  # fmt: skip
    assert all(keys <= set(row) for row in rows)
    deadlines = [row["deadline"] for row in rows]
    assert deadlines == sorted(deadlines)
    assert {row["state"] for row in rows} >= {"breached", "ok"}
    assert any(row["region_guessed"] for row in rows)
    assert any(row["escalation_reason"] == "client wrote to the CEO" for row in rows)


def test_queue_table_output_is_inert() -> None:
    r = run("queue", "--demo", "--now", NOW)
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and "\u202e" not in r.stdout
    assert "[@click=app.quit]" in r.stdout  # shown as typed, never interpreted


def test_bad_now_is_a_usage_error() -> None:
    r = run("queue", "--demo", "--now", "tomorrow")
    assert r.returncode == 2 and "--now" in r.stderr


def test_no_argument_takes_a_secret() -> None:
    from triage.cli import build_parser

    text = build_parser().format_help()
    assert "--token" not in text and "--password" not in text


def test_check_config_reports_a_key_remap_naming_no_action(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "config.toml"
    text = EXAMPLE.read_text()
    assert '[keys]\nreply = "r"' in text
    cfg.write_text(text.replace('[keys]\nreply = "r"', '[keys]\nrepyl = "R"'))
    assert main(["check-config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "keys.repyl" in err and "reply" in err
    cfg.write_text(text.replace('[keys]\nreply = "r"', '[keys]\nreply = "R"'))
    assert main(["check-config", str(cfg)]) == 0


def test_check_config_checks_a_team_cache_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    team = tmp_path / "team"
    team.mkdir()
    os.chmod(team, 0o2777)  # open to every user of the machine
    text = EXAMPLE.read_text()
    assert "\n[cache]\n" in text
    text = text.replace(
        "\n[cache]\n", f'\n[cache]\nshared = true\npath = "{team}/cache.json"\n# ', 1
    )
    cfg = tmp_path / "config.toml"
    cfg.write_text(text)
    assert main(["check-config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "cache.shared" in err and "open to other users" in err and "chmod 2770" in err
    os.chmod(team, 0o2770)
    assert main(["check-config", str(cfg)]) == 0


def test_reply_refuses_an_endless_file_with_a_clear_message() -> None:
    r = run("reply", "T1", "--body-file", "/dev/zero", "--demo")
    assert r.returncode == 2 and "larger than 1,000,000 bytes" in r.stderr
    assert "Traceback" not in r.stderr


def test_reply_refuses_text_that_is_not_utf8(tmp_path: Path) -> None:
    body = tmp_path / "reply.txt"
    body.write_bytes("Merci, à bientôt".encode("latin-1"))
    r = run("reply", "T1", "--body-file", str(body), "--demo")
    assert r.returncode == 2 and "not UTF-8" in r.stderr and "Traceback" not in r.stderr


def test_reply_reads_standard_input_for_a_dash() -> None:
    code = (
        "import io, sys; from triage import cli; "
        "sys.stdin = io.TextIOWrapper(io.BytesIO('Bonjour, réglé.'.encode()));"
        "print(repr(cli.read_body('-')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == repr("Bonjour, réglé."), out.stderr


@pytest.mark.parametrize("now", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00Z"])
def test_now_outside_the_calendar_is_a_usage_error(now: str) -> None:
    r = run("queue", "--demo", "--now", now)
    assert r.returncode == 2 and "outside the years" in r.stderr and "Traceback" not in r.stderr
