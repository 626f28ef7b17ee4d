"""The real CLI, as a subprocess, on Microsoft 365: `triage login`, `check-config`,
`sync`, `queue --json`, `escalate` and `reply`, against the Graph fake served over
HTTP on 127.0.0.1.

The fake is built from Microsoft's documentation, not from a live tenant. The config
is the one the README shows (no token_file: `triage login` keeps the sign-in at the
default path), with api_url and login_url pointing at the fake. The user's part of
the device flow (typing the code on another device) is played by the test.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.contract.backends import STAFF_DOMAIN, write_config
from tests.contract.conftest import real_minute
from tests.contract.graph_backend import sign_in
from tests.support.graph_fake import CLIENT_ID, GraphFake
from triage.clock import FrozenClock
from triage.providers.oauth import TokenStore
from triage.text.isotime import iso

ROOT = Path(__file__).resolve().parents[2]
SHARED = f"clients@{STAFF_DOMAIN}"
ALICE = f"alice@{STAFF_DOMAIN}"


@pytest.fixture
def now() -> datetime:
    return real_minute()  # the CLI reads the real clock; the fake's tokens expire by its own


@pytest.fixture
def fake(now: datetime) -> Iterator[GraphFake]:
    fake = GraphFake(FrozenClock(now))
    fake.mailbox(SHARED, "Agency Clients")
    fake.add_user(ALICE, full_access={SHARED}, send_as={SHARED})
    with fake.serve():
        yield fake


def setup_user(home: Path, fake: GraphFake) -> Path:
    """~/.config/triage/config.toml as the README's Microsoft 365 section says."""
    provider = "\n".join([
        'kind = "graph"', f'mailbox = "{SHARED}"', 'folder = "inbox"',
        f'tenant = "{STAFF_DOMAIN}"', f'client_id = "{CLIENT_ID}"', 'auth = "oauth"',
        f'api_url = "{fake.api_url}"', f'login_url = "{fake.login_url}"',
    ])  # fmt: skip
    return write_config(home / ".config" / "triage" / "config.toml", provider, alice=SHARED,
                        bob=f"bob@{STAFF_DOMAIN}", staff=[STAFF_DOMAIN],
                        cache=home / "cache" / "triage.json")  # fmt: skip


def environment(home: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
            "XDG_CACHE_HOME": str(home / "cache"), "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1", "NO_PROXY": "*"}  # fmt: skip


def triage(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "triage.cli", *args], env=environment(home),
                          cwd=home, input=stdin, capture_output=True, text=True,
                          timeout=60)  # fmt: skip


