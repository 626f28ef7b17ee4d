"""`triage login` for Gmail (auth = "oauth") against the fake's token endpoint.

The browser is played by the test: it reads the address `login` prints, has the
fake's consent hand out a code for that PKCE challenge, and follows the loopback
redirect with it, as Google's page would. The kept sign-in then serves syncs,
is refreshed when Google says the access token expired, and a revoked one says
to run `triage login`.
"""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.contract.conftest import DEMO_NOW
from tests.contract.gmail_backend import GmailBackend
from triage.clock import FrozenClock
from triage.domain.settings import ProviderConfig
from triage.providers.base import AuthError, ProviderError
from triage.providers.gmail import connect_provider
from triage.providers.gmail.signin import login, stored_login
from triage.providers.oauth import LoginError

API = "https://gmail.fake.invalid"


def settings(tmp_path: Path, user: str, secret_file: Path | None) -> ProviderConfig:
    return ProviderConfig(
        kind="gmail",
        auth="oauth",
        user=user,
        api_url=API,
        token_url=f"{API}/token",
        client_id="123-desktop.apps.googleusercontent.com",
        client_secret_file=secret_file,
        token_file=tmp_path / "gmail-token.json",
    )


async def sign_in(b: GmailBackend, cfg: ProviderConfig, granted: str = "") -> list[str]:
    """Run `login` with the test as the browser, the user granting the scopes asked for
    (or only `granted`); what it said."""
    said: list[str] = []
    task = asyncio.create_task(
        login(
            cfg,
            env={"TRIAGE_LOGIN_PORT": "0"},
            clock=b.clock,
            say=said.append,
            transport=b.fake.transport(),
        )
    )
    for _ in range(200):
        if said or task.done():
            break
        await asyncio.sleep(0.01)
    url = said[0].split()[-1]
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert (query["access_type"], query["prompt"], query["code_challenge_method"]) == (
        "offline",
        "consent",
        "S256",
    )
    scope = granted or query["scope"]
    code = b.fake.oauth.consent(query["redirect_uri"], query["code_challenge"], scope)
    async with httpx.AsyncClient() as browser:
        await browser.get(query["redirect_uri"], params={"code": code, "state": query["state"]})
    await task
    return said


@pytest.fixture
def backend(tmp_path: Path) -> GmailBackend:
    b = GmailBackend(FrozenClock(DEMO_NOW))
    b.fake.oauth.client_secret = "GOCSPX-desktop-secret"
    b.deliver("Wile Coyote", "wile@acme.test", "Anvils", "How many?")
    return b


def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "google-client.json"
    path.write_text(
        json.dumps(
            {
                "installed": {
                    "client_id": "123-desktop.apps.googleusercontent.com",
                    "client_secret": "GOCSPX-desktop-secret",
                }
            }
        )
    )
    return path


async def test_login_keeps_a_sign_in_that_syncs_and_is_refreshed(
    backend: GmailBackend, tmp_path: Path
) -> None:
    cfg = settings(tmp_path, "team@agency.example", secret_file(tmp_path))
    said = await sign_in(backend, cfg)

    assert "ssh -L" in said[1] and "Signed in to team@agency.example" in said[-1]
    assert cfg.token_file is not None
    assert stat.S_IMODE(cfg.token_file.stat().st_mode) == 0o600
    p = connect_provider(
        cfg,
        stored_login(cfg, backend.clock, backend.fake.transport()),
        clock=backend.clock,
        transport=backend.fake.transport(),
    )
    assert [t.messages[0].subject for t in (await p.full_sync()).threads] == ["Anvils"]

    backend.fake.expire_tokens()  # an hour later
    assert len((await p.full_sync()).threads) == 1  # refreshed with the kept refresh token

    backend.fake.oauth.revoked |= set(backend.fake.oauth.refresh)
    backend.fake.expire_tokens()
    with pytest.raises(AuthError, match="run `triage login`"):
        await p.full_sync()
    await p.aclose()


async def test_signing_in_as_someone_else_than_the_team_mailbox_is_refused(
    backend: GmailBackend, tmp_path: Path
) -> None:
    cfg = settings(tmp_path, "clients@agency.example", secret_file(tmp_path))
    with pytest.raises(LoginError, match="does not work through the API"):
        await sign_in(backend, cfg)
    assert cfg.token_file is not None and not cfg.token_file.exists()


async def test_a_sync_before_any_login_says_to_log_in(
    backend: GmailBackend, tmp_path: Path
) -> None:
    cfg = settings(tmp_path, "me", None)
    p = connect_provider(
        cfg,
        stored_login(cfg, backend.clock, backend.fake.transport()),
        clock=backend.clock,
        transport=backend.fake.transport(),
    )
    with pytest.raises(AuthError, match="run `triage login`"):
        await p.connect()
    await p.aclose()


async def test_a_sign_in_without_the_gmail_scope_is_refused_and_not_kept(
    backend: GmailBackend, tmp_path: Path
) -> None:
    cfg = settings(tmp_path, "team@agency.example", secret_file(tmp_path))
    # Google's consent page lets the user untick a scope; the token then opens nothing.
    with pytest.raises(LoginError, match=r"did not grant .*gmail\.modify.*tick the box"):
        await sign_in(backend, cfg, granted="openid email")
    assert cfg.token_file is not None and not cfg.token_file.exists()


async def test_a_project_without_the_gmail_api_is_named_at_sign_in(
    backend: GmailBackend, tmp_path: Path
) -> None:
    cfg = settings(tmp_path, "team@agency.example", secret_file(tmp_path))
    backend.fake.api_disabled = True
    with pytest.raises(ProviderError, match=r"Gmail API is not enabled.*APIs & Services"):
        await sign_in(backend, cfg)
    assert cfg.token_file is not None and not cfg.token_file.exists()


async def test_a_wrong_client_secret_is_refused_by_the_token_endpoint(
    backend: GmailBackend, tmp_path: Path
) -> None:
    path = secret_file(tmp_path)
    path.write_text(path.read_text().replace("GOCSPX-desktop-secret", "GOCSPX-another"))
    cfg = settings(tmp_path, "team@agency.example", path)
    with pytest.raises(ProviderError, match="invalid_client"):
        await sign_in(backend, cfg)
    assert cfg.token_file is not None and not cfg.token_file.exists()


def test_a_client_file_that_is_not_a_desktop_clients_json_is_named(tmp_path: Path) -> None:
    from triage.config import SecretError
    from triage.providers.gmail.signin import client_secret

    web = tmp_path / "web-client.json"
    web.write_text(json.dumps({"web": {"client_id": "x", "client_secret": "y"}}))
    with pytest.raises(SecretError, match="not a Desktop client's JSON"):
        client_secret(web)
    with pytest.raises(SecretError, match="cannot read"):
        client_secret(tmp_path / "absent.json")
    assert client_secret(secret_file(tmp_path)) == "GOCSPX-desktop-secret"
