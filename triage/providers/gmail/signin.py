"""Signing in to Google as the team mailbox: `triage login` (auth = "oauth").

Google refuses the device flow for Gmail's scopes, so the sign-in is the
installed-app flow with PKCE on a loopback port (`triage.providers.oauth`, shared
with the Microsoft 365 provider), with an OAuth client of type Desktop. Google
issues a refresh token only for `access_type=offline`, and again on a later
sign-in only with `prompt=consent`. A Desktop client's secret, when it has one,
comes from the JSON Google lets one download (`client_secret_file`). Before the
tokens are kept, the mailbox signed in to is checked against `provider.user`:
signing in as oneself to read the team's mailbox is delegation, which the API
does not allow.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx

from triage.clock import Clock
from triage.config.secrets import SecretError
from triage.domain.settings import ProviderConfig
from triage.providers.base import ProviderError
from triage.providers.gmail.errors import SCOPE, GoogleError, classify
from triage.providers.oauth import (
    Endpoints,
    LoginError,
    Tokens,
    TokenSource,
    TokenStore,
    login_port,
    pkce_login,
)

AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
OFFLINE = (("access_type", "offline"), ("prompt", "consent"))


def endpoints(settings: ProviderConfig) -> Endpoints:
    """The Desktop OAuth client at Google's authorization server."""
    return Endpoints(client_id=settings.client_id, token_url=settings.token_url,
                     scopes=(SCOPE,), authorize_url=AUTHORIZE_URL,
                     client_secret=client_secret(settings.client_secret_file),
                     authorize_params=OFFLINE)  # fmt: skip


def client_secret(path: Path | None) -> str:
    """The secret of a downloaded client JSON ({"installed": {"client_secret": ...}})."""
    if path is None:
        return ""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise SecretError(f"provider.client_secret_file: cannot read '{path}' as the client's "
                          f"JSON ({type(e).__name__})") from None  # fmt: skip
    installed = data.get("installed") if isinstance(data, dict) else None
    secret = installed.get("client_secret") if isinstance(installed, dict) else None
    if not isinstance(secret, str) or not secret:
        raise SecretError(f"provider.client_secret_file: '{path}' is not a Desktop client's JSON "
                          "(Cloud console: APIs & Services > Credentials > the client > "
                          "Download JSON)")  # fmt: skip
    return secret


class StoredLogin:
    """The sign-in `triage login` kept, as the Gmail HTTP layer asks for tokens."""

    def __init__(self, source: TokenSource) -> None:
        self.source = source

    async def token(self, client: httpx.AsyncClient) -> str:
        return await self.source.token()

    async def refreshed(self, client: httpx.AsyncClient, stale: str) -> str | None:
        return await self.source.renew(stale)

    def refused_hint(self) -> str:
        return "Gmail refused the signed-in token even after a refresh: run `triage login`"

    async def aclose(self) -> None:
        await self.source.aclose()


def stored_login(
    settings: ProviderConfig, clock: Clock, transport: httpx.AsyncBaseTransport | None = None
) -> StoredLogin:
    """The sign-in kept in token_file, refreshed as it expires (no network I/O yet)."""
    if settings.token_file is None:
        raise SecretError("provider.token_file: where `triage login` keeps the sign-in")
    source = TokenSource(TokenStore(settings.token_file), endpoints(settings), clock=clock,
                         transport=transport, timeout=settings.timeout_seconds)  # fmt: skip
    return StoredLogin(source)


async def login(
    settings: ProviderConfig, *, env: Mapping[str, str], clock: Clock,
    say: Callable[[str], None], transport: httpx.AsyncBaseTransport | None = None,
) -> None:  # fmt: skip
    """`triage login`: sign in in a browser, check the mailbox, keep the tokens."""
    if settings.token_file is None:
        raise SecretError("provider.token_file: where `triage login` keeps the sign-in")
    ep = endpoints(settings)
    timeout = httpx.Timeout(settings.timeout_seconds)
    async with httpx.AsyncClient(transport=transport, timeout=timeout) as client:
        tokens = await pkce_login(client, ep, say=say, clock=clock, port=login_port(env))
        _check_granted(tokens)
        address = await _mailbox(client, settings, tokens)
    if settings.user != "me" and address.casefold() != settings.user.casefold():
        raise LoginError(
            f"signed in as {address}, but provider.user is {settings.user}: sign in as the "
            "team mailbox itself (mail delegation set up in Gmail's settings does not work "
            "through the API), or use a service account (auth = 'service_account')"
        )
    TokenStore(settings.token_file).save(tokens)
    say(f"Signed in to {address}; the sign-in is kept in {settings.token_file}")


def _check_granted(tokens: Tokens) -> None:
    """Google's consent page lets the user untick a scope: without Gmail's, nothing works."""
    if tokens.scope and SCOPE not in tokens.scope.split():
        raise LoginError(
            f"the sign-in did not grant {SCOPE}: run `triage login` again and, on Google's "
            "page, tick the box that lets triage read, compose and send email (an "
            "administrator may also have to allow this app under Security > API controls)"
        )


async def _mailbox(client: httpx.AsyncClient, settings: ProviderConfig, tokens: Tokens) -> str:
    """The address of the mailbox the new tokens open (getProfile of "me")."""
    url = f"{settings.api_url.rstrip('/')}/gmail/v1/users/me/profile"
    try:
        r = await client.get(url, headers={"Authorization": f"Bearer {tokens.access_token}"})
    except httpx.TransportError as e:
        raise ProviderError(
            f"signed in, but Gmail could not be reached to check the "
            f"mailbox ({type(e).__name__}): run `triage login` again"
        ) from None
    if r.status_code != 200:  # the API not enabled, Gmail off for the account...
        raise classify(GoogleError.of(r.status_code, r.content), "the signed-in mailbox").error
    try:
        data = r.json()
    except ValueError:
        data = None
    address = data.get("emailAddress") if isinstance(data, dict) else None
    if not isinstance(address, str) or "@" not in address:
        raise ProviderError("signed in, but Gmail's profile answer names no mailbox")
    return address
