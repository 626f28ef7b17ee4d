"""`triage watch --once` as cron runs it against real Cyrus: two watchers on two machines
(two homes, two caches) started at the same moment, then both again, deliver exactly
one nudge per step: what reached the manager's and the CEO's addresses is read back
from the SMTP server Cyrus relays to. `triage away` from the shell sends the next
nudges to the backup.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from tests.contract.conftest import real_minute
from tests.contract.test_cli_cyrus import ROOT, append, setup_user, triage
from tests.integration.cyrus import CyrusServer, CyrusUser
from tests.integration.smtp_sink import SmtpSink
from triage.text.isotime import iso


@pytest.fixture
def now() -> datetime:
    return real_minute()


def start(home: Path, *args: str) -> subprocess.Popen[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "XDG_CACHE_HOME": str(home / "cache"), "PYTHONPATH": str(ROOT)}  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "triage.cli", *args], env=env, cwd=home,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def nudges(sink: SmtpSink, login: str) -> Counter[tuple[str, str]]:
    """(recipient, subject) of each nudge our login sent, counted."""
    out: Counter[tuple[str, str]] = Counter()
    for m in sink.messages:
        parsed = BytesParser(policy=policy.default).parsebytes(m.data)
        if m.mail_from.casefold() == login.casefold() and str(parsed["Subject"]).startswith(
                "[triage]"):  # fmt: skip
            for rcpt in m.rcpt_to:
                out[(rcpt, str(parsed["Subject"]))] += 1
    return out


def two_watchers(homes: list[Path], configs: list[Path], at: datetime) -> list[str]:
    runs = [start(h, "watch", "--once", "--now", iso(at), "--config", str(c))
            for h, c in zip(homes, configs, strict=True)]  # fmt: skip
    outs = [r.communicate(timeout=120) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], [err for _, err in outs]
    return [out for out, _ in outs]


def test_two_watchers_at_once_send_each_nudge_once(
    cyrus: CyrusServer, cyrus_user: CyrusUser, smtp_sink: SmtpSink, tmp_path: Path,
    now: datetime,
) -> None:  # fmt: skip
    append(cyrus, cyrus_user, "hank@globex.test", "Volcano lair", now - timedelta(minutes=50))
    append(cyrus, cyrus_user, "hank@globex.test", "Death ray", now - timedelta(minutes=70))
    homes = [tmp_path / "server-a", tmp_path / "server-b"]
    configs = [setup_user(h, cyrus_user, cyrus_user.password) for h in homes]
    said = two_watchers(homes, configs, now)
    said += two_watchers(homes, configs, now + timedelta(minutes=2))
    assert sum(line.startswith("nudged ") for out in said for line in out.splitlines()) == 3
    assert nudges(smtp_sink, cyrus_user.username) == {
        ("bob@agency.example", "[triage] at risk: Globex: Volcano lair"): 1,
        ("bob@agency.example", "[triage] overdue: Globex: Death ray"): 1,
        ("ceo@agency.example", "[triage] breached, escalated: Globex: Death ray"): 1,
    }
    # Volcano lair breaches: one more nudge to its owner and one to the CEO, once each.
    two_watchers(homes, configs, now + timedelta(minutes=11))
    two_watchers(homes, configs, now + timedelta(minutes=12))
    assert sum(nudges(smtp_sink, cyrus_user.username).values()) == 5
    assert set(nudges(smtp_sink, cyrus_user.username).values()) == {1}


def test_away_from_the_shell_sends_the_nudges_to_the_backup(
    cyrus: CyrusServer, cyrus_user: CyrusUser, smtp_sink: SmtpSink, tmp_path: Path,
    now: datetime,
) -> None:  # fmt: skip
    append(cyrus, cyrus_user, "wile@acme.test", "Rocket fuel", now - timedelta(minutes=50))
    config = setup_user(tmp_path, cyrus_user, cyrus_user.password)
    away = triage(tmp_path, "away", "alice", "--until", "3d", "--backup", "bob",
                  "--config", str(config))  # fmt: skip
    assert away.returncode == 0, away.stderr
    assert "alice is away until" in away.stdout and "go to bob" in away.stdout
    other = tmp_path / "other"  # another machine, with no cache: reads it from the provider
    watched = triage(
        other,
        "watch",
        "--once",
        "--now",
        iso(now),
        "--config",
        str(setup_user(other, cyrus_user, cyrus_user.password)),
    )
    assert watched.returncode == 0, watched.stderr
    assert nudges(smtp_sink, cyrus_user.username) == {
        ("bob@agency.example", "[triage] at risk: Acme Rockets: Rocket fuel"): 1
    }
    back = triage(tmp_path, "away", "alice", "--back", "--config", str(config))
    assert (back.returncode, back.stdout.strip()) == (
        0, "alice is back: their alerts and nudges are theirs again")  # fmt: skip
