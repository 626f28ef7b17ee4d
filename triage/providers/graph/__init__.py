"""The Microsoft 365 provider (a shared mailbox over Microsoft Graph): `open_provider` and
`login` are what the registry calls for `kind = "graph"`.

`http` (the token, the 4-request gate, `$batch`, paging, retries), `errors` (Graph's
errors, typed, naming the fix), `mailbox` (the mailbox and its folders), `delta`
(incremental sync), `client` (reading), `writes` (marks, notes, replies), `marks`
(shared state as categories), `parse` (answers -> values), `login` (`triage login`).
Verified against the in-repo fake (tests/support/graph_fake) and Microsoft's
documentation, not against a live tenant.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import httpx

from triage.clock import Clock
from triage.config.secrets import read_secret
from triage.domain.settings import ProviderConfig
from triage.providers.graph.client import GraphProvider
from triage.providers.graph.http import GraphHttp, Sleep, StaticToken
from triage.providers.graph.login import endpoints, sign_in
from triage.providers.oauth import AccessTokens, TokenSource, TokenStore

__all__ = ["GraphProvider", "access_tokens", "connect_provider", "login", "open_provider"]


def access_tokens(
    settings: ProviderConfig, env: Mapping[str, str], clock: Clock,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AccessTokens:  # fmt: skip
    """`auth = "oauth"`: the sign-in `triage login` kept, refreshed as needed;
    `auth = "bearer"`: an access token from token_env or token_file, as it is."""
    if settings.auth == "oauth" and settings.token_file is not None:
        store = TokenStore(settings.token_file)
        return TokenSource(store, endpoints(settings), clock=clock, transport=transport,
                           timeout=settings.timeout_seconds)  # fmt: skip
    return StaticToken(read_secret(settings, env))


def secret_key(settings: ProviderConfig, env: Mapping[str, str]) -> str:
    """The config key a refused bearer token is fixed at ("" for oauth: `triage login`)."""
    if settings.auth == "oauth":
        return ""
    in_env = bool(settings.token_env) and bool(env.get(settings.token_env))
    return "provider.token_env" if in_env else "provider.token_file"


def connect_provider(
    settings: ProviderConfig, tokens: AccessTokens, *, clock: Clock, key: str = "",
    transport: httpx.AsyncBaseTransport | None = None, sleep: Sleep = asyncio.sleep,
) -> GraphProvider:  # fmt: skip
    """A Graph provider on explicit tokens (and, for tests, a transport)."""
    http = GraphHttp(
        settings.api_url, tokens, mailbox=settings.mailbox, secret_key=key,
        timeout=settings.timeout_seconds, transport=transport, sleep=sleep, clock=clock,
    )  # fmt: skip
    return GraphProvider(http, mailbox=settings.mailbox, folder=settings.folder,
                         notes_mailbox=settings.notes_mailbox, clock=clock)  # fmt: skip


def open_provider(
    settings: ProviderConfig, *, env: Mapping[str, str], clock: Clock,
    transport: httpx.AsyncBaseTransport | None = None,
) -> GraphProvider:  # fmt: skip
    """The provider registered for `kind = "graph"` (no network I/O yet)."""
    tokens = access_tokens(settings, env, clock)
    return connect_provider(settings, tokens, clock=clock, key=secret_key(settings, env),
                            transport=transport)  # fmt: skip


async def login(
    settings: ProviderConfig, *, env: Mapping[str, str], clock: Clock,
    say: Callable[[str], None],
) -> None:  # fmt: skip
    """`triage login`: the device flow, or PKCE in a browser; the tokens kept in token_file."""
    await sign_in(settings, env=env, clock=clock, say=say)
