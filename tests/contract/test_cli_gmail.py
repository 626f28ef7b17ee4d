"""The real CLI on `kind = "gmail"`, against the Gmail fake served on 127.0.0.1.

`triage sync`, `queue --json`, `escalate` and `reply` run as subprocesses on a
config written the way the README says (a token file only its owner can read,
or a service account's key file), with `api_url` and `token_url` pointing at
the fake. The fake is test code shaped from Google's documentation: this shows
the CLI and the provider work end to end, not that a live Workspace account does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.contract.backends import message
from tests.contract.conftest import real_minute
from tests.contract.gmail_backend import sent_mail
from tests.support.gmail_auth import ServiceAccountKey
from tests.support.gmail_fake import GmailFake
from triage.clock import SystemClock
from triage.providers.gmail.errors import SCOPE
from triage.text.isotime import iso

ROOT = Path(__file__).resolve().parents[2]
TEAM = "team@agency.example"

CONFIG = """\
[provider]
kind = "gmail"
user = "{team}"
label = "INBOX"
{auth}
api_url = "{url}"
token_url = "{url}/token"

[user]
manager = "alice"

[agency]
staff_domains = ["agency.example"]
ceo = "ceo@agency.example"

[regions.support]
label = "24x7 support line"
timezone = "America/New_York"
hours = "24x7"
reply_within = "1h"

[managers.alice]
name = "Alice Martin"
email = "{team}"
regions = ["support"]

[clients."acme.test"]
name = "Acme Rockets"
region = "support"
owner = "alice"

