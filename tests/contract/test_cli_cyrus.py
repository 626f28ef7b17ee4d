"""`triage sync` and `triage queue --json` as a new user runs them against real Cyrus.

The config is written the way the README tells a user to (session URL, basic auth,
a token file only its owner can read), caches go to a temporary XDG_CACHE_HOME,
and the CLI runs as a subprocess. Mail times come from IMAP APPEND INTERNALDATEs
relative to `now`, and `queue --now` evaluates the queue at that instant.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.contract.backends import message
from tests.contract.conftest import real_minute
from tests.integration.cyrus import CyrusServer, CyrusUser
from triage.text.isotime import iso

ROOT = Path(__file__).resolve().parents[2]

USER_CONFIG = """\
[provider]
kind = "jmap"
session_url = "{session_url}"
auth = "basic"
username = "{username}"
token_file = "~/.config/triage/token"

[user]
manager = "alice"

[agency]
staff_domains = ["agency.example", "{login_domain}"]
ceo = "ceo@agency.example"

[regions.support]
label = "24x7 support line"
timezone = "America/New_York"
hours = "24x7"
reply_within = "1h"

[managers.alice]
name = "Alice Martin"
email = "{username}"
regions = ["support"]

[managers.bob]
name = "Bob Okafor"
email = "bob@agency.example"
regions = ["support"]

[clients."acme.test"]
name = "Acme Rockets"
region = "support"
owner = "alice"
tier = "premium"

[clients."globex.test"]
name = "Globex"
region = "support"
owner = "bob"