def login(home: Path, fake: GraphFake) -> tuple[int, str, str]:
    """`triage login`; the user types the code it prints on another device."""
    proc = subprocess.Popen([sys.executable, "-m", "triage.cli", "login"],
                            env=environment(home), cwd=home, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None
    said = [proc.stdout.readline()]
    code = re.search(r"enter the code (\w+)", said[0])
    if code is not None:
        fake.identity.approve(code.group(1), ALICE)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, said[0] + out, err


def client_mail(fake: GraphFake, subject: str, at: datetime, mid: str) -> None:
    fake.deliver(SHARED, "Wile Coyote", "wile@acme.test", [SHARED], subject, "Well?", at,
                 message_id=mid)  # fmt: skip


def test_login_then_sync_queue_escalate_and_reply(
    fake: GraphFake, tmp_path: Path, now: datetime
) -> None:
    setup_user(tmp_path, fake)
    before = triage(tmp_path, "check-config")
    assert before.returncode == 0 and "run `triage login`" in before.stdout + before.stderr

    code, out, err = login(tmp_path, fake)

    assert (code, err) == (0, ""), out + err
    token_file = tmp_path / ".config" / "triage" / "graph-token.json"
    assert f"{fake.base}/devicelogin" in out and str(token_file) in out
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    tokens = TokenStore(token_file).load()
    assert tokens.refresh_token not in out and tokens.access_token not in out
    checked = triage(tmp_path, "check-config")
    assert checked.returncode == 0 and "warning" not in checked.stdout + checked.stderr

    client_mail(fake, "Rocket fuel invoice", now - timedelta(minutes=50), "fuel@acme.test")
    client_mail(fake, "Anvil recall", now - timedelta(minutes=20), "anvil@acme.test")
    synced = triage(tmp_path, "sync")
    assert (synced.returncode, synced.stderr) == (0, "")
    assert synced.stdout.strip() == "full sync: 2 new, 0 updated, 0 removed"

    shown = triage(tmp_path, "queue", "--json", "--now", iso(now))
    assert shown.returncode == 0, shown.stderr
    fuel, anvil = json.loads(shown.stdout)
    assert (fuel["subject"], fuel["client"], fuel["owner"]) == (
        "Rocket fuel invoice", "Acme Rockets", "alice")  # fmt: skip
    assert (fuel["seconds_left"], anvil["seconds_left"]) == (600, 40 * 60)

    escalated = triage(tmp_path, "escalate", fuel["thread_id"], "--reason", "third time asking")
    assert escalated.returncode == 0, escalated.stderr
    [msg] = [m for m in fake.mailboxes[SHARED].messages.values() if m.subject == fuel["subject"]]
    assert "triage:escalated" in msg.categories

    replied = triage(tmp_path, "reply", anvil["thread_id"], "--body-file", "-",
                     stdin="The recall is on its way.\n")  # fmt: skip
    assert replied.returncode == 0, replied.stderr
    [out_mail] = fake.sent
    assert out_mail.in_reply_to.strip("<>") == "anvil@acme.test"
    assert out_mail.body == "The recall is on its way.\n"
    assert f"<{out_mail.message_id.strip('<>')}>" in replied.stdout

    after = triage(tmp_path, "queue", "--json", "--now", iso(now), "--sync")
    [left] = json.loads(after.stdout)
    assert (left["subject"], left["escalated"]) == ("Rocket fuel invoice", True)
    assert left["escalation_reason"] == "third time asking"
    again = triage(tmp_path, "sync")
    assert again.stdout.strip() == "incremental sync: 0 new, 0 updated, 0 removed"


def test_sync_before_login_is_one_line_saying_run_triage_login(
    fake: GraphFake, tmp_path: Path
) -> None:
    setup_user(tmp_path, fake)

    done = triage(tmp_path, "sync")

    assert done.returncode == 1 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert "run `triage login`" in line
    assert [s for s in fake.seen if s.path.startswith("/v1.0/")] == []


def test_a_revoked_sign_in_is_one_line_saying_run_triage_login(
    fake: GraphFake, tmp_path: Path
) -> None:
    setup_user(tmp_path, fake)
    assert login(tmp_path, fake)[0] == 0
    fake.identity.revoke(ALICE)
    fake.identity.expire_access_tokens()

    done = triage(tmp_path, "sync")

    assert done.returncode == 1 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert "run `triage login`" in line and "Traceback" not in done.stderr
    assert fake.identity.refreshes == 1  # tried once, not retried
    tokens = TokenStore(tmp_path / ".config" / "triage" / "graph-token.json").load()
    assert tokens.refresh_token not in line


def test_hostile_text_from_the_mailbox_prints_inert(
    fake: GraphFake, tmp_path: Path, now: datetime
) -> None:
    setup_user(tmp_path, fake)
    sign_in(fake, ALICE, tmp_path / ".config" / "triage" / "graph-token.json", fake.clock)
    fake.deliver(SHARED, "\x1b]0;owned\x07Wile", "wile@acme.test", [SHARED],
                 "[@click=app.quit]\u202eeciovni\x1b[2J", "Well?", now - timedelta(minutes=5),
                 message_id="hostile@acme.test")  # fmt: skip

    shown = triage(tmp_path, "queue", "--sync", "--now", iso(now))

    assert shown.returncode == 0, shown.stderr
    assert "\x1b" not in shown.stdout and "\u202e" not in shown.stdout
    assert "\x07" not in shown.stdout
    assert "[@click=app.quit]" in shown.stdout  # shown as typed, never interpreted


def test_the_workflow_from_the_shell_is_categories_on_the_shared_mailbox(
    fake: GraphFake, tmp_path: Path, now: datetime
) -> None:
    """done, reopen, snooze and wake, each a separate run, each seen in the mailbox."""
    setup_user(tmp_path, fake)
    sign_in(fake, ALICE, tmp_path / ".config" / "triage" / "graph-token.json", fake.clock)
    client_mail(fake, "Rocket fuel invoice", now - timedelta(minutes=20), "fuel@acme.test")
    [msg] = fake.mailboxes[SHARED].messages.values()

    def run(*args: str) -> str:
        r = triage(tmp_path, *args)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def view(name: str) -> list[str]:
        return [r["subject"] for r in json.loads(run("queue", "--json", "--view", name, "--sync"))]

    [row] = json.loads(run("queue", "--json", "--sync"))
    tid = row["thread_id"]
    run("done", tid, "--reason", "handled by phone")
    assert "triage:done" in msg.categories and view("done") == ["Rocket fuel invoice"]
    run("reopen", tid)
    assert "triage:done" not in msg.categories and view("waiting") == ["Rocket fuel invoice"]
    assert run("snooze", tid, "--until", "2h").startswith(f"snoozed {tid} until ")
    assert "triage:snoozed" in msg.categories and view("snoozed") == ["Rocket fuel invoice"]
    run("wake", tid)
    assert "triage:snoozed" not in msg.categories and view("snoozed") == []
    actions = [json.loads(m.body)["action"] for m in fake.mailboxes[SHARED].messages.values()
               if "triage-note" in m.categories]  # fmt: skip
    assert actions == ["done", "reopen", "snooze", "wake"]
