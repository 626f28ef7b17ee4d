"""`triage login` for Microsoft 365: the device flow first, PKCE in a browser where a
policy refuses device codes, and what to fix when the tenant says no.

The Microsoft identity platform's v2.0 endpoints live under
`{login_url}/{tenant}/oauth2/v2.0/` (devicecode, authorize, token). Conditional
Access can block the device-code flow (Microsoft advises blocking it where unused),
and an app registration without "Allow public client flows" refuses it: then the
sign-in continues as the authorization-code flow with PKCE on a loopback port.
Refusals are explained by their AADSTS code (wrong tenant, unknown client id,
missing consent, unregistered redirect URI).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import httpx

from triage.clock import Clock
from triage.domain.settings import ProviderConfig
from triage.providers.oauth import (
    Endpoints,
    LoginError,
    OAuthRefused,
    Sleep,
    TokenStore,
    device_login,
    login_port,
    pkce_login,
)

GRAPH_SCOPES = ("offline_access", "https://graph.microsoft.com/Mail.ReadWrite.Shared",
                "https://graph.microsoft.com/Mail.Send.Shared")  # fmt: skip
BLOCKED_BY_POLICY = frozenset({53003, 7000218, 50097})  # Conditional Access; no public flows
DEVICE_REFUSALS = frozenset({"unauthorized_client", "invalid_request", "access_denied"})
FIXES: dict[int, str] = {
    90002: "the tenant was not found: set provider.tenant to your tenant's id or domain "
    "(or 'organizations')",
    900023: "provider.tenant is not a valid tenant id or domain",
    700016: "provider.client_id is not an app registration of this tenant: check it and "
    "provider.tenant",
    50020: "the account you signed in with is not in this tenant: check provider.tenant",
    50034: "that account does not exist in this tenant: check provider.tenant",
    65001: "the app's permissions are not consented: a tenant admin must grant admin consent "
    "for Mail.ReadWrite.Shared, Mail.Send.Shared and offline_access",
    50011: "the redirect URI http://127.0.0.1 is not registered: add it to the app "
    "registration (Mobile and desktop applications)",
    7000218: "the app registration does not allow public client flows: turn on 'Allow "
    "public client flows' in its Authentication settings",
    53003: "a Conditional Access policy blocked the sign-in: ask your tenant admin",
}


def endpoints(settings: ProviderConfig) -> Endpoints:
    base = f"{settings.login_url.rstrip('/')}/{settings.tenant}/oauth2/v2.0"
    return Endpoints(
        client_id=settings.client_id, token_url=f"{base}/token", scopes=GRAPH_SCOPES,
        device_url=f"{base}/devicecode", authorize_url=f"{base}/authorize",
    )  # fmt: skip


def explained(e: OAuthRefused) -> LoginError:
    """The refusal with the fix its AADSTS code names."""
    fixes = [FIXES[c] for c in e.codes if c in FIXES]
    return LoginError(f"{e}: {fixes[0]}" if fixes else f"{e}: check provider.tenant and "
                      "provider.client_id")  # fmt: skip


def refused_by_policy(e: OAuthRefused) -> bool:
    """The device flow itself is not allowed here (rather than this sign-in failing)."""
    if any(c in BLOCKED_BY_POLICY for c in e.codes):
        return True
    known_cause = any(c in FIXES for c in e.codes)
    return e.error in DEVICE_REFUSALS and not known_cause and "device" in str(e)


async def sign_in(
    settings: ProviderConfig, *, env: Mapping[str, str], clock: Clock,
    say: Callable[[str], None], transport: httpx.AsyncBaseTransport | None = None,
    sleep: Sleep = asyncio.sleep,
) -> None:  # fmt: skip
    """Sign in and keep the tokens in provider.token_file (0600)."""
    if settings.token_file is None:
        raise LoginError("provider.token_file: no place to keep the sign-in")
    ep = endpoints(settings)
    timeout = httpx.Timeout(settings.timeout_seconds)
    async with httpx.AsyncClient(transport=transport, timeout=timeout) as client:
        try:
            tokens = await device_login(client, ep, say=say, clock=clock, sleep=sleep)
        except OAuthRefused as e:
            if not refused_by_policy(e):
                raise explained(e) from None
            say(f"Device-code sign-in is not allowed here ({e.error}); signing in through "
                "a browser instead.")  # fmt: skip
            try:
                tokens = await pkce_login(client, ep, say=say, clock=clock, port=login_port(env))
            except OAuthRefused as again:
                raise explained(again) from None
    store = TokenStore(settings.token_file)
    store.save(tokens)
    say(f"Signed in. The sign-in is kept in {store.path} (readable only by you).")