[routing]
default_region = "support"
"""


def setup_user(home: Path, user: CyrusUser, password: str) -> Path:
    """~/.config/triage/config.toml and a 0600 token file, as the README says."""
    config_dir = home / ".config" / "triage"
    config_dir.mkdir(parents=True)
    token = config_dir / "token"
    token.write_text(password + "\n")
    token.chmod(0o600)
    config = config_dir / "config.toml"
    config.write_text(USER_CONFIG.format(
        session_url=user.session_url, username=user.username,
        login_domain=user.username.rpartition("@")[2],
    ))  # fmt: skip
    return config


def triage(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / "cache"),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run([sys.executable, "-m", "triage.cli", *args], env=env, cwd=home,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def append(cyrus: CyrusServer, user: CyrusUser, sender: str, subject: str, at: datetime,
           mailbox: str = "INBOX", in_reply_to: str | None = None) -> str:  # fmt: skip
    mid = f"{subject.replace(' ', '-').lower()}@{sender.rpartition('@')[2]}"
    raw = message("", sender, [user.username], subject, "Hello.", [], mid, in_reply_to,
                  [], at, False)  # fmt: skip
    cyrus.append(user.username, mailbox, raw, at)
    return mid


@pytest.fixture
def now() -> datetime:
    return real_minute()


def seed(cyrus: CyrusServer, user: CyrusUser, now: datetime) -> None:
    def ago(minutes: int) -> datetime:
        return now - timedelta(minutes=minutes)

    append(cyrus, user, "pat@initech.test", "New project", ago(90))  # unknown: guessed
    append(cyrus, user, "wile@acme.test", "Rocket fuel invoice", ago(50))
    asked = append(cyrus, user, "hank@globex.test", "Old question", ago(80))
    append(cyrus, user, "bob@agency.example", "Re: Old question", ago(70), "Sent", asked)
    append(cyrus, user, "hank@globex.test", "Volcano lair", ago(5))


def test_sync_then_queue_json(
    cyrus: CyrusServer, cyrus_user: CyrusUser, tmp_path: Path, now: datetime
) -> None:
    seed(cyrus, cyrus_user, now)
    config = setup_user(tmp_path, cyrus_user, cyrus_user.password)

    synced = triage(tmp_path, "sync", "--config", str(config))
    assert (synced.returncode, synced.stderr) == (0, "")
    assert synced.stdout.strip() == "full sync: 4 new, 0 updated, 0 removed"
    assert (tmp_path / "cache" / "triage" / "cache.json").exists()

    shown = triage(tmp_path, "queue", "--config", str(config), "--json", "--now", iso(now))
    assert shown.returncode == 0, shown.stderr
    rows = json.loads(shown.stdout)
    assert [r["subject"] for r in rows] == ["New project", "Rocket fuel invoice", "Volcano lair"]
    pat, wile, hank = rows
    assert (pat["client"], pat["client_email"]) == ("initech.test", "pat@initech.test")
    assert (pat["region"], pat["region_guessed"], pat["owner"]) == ("support", True, "alice")
    assert (pat["state"], pat["seconds_left"]) == ("breached", -30 * 60)
    assert (pat["escalated"], pat["escalation_reason"]) == (True, "breached")
    assert wile == {**wile, "client": "Acme Rockets", "client_email": "wile@acme.test",
                    "region": "support", "region_guessed": False, "owner": "alice",
                    "waiting_since": iso(now - timedelta(minutes=50)),
                    "deadline": iso(now + timedelta(minutes=10)), "seconds_left": 600,
                    "state": "at_risk", "escalated": False, "escalation_reason": ""}  # fmt: skip
    assert (hank["client"], hank["owner"], hank["state"], hank["seconds_left"]) == (
        "Globex", "bob", "ok", 55 * 60)  # fmt: skip
    assert all(r["thread_id"] for r in rows) and len({r["thread_id"] for r in rows}) == 3

    escalated = triage(tmp_path, "escalate", wile["thread_id"], "--reason", "third time asking",
                       "--config", str(config))  # fmt: skip
    assert escalated.returncode == 0, escalated.stderr
    synced = triage(
        tmp_path, "queue", "--config", str(config), "--json", "--now", iso(now), "--sync"
    )
    [wile] = [r for r in json.loads(synced.stdout) if r["thread_id"] == wile["thread_id"]]
    assert (wile["escalated"], wile["escalation_reason"]) == (True, "third time asking")

    again = triage(tmp_path, "sync", "--config", str(config))
    assert (again.returncode, again.stdout.strip()) == (
        0, "incremental sync: 0 new, 0 updated, 0 removed")  # fmt: skip


def test_wrong_password_is_one_line_naming_the_token_file(
    cyrus_user: CyrusUser, tmp_path: Path
) -> None:
    wrong = "not-the-password-" + cyrus_user.password[::-1]
    config = setup_user(tmp_path, cyrus_user, wrong)

    done = triage(tmp_path, "sync", "--config", str(config))

    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "authentication failed" in lines[0] and "provider.token_file" in lines[0]
    for secret in (wrong, cyrus_user.password):
        assert secret not in done.stdout + done.stderr


def test_the_workflow_from_the_shell(
    cyrus: CyrusServer, cyrus_user: CyrusUser, tmp_path: Path, now: datetime
) -> None:
    """done, reopen, snooze, wake and the views, each a separate run of the command."""
    seed(cyrus, cyrus_user, now)
    config = setup_user(tmp_path, cyrus_user, cyrus_user.password)

    def run(*args: str) -> str:
        r = triage(tmp_path, *args, "--config", str(config))
        assert r.returncode == 0, r.stderr
        return r.stdout

    def view(name: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = json.loads(run("queue", "--json", "--view", name, "--sync"))
        return rows

    rows = json.loads(run("queue", "--json", "--sync"))
    assert {r["status"] for r in rows} == {"waiting"}
    wile = next(r["thread_id"] for r in rows if r["subject"] == "Rocket fuel invoice")
    assert run("done", wile, "--reason", "handled by phone").strip() == (
        f"done {wile}: handled by phone")  # fmt: skip
    [done] = view("done")
    assert (done["thread_id"], done["status"], done["done_reason"], done["done_by"]) == (
        wile, "done", "handled by phone", "alice")  # fmt: skip
    assert wile not in {r["thread_id"] for r in view("waiting")}
    run("reopen", wile)
    assert wile in {r["thread_id"] for r in view("waiting")}

    hank = next(r["thread_id"] for r in rows if r["subject"] == "Volcano lair")
    said = run("snooze", hank, "--until", "2h")
    assert said.startswith(f"snoozed {hank} until ") and "(the client's time)" in said
    [snoozed] = view("snoozed")
    assert snoozed["status"] == "snoozed" and snoozed["snoozed_until"]
    # it wakes when it becomes at risk (15 minutes before its deadline), not in 2 hours
    woke = datetime.fromisoformat(snoozed["wakes_at"])
    assert woke == datetime.fromisoformat(rows_by(rows, hank)["deadline"]) - timedelta(minutes=15)
    run("wake", hank)
    assert view("snoozed") == [] and hank in {r["thread_id"] for r in view("waiting")}
    [answered] = view("answered")
    assert (answered["subject"], answered["replied_by"]) == ("Old question", "bob")


def rows_by(rows: list[dict[str, Any]], thread_id: str) -> dict[str, Any]:
    return next(r for r in rows if r["thread_id"] == thread_id)


def test_a_workflow_command_refuses_clearly(
    cyrus: CyrusServer, cyrus_user: CyrusUser, tmp_path: Path, now: datetime
) -> None:
    seed(cyrus, cyrus_user, now)
    config = setup_user(tmp_path, cyrus_user, cyrus_user.password)
    rows = json.loads(triage(tmp_path, "queue", "--json", "--sync", "--config", str(config)).stdout)
    tid = rows[0]["thread_id"]
    wile = next(r["thread_id"] for r in rows if r["subject"] == "Rocket fuel invoice")
    for args, says in ((("reopen", tid), "is not done"), (("wake", tid), "is not snoozed"),
                       (("snooze", tid, "--until", "yesterday"), "--until: 'yesterday' is not"),
                       (("deescalate", tid, "--reason", "x"), "not escalated by hand"),
                       (("snooze", wile, "--until", "2h"), "at risk already")):  # fmt: skip
        r = triage(tmp_path, *args, "--config", str(config))
        assert r.returncode == 2 and says in r.stderr and "Traceback" not in r.stderr


TEMPLATES = """
[templates.thanks]
title = "Thanks, on it"
body = "Hi {client_name}, {manager_first_name} here: on it, by {deadline}."

