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


# ---- the options keep their word, in either position ----


def queue_json(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, object]]:
    assert main([*argv]) == 0
    rows: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return rows


def test_common_options_work_before_or_after_the_subcommand(
    capsys: pytest.CaptureFixture[str],
) -> None:
    after = queue_json(capsys, "queue", "--demo", "--as", "bob", "--json", "--now", NOW)
    before = queue_json(capsys, "--demo", "--as", "bob", "queue", "--json", "--now", NOW)
    assert before == after and len(after) >= 10


def test_check_config_takes_config_and_demo_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text().replace("[agency]", "[agencee]"))
    for argv in (["check-config", "--config", str(bad)], ["--config", str(bad), "check-config"]):
        assert main(argv) == 2
        assert f"{bad}: agencee" in capsys.readouterr().err
    assert main(["check-config", "--demo"]) == 0
    assert "demo.toml OK" in capsys.readouterr().out
    assert main(["--demo", "check-config", "--as", "zed"]) == 2
    assert "--as: manager 'zed' is not defined" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--theme", "triage-mono", "queue", "--demo"], "--theme is an option of the console"),
        (["--view", "escalations", "sync", "--demo"], "--view is an option of the console"),
        (["queue", "--demo", "--config", "x.toml"], "--demo and --config both"),
        (["check-config", "a.toml", "--config", "b.toml"], "give the file once"),
    ],
)
def test_an_option_that_would_be_ignored_is_refused(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert says in capsys.readouterr().err


@pytest.mark.parametrize("who", ["zed", "Alice", ""])
def test_as_must_name_a_manager_of_the_demo_or_ceo(
    who: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["queue", "--demo", "--as", who]) == 2
    assert "--as" in capsys.readouterr().err
    assert main(["queue", "--demo", "--as", "ceo", "--now", NOW]) == 0


def test_as_must_name_a_manager_of_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(EXAMPLE.read_text().replace('kind = "jmap"', 'kind = "demo"', 1))
    assert main(["escalate", "T1", "--reason", "x", "--config", str(cfg), "--as", "zed"]) == 2
    err = capsys.readouterr().err
    assert f"{cfg}: --as: manager 'zed' is not defined" in err


# ---- output for scripts ----


def test_the_plain_queue_shows_the_thread_ids_the_other_commands_take(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ids = [r["thread_id"] for r in queue_json(capsys, "queue", "--demo", "--json", "--now", NOW)]
    assert main(["queue", "--demo", "--now", NOW]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[0] == "ID"
    assert [line.split()[0] for line in lines[1:]] == ids


def test_a_reader_that_stops_early_ends_the_queue_quietly() -> None:
    """`triage queue --demo | head`: the pipe closes before triage writes."""
    p = subprocess.Popen([sys.executable, "-m", "triage.cli", "queue", "--demo"], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert p.stdout is not None and p.stderr is not None
    p.stdout.close()  # the reader is gone at once, as `head -0` would be
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipe" not in err and err == ""


# ---- check-config finds what a run would find ----


def config_with(tmp_path: Path, keys: str) -> Path:
    cfg = tmp_path / "config.toml"
    text = EXAMPLE.read_text()
    cfg.write_text(text.replace('[keys]\nreply = "r"', f"[keys]\n{keys}"))
    return cfg


@pytest.mark.parametrize(
    ("keys", "says"),
    [
        ('reply = "e"', "keys.reply: 'e' is also the key of 'escalate' in the queue"),
        ('reply = "q"', "keys.reply: 'q' is also the key of 'back' in a conversation"),
        ('reply = "bogus"', "keys.reply: 'bogus' is not a key name"),
        ('reply = "ctrl+shft+r"', "keys.reply: 'shft' in 'ctrl+shft+r' is not a modifier"),
        ('reply = "r,"', "keys.reply: expected a key or a comma-separated list"),
    ],
)
def test_a_key_remap_must_name_a_real_key_no_other_action_holds(
    keys: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config", str(config_with(tmp_path, keys))]) == 2
    assert says in capsys.readouterr().err


@pytest.mark.parametrize(
    "keys", ['reply = "R"', 'reply = "f2,ctrl+y"', 'help = "f1,question_mark"']
)
def test_a_key_remap_that_works_passes(
    keys: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config", str(config_with(tmp_path, keys))]) == 0


def test_the_console_refuses_to_start_on_a_key_mistake(tmp_path: Path) -> None:
    cfg = config_with(tmp_path, 'reply = "e"').read_text().replace('"jmap"', '"demo"', 1)
    (tmp_path / "demo.toml").write_text(cfg)
    r = run("--config", str(tmp_path / "demo.toml"))
    assert r.returncode == 2 and "keys.reply: 'e' is also the key of 'escalate'" in r.stderr


def test_check_config_warns_about_the_examples_missing_token_file(tmp_path: Path) -> None:
    r = run("check-config", str(EXAMPLE), env={"HOME": str(tmp_path)})
    assert r.returncode == 0 and "OK" in r.stdout and "(1 warning)" in r.stdout
    token = tmp_path / ".config/triage/token"
    assert f"warning: {EXAMPLE.name}" not in r.stderr  # the file is named as given
    assert f"provider.token_file: no such file '{token}'" in r.stderr
    token.parent.mkdir(parents=True)
    token.write_text("secret")
    token.chmod(0o600)
    r = run("check-config", str(EXAMPLE), env={"HOME": str(tmp_path)})
    assert r.returncode == 0 and r.stderr == "" and "warning" not in r.stdout


# ---- a config-file demo runs the team's own setup ----


def test_a_config_with_kind_demo_runs_the_demo_on_the_configs_own_setup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "config.toml"
    cache = tmp_path / "team-cache" / "cache.json"
    text = EXAMPLE.read_text().replace('kind = "jmap"', 'kind = "demo"', 1)
    cfg.write_text(text.replace('path = "~/.cache/triage/cache.json"', f'path = "{cache}"', 1))
    assert main(["check-config", str(cfg)]) == 0
    capsys.readouterr()
    rows = queue_json(capsys, "queue", "--config", str(cfg), "--sync", "--json", "--now", NOW)
    from triage.config import load_config

    config = load_config(cfg, env={"HOME": str(tmp_path)})
    named = {c.name for c in config.clients.values()}
    assert len(rows) >= 10 and {r["client"] for r in rows} & named
    assert {r["owner"] for r in rows} <= {*config.managers, ""}
    assert {r["region"] for r in rows} <= set(config.regions)
    assert cache.exists()  # the config's own cache path, kept


def test_a_view_as_text_says_why_each_line_is_there() -> None:
    r = run("queue", "--demo", "--view", "answered", "--now", NOW)
    assert r.returncode == 0, r.stderr
    header, *lines = r.stdout.splitlines()
    assert header.split()[:2] == ["ID", "STATE"] and lines
    assert all(" answered " in line and "(replied by " in line for line in lines)


def test_explain_puts_the_deadline_in_words() -> None:
    rows = json.loads(run("queue", "--demo", "--json", "--now", NOW).stdout)
    late = next(r for r in rows if r["state"] == "breached")
    r = run("explain", late["thread_id"], "--demo", "--now", NOW)
    assert r.returncode == 0, r.stderr
    assert "arrived" in r.stdout and "target" in r.stdout and "overdue" in r.stdout
    as_json = json.loads(run("explain", late["thread_id"], "--demo", "--json", "--now", NOW).stdout)
    assert as_json["deadline"] == late["deadline"] and as_json["target"] == late["target"]
    assert as_json["target_source"] in ("client", "tier", "region") and as_json["seconds_left"] < 0
    missing = run("explain", "T-nope", "--demo")
    assert missing.returncode == 2 and "no conversation 'T-nope'" in missing.stderr


def test_report_prints_json_csv_and_a_table_and_refuses_a_bad_period() -> None:
    rows = json.loads(run("report", "--demo", "--json", "--days", "30").stdout)
    assert rows and {tuple(r) for r in rows} == {(
        "group", "replies", "within_target", "attainment", "median_reply_minutes",
        "p90_reply_minutes", "breaches", "done", "snoozed", "reassigned",
        "asked_new_manager")}  # fmt: skip
    assert sum(r["replies"] for r in rows) > 0 and all(r["breaches"] >= 0 for r in rows)
    csv_out = run("report", "--demo", "--csv", "--by", "region").stdout.splitlines()
    assert csv_out[0].startswith("group,replies,within_target,attainment") and len(csv_out) > 1
    table = run("report", "--demo", "--by", "client")
    assert table.returncode == 0 and "business minutes" in table.stdout
    for args, says in ((("--from", "2026-11-30"), "--from and --to go together"),
                       (("--from", "2026-11-30", "--to", "2026-11-01"), "--to is before"),
                       (("--days", "0"), "--days: from 1 to 366"),
                       (("--from", "30/11/2026", "--to", "2026-12-01"), "not a date")):  # fmt: skip
        r = run("report", "--demo", *args)
        assert r.returncode == 2 and says in r.stderr, (args, r.stderr)
