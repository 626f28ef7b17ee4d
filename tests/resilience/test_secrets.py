"""Secrets on shared servers: the token never leaks, and private files stay private.

A known token goes in (from an owner-only file, or an environment variable), a
run fails (the server answers 401, or nothing listens), and then stdout, stderr,
every file triage wrote and the exception with its traceback (locals included)
are searched for it. The server records the Authorization header it got, so a
test cannot pass just because the token was never read.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import stat
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.resilience.conftest import T0, Rig
from triage.cli import build_parser
from triage.clock import FrozenClock
from triage.config import load_config
from triage.demo.mailbox import DEMO_CONFIG
from triage.providers.base import AuthError, OfflineError
from triage.service.core import TriageService

SECRET = "tok-SECRET-1234"
REPO = Path(__file__).resolve().parents[2]
# The same as `python -m triage.cli`, but retry pauses are skipped so that a
# refused connection does not spend its real backoff (seconds) in the test.
NO_PAUSES = (
    "import runpy, triage.providers.jmap.http as h\n"
    "async def _no_pause(seconds): return None\n"
    "h.JmapHttp.__init__.__kwdefaults__['sleep'] = _no_pause\n"
    "runpy.run_module('triage.cli', run_name='__main__')\n"
)


class _Answer401(BaseHTTPRequestHandler):
    seen: list[str]

    def do_GET(self) -> None:
        self.seen.append(self.headers.get("Authorization", ""))
        body = b'{"type": "about:blank", "status": 401, "detail": "bad token"}'
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Bearer realm="jmap"')
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def server_401() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (_Answer401,), {"seen": seen})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/jmap/session", seen
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/jmap/session"  # nothing listens: connection refused


class Home:
    """A user's XDG directories and a config in tmp_path."""

    def __init__(self, root: Path, url: str, source: str) -> None:
        self.root = root
        self.written = [root / "cache", root / "state", root / "home"]  # triage's own files
        for d in [*self.written, root / "config", root / "secrets"]:
            d.mkdir(mode=0o700)
        self.token = root / "secrets" / "token"
        self.token.write_text(SECRET + "\n")
        self.token.chmod(0o600)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(root / "home"),
            "XDG_CACHE_HOME": str(root / "cache"),
            "XDG_STATE_HOME": str(root / "state"),
            "XDG_CONFIG_HOME": str(root / "config"),
            "PYTHONPATH": str(REPO),
        }
        source_line = f'token_file = "{self.token}"'
        if source == "env":
            self.env["TRIAGE_TOKEN"] = SECRET
            source_line = 'token_env = "TRIAGE_TOKEN"'
        self.config = root / "config" / "triage.toml"
        self.config.write_text(config_text(url, source_line))

    def run(self, *args: str, script: str | None = None) -> subprocess.CompletedProcess[str]:
        head = ["-c", script] if script else ["-m", "triage.cli"]
        return subprocess.run(
            [sys.executable, *head, *args, "--config", str(self.config)],
            env=self.env, cwd=self.root, capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    def files(self) -> list[Path]:
        return [p for d in self.written for p in d.rglob("*") if p.is_file()]


def config_text(url: str, source_line: str) -> str:
    """The demo's regions, managers and clients, pointed at a real (failing) server."""
    text = DEMO_CONFIG.read_text()
    head, _, rest = text.partition("[provider]")
    rest = rest[rest.index("[user]") :]
    rest = rest[: rest.index("[cache]")]  # the default XDG cache path
    provider = (
        f'[provider]\nkind = "jmap"\nsession_url = "{url}"\nauth = "bearer"\n'
        f"{source_line}\ntimeout_seconds = 5\n\n"
    )
    return head + provider + rest


def assert_no_secret(result: subprocess.CompletedProcess[str], home: Home) -> None:
    assert SECRET not in result.stdout
    assert SECRET not in result.stderr
    assert "Traceback" not in result.stderr
    files = home.files()
    assert files, "triage wrote no cache at all: the search below would prove nothing"
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path


def assert_private(home: Home) -> None:
    cache_dir = home.root / "cache" / "triage"
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    for path in cache_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


@pytest.mark.parametrize("source", ["file", "env"])
def test_a_401_run_never_shows_or_stores_the_token(
    tmp_path: Path, server_401: tuple[str, list[str]], source: str
) -> None:
    url, seen = server_401
    home = Home(tmp_path, url, source)
    result = home.run("sync")
    assert result.returncode == 1, result.stderr
    key = "provider.token_file" if source == "file" else "provider.token_env"
    assert "authentication failed" in result.stderr and key in result.stderr
    assert seen == [f"Bearer {SECRET}"]  # the token was really used, once: no retries
    assert_no_secret(result, home)
    assert_private(home)


def test_a_refused_connection_never_shows_or_stores_the_token(
    tmp_path: Path, closed_port: str
) -> None:
    home = Home(tmp_path, closed_port, "file")
    result = home.run("sync", script=NO_PAUSES)
    assert result.returncode == 1, result.stderr
    assert "cannot reach 127.0.0.1" in result.stderr
    assert_no_secret(result, home)


def _url(value: str | tuple[str, list[str]]) -> str:
    # Only the URL: the test's own frame (with the server's record of the token)
    # is part of the traceback searched below.
    return value[0] if isinstance(value, tuple) else value


@pytest.mark.parametrize("url_fixture", ["server_401", "closed_port"])
async def test_the_exception_and_its_traceback_hold_no_token(
    tmp_path: Path, request: pytest.FixtureRequest, url_fixture: str
) -> None:
    home = Home(tmp_path, _url(request.getfixturevalue(url_fixture)), "file")
    cfg = load_config(home.config, env=home.env)
    service = TriageService(cfg, FrozenClock(T0), env=home.env)
    service.provider.http._retries = 0  # one attempt shows it; real backoff would only wait
    try:
        with pytest.raises((AuthError, OfflineError)) as err:
            await service.sync()
    finally:
        await service.close()
    texts = [
        str(err.value),
        repr(err.value),
        "".join(traceback.format_exception(err.value)),
        "".join(
            traceback.TracebackException.from_exception(err.value, capture_locals=True).format()
        ),
        service.status().error,
        repr(service.provider.http._creds),
    ]
    for text in texts:
        assert SECRET not in text
    if url_fixture == "server_401":  # the locals searched reach the credentials' frame
        assert "secret=***" in texts[3]


def test_a_token_file_others_can_read_is_refused_with_the_fix(
    tmp_path: Path, server_401: tuple[str, list[str]]
) -> None:
    url, seen = server_401
    home = Home(tmp_path, url, "file")
    home.token.chmod(0o644)
    result = home.run("sync")
    assert result.returncode == 2
    assert "too open" in result.stderr and f"chmod 600 {home.token}" in result.stderr
    assert SECRET not in result.stderr + result.stdout
    assert seen == []  # refused before anything was sent


def _all_actions(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    for action in parser._actions:
        yield action
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _all_actions(sub)


def test_no_command_line_argument_takes_a_secret() -> None:
    names = []
    for action in _all_actions(build_parser()):
        names += [*action.option_strings, action.dest, action.metavar or ""]
    assert "--body-file" in names  # the walk reaches the subcommands
    secretive = re.compile(r"token|secret|pass|credential|auth|key", re.IGNORECASE)
    assert [n for n in names if isinstance(n, str) and secretive.search(n)] == []


async def test_cache_and_outbox_files_are_owner_only_whatever_the_umask(rig: Rig) -> None:
    old = os.umask(0)  # the most permissive umask: modes must come from triage itself
    try:
        service = rig.open()
        await service.sync()
        thread = rig.demo.threads["breached-east"]
        service.save_draft(thread, "a reply with client details")
        await service.thread(thread)  # writes the bodies file
    finally:
        os.umask(old)
    directory = rig.cache_path.parent
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    names = {p.name for p in directory.iterdir()}
    assert {"cache.json", "bodies.json", "outbox.json"} <= names
    for path in directory.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
