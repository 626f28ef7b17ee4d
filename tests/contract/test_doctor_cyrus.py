"""`triage doctor` against a real Cyrus on 127.0.0.1: a ready setup, then each provider check
failing (unreachable, wrong password, no such mailbox, rights taken away, a clock minutes
off), and a token file others can read. No secret appears in any report."""

from __future__ import annotations

import imaplib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.contract.test_cli_cyrus import setup_user, triage
from tests.integration.cyrus import CyrusServer, CyrusUser, free_port
from triage.cli.doctor import diagnose, exit_code
from triage.cli.doctor_local import Terminal
from triage.clock import FrozenClock, SystemClock

NO_TTY = Terminal(False, "", (0, 0), "utf-8", "")


def doctor(home: Path, config: Path) -> tuple[int, dict[str, dict[str, Any]], str]:
    """(exit code, the checks by name, the whole output) of `triage doctor --json`."""
    done = triage(home, "doctor", "--json", "--config", str(config))
    report = json.loads(done.stdout)
    assert report["exit"] == done.returncode, done.stderr
    return done.returncode, {c["check"]: c for c in report["checks"]}, done.stdout + done.stderr


def status(checks: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {name: c["status"] for name, c in checks.items()}


def test_a_ready_setup(cyrus_user: CyrusUser, tmp_path: Path) -> None:
    code, checks, out = doctor(tmp_path, setup_user(tmp_path, cyrus_user, cyrus_user.password))
    assert code == 0, out
    assert status(checks) == {
        "config": "ok", "secret": "ok", "cache": "ok", "terminal": "skip", "reachable": "ok",
        "credentials": "ok", "mailbox": "ok", "permissions": "ok", "clock": "ok",
    }  # fmt: skip
    assert "'Inbox' found" in checks["mailbox"]["detail"]
    assert cyrus_user.password not in out


def test_a_wrong_password_fails_credentials(cyrus_user: CyrusUser, tmp_path: Path) -> None:
    wrong = "not-the-password-" + cyrus_user.password[::-1]
    code, checks, out = doctor(tmp_path, setup_user(tmp_path, cyrus_user, wrong))
    assert code == 1
    assert (checks["reachable"]["status"], checks["credentials"]["status"]) == ("ok", "fail")
    assert "provider.token_file" in checks["credentials"]["detail"]
    assert checks["mailbox"]["status"] == "skip"
    for secret in (wrong, cyrus_user.password):
        assert secret not in out


def test_a_server_not_listening_fails_reachable(cyrus_user: CyrusUser, tmp_path: Path) -> None:
    config = setup_user(tmp_path, cyrus_user, cyrus_user.password)
    port = free_port()
    config.write_text(config.read_text().replace(cyrus_user.session_url,
                                                 f"http://127.0.0.1:{port}/jmap/"))  # fmt: skip
    code, checks, _ = doctor(tmp_path, config)
    assert code == 1 and checks["reachable"]["status"] == "fail"
    assert "cannot reach 127.0.0.1" in checks["reachable"]["detail"]
    assert checks["credentials"]["status"] == "skip"


def test_a_mailbox_not_there_fails_mailbox(cyrus_user: CyrusUser, tmp_path: Path) -> None:
    config = setup_user(tmp_path, cyrus_user, cyrus_user.password)
    text = config.read_text().replace('auth = "basic"', 'auth = "basic"\nmailbox = "Clients"')
    config.write_text(text)
    code, checks, _ = doctor(tmp_path, config)
    assert code == 1 and checks["credentials"]["status"] == "ok"
    assert (
        checks["mailbox"]["status"] == "fail"
        and "'Clients' not found" in (checks["mailbox"]["detail"])
    )


def test_rights_taken_away_fail_permissions(
    cyrus: CyrusServer, cyrus_user: CyrusUser, tmp_path: Path
) -> None:
    imap = imaplib.IMAP4("127.0.0.1", cyrus.imap_port, timeout=10)
    imap.login(cyrus_user.username, cyrus_user.password)
    ok, why = imap.setacl("INBOX", cyrus_user.username, "lrsa")  # read, but no flags (w)
    imap.logout()
    assert ok == "OK", why
    code, checks, _ = doctor(tmp_path, setup_user(tmp_path, cyrus_user, cyrus_user.password))
    assert code == 1 and checks["mailbox"]["status"] == "ok"
    assert checks["permissions"]["status"] == "fail"
    assert "set shared-state marks" in checks["permissions"]["detail"]


def test_a_token_file_others_can_read_fails_secret(cyrus_user: CyrusUser, tmp_path: Path) -> None:
    config = setup_user(tmp_path, cyrus_user, cyrus_user.password)
    (tmp_path / ".config" / "triage" / "token").chmod(0o644)
    code, checks, out = doctor(tmp_path, config)
    assert code == 2 and checks["secret"]["status"] == "fail"
    assert "chmod 600" in checks["secret"]["detail"] and checks["reachable"]["status"] == "skip"
    assert cyrus_user.password not in out


async def test_the_clock_against_cyruss_date_header(cyrus_user: CyrusUser, tmp_path: Path) -> None:
    config = setup_user(tmp_path, cyrus_user, cyrus_user.password)
    env = {"HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    right = await diagnose(config, env, SystemClock(), NO_TTY)
    assert [c.status for c in right if c.name == "clock"] == ["ok"] and exit_code(right) == 0
    off = FrozenClock(SystemClock().now() - timedelta(minutes=10))
    wrong = await diagnose(config, env, off, NO_TTY)
    [clock] = [c for c in wrong if c.name == "clock"]
    assert clock.status == "fail" and "behind the provider's" in clock.detail
    assert exit_code(wrong) == 1
