"""Fixtures for integration tests against a real Cyrus JMAP server on loopback.

Owns the session-wide Cyrus instance and SMTP sink, and a fresh user per test
so tests never see each other's mail. Without Cyrus (or without root, which
master needs to drop to the cyrus user) the tests skip, or fail when
TRIAGE_REQUIRE_JMAP=1 (CI must not silently skip them).
"""

from __future__ import annotations

import itertools
import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.cyrus import CyrusServer, CyrusUser, cyrus_installed
from tests.integration.smtp_sink import SmtpSink

DOMAIN = "example.test"
_user_numbers = itertools.count(1)


def _unavailable(reason: str) -> None:
    if os.environ.get("TRIAGE_REQUIRE_JMAP") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def _require_cyrus() -> None:
    if not cyrus_installed():
        _unavailable("Cyrus JMAP server not installed: run .ci/install-cyrus.sh")
    if os.geteuid() != 0:
        _unavailable("Cyrus JMAP server needs root (master drops to the cyrus user)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the server `cyrus`, so `-m "not cyrus"` deselects them."""
    for item in items:
        if "cyrus" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.cyrus)


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SmtpSink]:
    """An SMTP server on 127.0.0.1 recording what Cyrus submits."""
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def cyrus(smtp_sink: SmtpSink) -> Iterator[CyrusServer]:
    """One Cyrus instance for the whole session, sending through `smtp_sink`."""
    _require_cyrus()
    # Not pytest's tmp_path: its parents are mode 0700 and the cyrus user must traverse them.
    root = Path(tempfile.mkdtemp(prefix="triage-cyrus-"))
    server = CyrusServer(root, domain=DOMAIN, smtp_port=smtp_sink.port)
    try:
        server.start()
    except Exception:
        server.stop()
        raise
    smtp_sink.relay_local(DOMAIN, server.lmtp_socket)
    yield server
    server.stop()


@pytest.fixture
def cyrus_user(cyrus: CyrusServer) -> CyrusUser:
    """A brand-new user (INBOX, Drafts, Sent, Archive, Trash) for one test."""
    password = secrets.token_urlsafe(12)
    username = cyrus.add_user(f"user{next(_user_numbers):03d}", password)
    return CyrusUser(username, password, cyrus.session_url)
