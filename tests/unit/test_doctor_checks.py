"""`triage doctor` on the demo and on files of this machine: each check passing and failing,
the exit codes, the report's two forms, and no secret in either."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from triage.cli import main
from triage.cli.doctor import clock_check, diagnose, exit_code, render
from triage.cli.doctor_local import Check, Terminal, terminal_check
from triage.clock import FrozenClock
from triage.config import Config
from triage.demo import methods_misc
from triage.demo.mailbox import DemoMailbox
from triage.providers.base import Provider, ProviderError
from triage.providers.jmap import Credentials, connect_provider

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
TTY = Terminal(True, "xterm-256color", (100, 30), "utf-8", "256")
SECRET = "s3cr3t-token-value"  # a made-up token: what must never be printed

CONFIG = """\
[provider]
kind = "{kind}"
session_url = "https://jmap.agency.example/jmap/session"
token_file = "{token}"

[user]
manager = "alice"

[agency]
staff_domains = ["agency.example"]
ceo = "ceo@agency.example"

[regions.east]
timezone = "America/New_York"
hours = "09:00-17:00"
reply_within = "1h"

[managers.alice]
name = "Alice"
email = "alice@agency.example"
regions = ["east"]

[routing]
default_region = "east"

[cache]
path = "{cache}"
"""


def statuses(checks: list[Check]) -> dict[str, str]:
    return {c.name: c.status for c in checks}


def write_config(tmp_path: Path, kind: str = "demo", mode: int = 0o600) -> Path:
    token = tmp_path / "token"
    token.write_text(SECRET + "\n")
    token.chmod(mode)
    cache = tmp_path / "cache" / "cache.json"
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(kind=kind, token=token, cache=cache))
    return path


async def run(path: Path, clock: FrozenClock | None = None, **kw: object) -> list[Check]:
    return await diagnose(path, {}, clock or FrozenClock(NOW), TTY, **kw)  # type: ignore[arg-type]


async def test_the_bundled_demo_is_ready() -> None:
    checks = await run(Path("-"), demo=True)
    assert statuses(checks) == {
        "config": "ok", "secret": "skip", "cache": "skip", "terminal": "ok", "reachable": "ok",
        "credentials": "ok", "mailbox": "ok", "permissions": "ok", "clock": "ok",
    }  # fmt: skip
    assert exit_code(checks) == 0


async def test_a_config_demo_checks_its_cache_and_reads_its_secret(tmp_path: Path) -> None:
    checks = await run(write_config(tmp_path))
    assert exit_code(checks) == 0, checks
    [cache] = [c for c in checks if c.name == "cache"]
    assert cache.status == "ok" and "made (0700) on the first sync" in cache.detail


async def test_a_config_mistake_fails_config_and_skips_the_rest(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    path.write_text(path.read_text().replace("reply_within", "reply_witin"))
    checks = await run(path)
    assert statuses(checks)["config"] == "fail" and exit_code(checks) == 2
    assert "reply_witin" in checks[0].detail
    assert {statuses(checks)[n] for n in ("secret", "reachable", "clock")} == {"skip"}


async def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    checks = await run(tmp_path / "nowhere.toml")
    assert checks[0].status == "fail" and "nowhere.toml" in checks[0].detail


async def test_a_token_file_others_can_read_fails_with_the_fix(tmp_path: Path) -> None:
    path = write_config(tmp_path, kind="jmap", mode=0o644)
    checks = await run(path)
    [secret] = [c for c in checks if c.name == "secret"]
    assert secret.status == "fail" and "chmod 600" in secret.detail
    assert exit_code(checks) == 2 and statuses(checks)["reachable"] == "skip"


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
async def test_a_token_file_of_another_user_fails(tmp_path: Path) -> None:
    path = write_config(tmp_path, kind="jmap")
    os.chown(tmp_path / "token", 65534, 65534)
    [secret] = [c for c in await run(path) if c.name == "secret"]
    assert secret.status == "fail" and "not owned by you" in secret.detail


async def test_a_cache_directory_others_can_write_fails(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    (tmp_path / "cache").mkdir(mode=0o700)
    assert statuses(await run(path))["cache"] == "ok"
    (tmp_path / "cache").chmod(0o777)
    checks = await run(path)
    [cache] = [c for c in checks if c.name == "cache"]
    assert cache.status == "fail" and "chmod 700" in cache.detail and exit_code(checks) == 2


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory to another user needs root")
async def test_a_cache_directory_of_another_user_fails(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    (tmp_path / "cache").mkdir(mode=0o700)
    os.chown(tmp_path / "cache", 65534, 65534)
    [cache] = [c for c in await run(path) if c.name == "cache"]
    assert cache.status == "fail" and "belongs to another user" in cache.detail


async def test_missing_rights_fail_permissions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(methods_misc.RIGHTS, "maySetKeywords", False)
    checks = await run(Path("-"), demo=True)
    [rights] = [c for c in checks if c.name == "permissions"]
    assert rights.status == "fail" and "set shared-state marks" in rights.detail
    assert exit_code(checks) == 1


async def test_a_clock_minutes_off_the_providers_fails(tmp_path: Path) -> None:
    server_clock, ours = FrozenClock(NOW), FrozenClock(NOW + timedelta(minutes=7))

    def opener(cfg: Config) -> Provider:  # the demo server on its clock, the client on ours
        mailbox = DemoMailbox(server_clock, live=False, config=cfg)
        settings = dataclasses.replace(cfg.provider, kind="jmap")
        url, transport = mailbox.session_url, mailbox.transport()
        creds = Credentials("basic", mailbox.login.username, mailbox.login.password)
        return connect_provider(settings, creds, clock=ours, session_url=url, transport=transport)

    checks = await run(write_config(tmp_path), ours, opener=opener)
    [clock] = [c for c in checks if c.name == "clock"]
    assert clock.status == "fail" and "7 min ahead of the provider's" in clock.detail
    assert exit_code(checks) == 1


def test_clock_skew_is_graded() -> None:
    assert clock_check(NOW, NOW + timedelta(seconds=3)).status == "ok"
    assert clock_check(NOW, NOW - timedelta(seconds=30)).status == "warn"
    behind = clock_check(NOW, NOW - timedelta(seconds=90))
    assert behind.status == "fail" and "90 s behind" in behind.detail
    assert clock_check(None, NOW).status == "skip"


def test_the_terminal_check() -> None:
    assert terminal_check(TTY).status == "ok"
    assert terminal_check(Terminal(True, "dumb", (100, 30), "utf-8", "")).status == "fail"
    small = terminal_check(Terminal(True, "xterm", (79, 24), "utf-8", ""))
    assert small.status == "fail" and "80x24" in small.detail
    assert terminal_check(Terminal(True, "xterm", (80, 24), "ascii", "")).status == "warn"
    assert terminal_check(Terminal(False, "", (0, 0), "utf-8", "")).status == "skip"


async def test_the_report_never_shows_the_secret(tmp_path: Path) -> None:
    path = write_config(tmp_path, kind="jmap")
    path.write_text(path.read_text().replace("https://jmap.agency.example", "http://127.0.0.1:9"))
    checks = await run(path)
    assert statuses(checks)["reachable"] == "fail"  # nothing listens on port 9

    def echoing(cfg: Config) -> Provider:  # a server that quotes the credentials back
        raise ProviderError(f"the server said: bad token {SECRET}")

    checks = await run(path, opener=echoing)
    [reached] = [c for c in checks if c.name == "reachable"]
    assert reached.status == "fail" and "bad token ***" in reached.detail
    for as_json in (False, True):
        assert SECRET not in render(path, checks, as_json=as_json)


def test_the_command_prints_json_and_exits_with_its_code(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_config(tmp_path, mode=0o640)
    path.write_text(path.read_text().replace('kind = "demo"', 'kind = "jmap"'))
    assert main(["doctor", "--json", "--config", str(path)]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["exit"] == 2 and report["config"] == str(path)
    assert {r["check"]: r["status"] for r in report["checks"]}["secret"] == "fail"
    assert main(["doctor", "--demo"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "ready" and "OK    permissions" in out