[routing]
default_region = "support"
"""


@pytest.fixture
def served() -> Iterator[tuple[GmailFake, str]]:
    fake = GmailFake(SystemClock(), address=TEAM)
    with fake.serve() as url:
        yield fake, url


def setup(home: Path, url: str, auth: str) -> Path:
    config_dir = home / ".config" / "triage"
    config_dir.mkdir(parents=True, exist_ok=True)
    config = config_dir / "config.toml"
    config.write_text(CONFIG.format(team=TEAM, url=url, auth=auth))
    return config


def triage(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / "cache"),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [sys.executable, "-m", "triage.cli", *args],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=60,
    )


def deliver(fake: GmailFake, subject: str, minutes: int) -> None:
    at = real_minute() - timedelta(minutes=minutes)
    mid = f"{subject.replace(' ', '-').lower()}@acme.test"
    raw = message(
        "Wile Coyote", "wile@acme.test", [TEAM], subject, "Hello.", [], mid, None, [], at, False
    )
    fake.store.add(raw, {"INBOX", "UNREAD"}, at_ms=int(at.timestamp() * 1000))


def test_sync_queue_escalate_and_reply_through_the_cli(
    served: tuple[GmailFake, str], tmp_path: Path
) -> None:
    fake, url = served
    deliver(fake, "Rocket fuel invoice", 50)
    deliver(fake, "New project", 20)
    token = tmp_path / ".config" / "triage" / "token"
    config = setup(tmp_path, url, f'auth = "bearer"\ntoken_file = "{token}"')
    token.write_text(fake.token() + "\n")
    token.chmod(0o600)

    synced = triage(tmp_path, "sync", "--config", str(config))
    assert (synced.returncode, synced.stderr) == (0, "")
    assert synced.stdout.strip() == "full sync: 2 new, 0 updated, 0 removed"
    now = iso(real_minute())
    rows = json.loads(
        triage(tmp_path, "queue", "--config", str(config), "--json", "--now", now).stdout
    )
    assert [r["subject"] for r in rows] == ["Rocket fuel invoice", "New project"]
    rocket = rows[0]["thread_id"]

    done = triage(tmp_path, "escalate", rocket, "--reason", "third time", "--config", str(config))
    assert done.returncode == 0, done.stderr
    body = tmp_path / "reply.txt"
    body.write_text("Paid today.\n")
    replied = triage(tmp_path, "reply", rocket, "--body-file", str(body), "--config", str(config))
    assert replied.returncode == 0 and "reply sent" in replied.stdout, replied.stderr

    [out] = [sent_mail(raw) for raw in fake.sent]
    assert (out.subject, out.to, out.in_reply_to) == (
        "Re: Rocket fuel invoice",
        ("wile@acme.test",),
        "rocket-fuel-invoice@acme.test",
    )
    assert out.body.strip() == "Paid today."
    again = triage(tmp_path, "queue", "--config", str(config), "--json", "--now", now, "--sync")
    [left] = json.loads(again.stdout)
    assert left["subject"] == "New project"
    names = {x["name"] for x in fake.store.labels.values()}
    assert {"triage/escalated", "Triage Notes"} <= names


def test_a_service_account_signs_in_and_a_revoked_scope_is_named(
    served: tuple[GmailFake, str], tmp_path: Path
) -> None:
    fake, url = served
    deliver(fake, "Anvils", 10)
    key = ServiceAccountKey(delegated={SCOPE})
    fake.accounts[key.email] = key
    key_file = key.write(tmp_path / "sa.json", f"{url}/token")
    config = setup(tmp_path, url, f'auth = "service_account"\nkey_file = "{key_file}"')

    checked = triage(tmp_path, "check-config", str(config))
    assert checked.returncode == 0, checked.stderr
    synced = triage(tmp_path, "sync", "--config", str(config))
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.strip() == "full sync: 1 new, 0 updated, 0 removed"

    key.delegated.clear()  # an administrator removed the delegation
    fake.expire_tokens()
    refused = triage(tmp_path, "sync", "--config", str(config))
    assert refused.returncode == 1 and refused.stdout == ""
    assert "Domain-wide delegation" in refused.stderr and key.client_id in refused.stderr
    assert "PRIVATE KEY" not in refused.stderr


def test_login_then_sync_through_the_cli(served: tuple[GmailFake, str], tmp_path: Path) -> None:
    fake, url = served
    deliver(fake, "Signed in", 5)
    config = setup(
        tmp_path, url, 'auth = "oauth"\nclient_id = "123-desktop.apps.googleusercontent.com"'
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "TRIAGE_LOGIN_PORT": "0",
    }
    with subprocess.Popen(
        [sys.executable, "-m", "triage.cli", "login", "--config", str(config)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]  # the URL, and the ssh -L line
        address = lines[1].split()[-1]
        query = {k: v[0] for k, v in parse_qs(urlsplit(address).query).items()}
        code = fake.oauth.consent(query["redirect_uri"], query["code_challenge"], query["scope"])
        httpx.get(query["redirect_uri"], params={"code": code, "state": query["state"]})
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "ssh -L" in "".join(lines) + out and "Signed in to team@agency.example" in out
    kept = tmp_path / ".config" / "triage" / "gmail-token.json"
    assert kept.stat().st_mode & 0o077 == 0

    synced = triage(tmp_path, "sync", "--config", str(config))
    assert (synced.returncode, synced.stdout.strip()) == (
        0,
        "full sync: 1 new, 0 updated, 0 removed",
    )


def test_done_snooze_and_wake_from_the_shell_are_labels_on_the_thread(
    served: tuple[GmailFake, str], tmp_path: Path
) -> None:
    """Each workflow command is a separate run; its mark is a label on every message."""
    fake, url = served
    deliver(fake, "Thanks", 10)
    deliver(fake, "Volcano lair", 5)
    token = tmp_path / ".config" / "triage" / "token"
    config = setup(tmp_path, url, f'auth = "bearer"\ntoken_file = "{token}"')
    token.write_text(fake.token() + "\n")
    token.chmod(0o600)

    def run(*args: str) -> str:
        r = triage(tmp_path, *args, "--config", str(config))
        assert r.returncode == 0, r.stderr
        return r.stdout

    def on_thread(thread_id: str) -> set[str]:
        names = {i: str(x["name"]) for i, x in fake.store.labels.items()}
        [first] = fake.store.thread_messages(thread_id)[:1]
        return {names.get(i, i) for i in first.labels if names.get(i, i).startswith("triage/")}

    rows = json.loads(run("queue", "--json", "--sync"))
    thanks, lair = (next(r["thread_id"] for r in rows if r["subject"] == s)
                    for s in ("Thanks", "Volcano lair"))  # fmt: skip
    run("done", thanks, "--reason", "thanks only")
    assert "triage/done" in on_thread(thanks)
    [done] = json.loads(run("queue", "--json", "--view", "done", "--sync"))
    assert (done["thread_id"], done["done_reason"]) == (thanks, "thanks only")
    run("reopen", thanks)
    assert "triage/done" not in on_thread(thanks)

    assert run("snooze", lair, "--until", "20m").startswith(f"snoozed {lair} until ")
    assert "triage/snoozed" in on_thread(lair)
    [snoozed] = json.loads(run("queue", "--json", "--view", "snoozed", "--sync"))
    assert snoozed["thread_id"] == lair and snoozed["snoozed_until"]
    run("wake", lair)
    assert "triage/snoozed" not in on_thread(lair)
    waiting = {r["thread_id"] for r in json.loads(run("queue", "--json", "--sync"))}
    assert waiting == {thanks, lair}
