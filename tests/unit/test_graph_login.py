"""`triage login` for Microsoft 365: the device flow, the fall back to PKCE where a policy
refuses device codes, and refusals explained by what to fix.

Against the Graph fake's identity endpoints (shaped from Microsoft's documentation);
the user's part (typing the code, the browser) is played by the test.
"""

from __future__ import annotations

import asyncio
import re
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.graph_fake import CLIENT_ID, GraphFake
from tests.unit.test_oauth import browse, code_in
from triage.clock import FrozenClock
from triage.domain.settings import ProviderConfig
from triage.providers.graph.login import sign_in
from triage.providers.oauth import LoginError, TokenStore

T = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
ALICE = "alice@agency.example"


@pytest.fixture
def fake() -> GraphFake:
    fake = GraphFake(FrozenClock(T))
    fake.add_user(ALICE)
    fake.identity.browser_user = ALICE
    return fake


def settings(fake: GraphFake, tmp_path: Path, **changes: str) -> ProviderConfig:
    values = {"tenant": "agency.example", "client_id": CLIENT_ID, **changes}
    return ProviderConfig(
        kind="graph",
        auth="oauth",
        mailbox="clients@agency.example",
        api_url=fake.api_url,
        login_url=fake.login_url,
        token_file=tmp_path / "triage" / "graph-token.json",
        **values,
    )


async def test_the_device_flow_keeps_the_sign_in_in_a_0600_token_file(
    fake: GraphFake, tmp_path: Path
) -> None:
    said: list[str] = []

    async def user_signs_in(seconds: float) -> None:
        fake.identity.approve(code_in(said), ALICE)

    s = settings(fake, tmp_path)
    await sign_in(
        s,
        env={},
        clock=fake.clock,
        say=said.append,
        transport=fake.transport(),
        sleep=user_signs_in,
    )

    assert s.token_file is not None and stat.S_IMODE(s.token_file.stat().st_mode) == 0o600
    grant = fake.identity.who(TokenStore(s.token_file).load().access_token)
    assert grant is not None and grant.user == ALICE
    assert said[-1].startswith("Signed in.") and str(s.token_file) in said[-1]
    assert not any("authorize" in line for line in said)


@pytest.mark.parametrize("refusal", ["blocked", "no-public-client"])
async def test_a_device_flow_refused_by_policy_falls_back_to_the_browser(
    fake: GraphFake, tmp_path: Path, refusal: str
) -> None:
    fake.identity.device_flow = refusal
    said: list[str] = []

    async def no_wait(seconds: float) -> None:
        pass

    browser = asyncio.create_task(browse(fake, said))
    s = settings(fake, tmp_path)
    await sign_in(
        s,
        env={"TRIAGE_LOGIN_PORT": "0"},
        clock=fake.clock,
        say=said.append,
        transport=fake.transport(),
        sleep=no_wait,
    )

    assert (await browser).status_code == 200
    error = "invalid_grant" if refusal == "blocked" else "invalid_client"
    assert any(f"not allowed here ({error})" in line for line in said), said
    assert s.token_file is not None and TokenStore(s.token_file).load().refresh_token


@pytest.mark.parametrize(
    ("change", "fix"),
    [({"tenant": "nowhere.example"}, "provider.tenant"),
     ({"client_id": "00000000-0000-0000-0000-000000000000"}, "provider.client_id")],
)  # fmt: skip
async def test_a_wrong_tenant_or_client_id_is_named_without_trying_the_browser(
    fake: GraphFake, tmp_path: Path, change: dict[str, str], fix: str
) -> None:
    said: list[str] = []
    s = settings(fake, tmp_path, **change)
    with pytest.raises(LoginError, match=re.escape(fix)):
        await sign_in(s, env={}, clock=fake.clock, say=said.append, transport=fake.transport())
    assert said == [] and s.token_file is not None and not s.token_file.exists()


async def test_missing_consent_in_the_browser_names_the_admin_consent(
    fake: GraphFake, tmp_path: Path
) -> None:
    fake.identity.device_flow = "blocked"
    fake.identity.consented = False
    said: list[str] = []
    browser = asyncio.create_task(browse(fake, said))

    async def no_wait(seconds: float) -> None:
        pass

    with pytest.raises(LoginError, match="admin consent"):
        await sign_in(
            settings(fake, tmp_path),
            env={"TRIAGE_LOGIN_PORT": "0"},
            clock=fake.clock,
            say=said.append,
            transport=fake.transport(),
            sleep=no_wait,
        )
    await browser