[templates.personal]
body = "Dear {client_first_name},"
"""


def sent_bodies(cyrus: CyrusServer, user: CyrusUser) -> list[str]:
    """The text of every message in the user's Sent mailbox, read over IMAP."""
    imap = cyrus._imap(user.username, user.password)
    try:
        imap.select("Sent", readonly=True)
        _, found = imap.search(None, "ALL")
        bodies = []
        for num in found[0].split():
            _, data = imap.fetch(num, "(BODY[TEXT])")
            bodies.append(data[0][1].decode("utf-8", "replace").replace("\r\n", "\n"))
        return bodies
    finally:
        imap.logout()


def test_reply_with_a_template_is_filled_signed_and_refused_when_it_cannot_be(
    cyrus: CyrusServer, cyrus_user: CyrusUser, tmp_path: Path, now: datetime
) -> None:
    seed(cyrus, cyrus_user, now)
    config = setup_user(tmp_path, cyrus_user, cyrus_user.password)
    text = config.read_text().replace(
        'regions = ["support"]\n', 'regions = ["support"]\nsignature = "Alice\\nAgency"\n', 1
    )
    config.write_text(text + TEMPLATES)
    rows = json.loads(triage(tmp_path, "queue", "--json", "--sync", "--config", str(config)).stdout)
    wile = next(r["thread_id"] for r in rows if r["subject"] == "Rocket fuel invoice")

    # The sender has no display name: {client_first_name} cannot be filled, nothing is sent.
    refused = triage(tmp_path, "reply", wile, "--template", "personal", "--config", str(config))
    assert refused.returncode == 2 and "{client_first_name} cannot be filled" in refused.stderr
    unknown = triage(tmp_path, "reply", wile, "--template", "nope", "--config", str(config))
    assert unknown.returncode == 2 and "templates: thanks, personal" in unknown.stderr
    assert sent_bodies(cyrus, cyrus_user) == [] or all(
        "Dear" not in b for b in sent_bodies(cyrus, cyrus_user))  # fmt: skip

    sent = triage(tmp_path, "reply", wile, "--template", "thanks", "--config", str(config))
    assert sent.returncode == 0, sent.stderr
    [body] = [b for b in sent_bodies(cyrus, cyrus_user) if "on it" in b]
    assert body.startswith("Hi Acme Rockets, Alice here: on it, by ")
    assert body.rstrip().endswith("-- \nAlice\nAgency") and body.count("-- \n") == 1
