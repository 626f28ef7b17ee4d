"""Fixtures of the contract suite: one `backend` fixture, parametrized demo / gmail / graph /
cyrus.

The cyrus variant reuses the integration fixtures (`cyrus`, `cyrus_user`,
`smtp_sink`), so it skips without Cyrus or root, and fails instead when
TRIAGE_REQUIRE_JMAP=1. Its tests carry the `cyrus` marker (`-m "not cyrus"`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.contract.backends import Backend, CyrusBackend, DemoBackend
from tests.contract.gmail_backend import GmailBackend
from tests.contract.graph_backend import GraphBackend
from tests.integration.conftest import cyrus, cyrus_user, smtp_sink
from triage.clock import FrozenClock, SystemClock
from triage.service.core import TriageService

__all__ = ["cyrus", "cyrus_user", "smtp_sink"]  # fixtures shared with tests/integration

# A Wednesday afternoon; the suite's region is 24x7, so the weekday does not matter.
DEMO_NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_cyrus = callspec is not None and callspec.params.get("backend") == "cyrus"
        if on_cyrus or "cyrus" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.cyrus)


def real_minute() -> datetime:
    """Now, to the minute: Cyrus stamps what we send with its own clock, so the
    test's frozen clock must start near real time for replies to sort after mail."""
    return SystemClock().now().replace(second=0, microsecond=0)


@pytest.fixture(params=["demo", "gmail", "graph", "cyrus"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "demo":
        return DemoBackend(FrozenClock(DEMO_NOW), tmp_path / "server")
    if request.param == "gmail":
        return GmailBackend(FrozenClock(DEMO_NOW))
    if request.param == "graph":
        return GraphBackend(FrozenClock(DEMO_NOW), tmp_path / "server")
    server = request.getfixturevalue("cyrus")
    user = request.getfixturevalue("cyrus_user")
    sink = request.getfixturevalue("smtp_sink")
    return CyrusBackend(server, user, sink, FrozenClock(real_minute()))


@pytest.fixture
async def alice(backend: Backend, tmp_path: Path) -> AsyncIterator[TriageService]:
    service = backend.service(tmp_path, "alice")
    yield service
    await service.close()


@pytest.fixture
async def bob(backend: Backend, tmp_path: Path) -> AsyncIterator[TriageService]:
    service = backend.service(tmp_path, "bob")
    yield service
    await service.close()
