"""The Gmail API provider (Google Workspace): `open_provider` builds it from the config.

`http` (deadlines, retries, the quota, Google's errors), `errors` (error reasons
named with their fix), `quota` (units per method, the pacer), `auth` (bearer
tokens, service accounts), `client` (reading), `writes` (marks, notes, replies),
`labels` (how shared state is stored as labels), `parse` (messages -> values),
`compose` (the messages we write), `batch` (many reads in one request), `signin`
(`triage login`). Imported only when a config says `kind = "gmail"`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx

from triage.clock import Clock
from triage.config.secrets import SecretError, read_secret
from triage.domain.settings import ProviderConfig
from triage.providers.gmail.auth import BearerToken, TokenSource, load_service_account
from triage.providers.gmail.client import GmailProvider
from triage.providers.gmail.http import GmailHttp

__all__ = ["GmailProvider", "connect_provider", "login", "open_provider", "token_source"]


def token_source(settings: ProviderConfig, env: Mapping[str, str], clock: Clock) -> TokenSource:
    """Where the access tokens come from, as `provider.auth` says."""
    if settings.auth == "service_account":
        if settings.key_file is None:
            raise SecretError("provider.key_file: missing (required when auth = 'service_account')")
        return load_service_account(settings.key_file, settings.user, settings.token_url, clock)
    if settings.auth == "oauth":
        from triage.providers.gmail.signin import stored_login

        return stored_login(settings, clock)
    in_env = bool(settings.token_env) and bool(env.get(settings.token_env))
    key = "provider.token_env" if in_env else "provider.token_file"
    return BearerToken(read_secret(settings, env), key)


def connect_provider(
    settings: ProviderConfig, tokens: TokenSource, *, clock: Clock,
    transport: httpx.AsyncBaseTransport | None = None,
) -> GmailProvider:  # fmt: skip
    """A Gmail provider on explicit tokens (and, for tests, a transport)."""
    api_url = settings.api_url or "https://gmail.googleapis.com"
    http = GmailHttp(api_url, settings.user, tokens, timeout=settings.timeout_seconds,
                     transport=transport, clock=clock)  # fmt: skip
    return GmailProvider(http, label=settings.label, notes_label=settings.notes_mailbox,
                         clock=clock)  # fmt: skip


async def login(
    settings: ProviderConfig, *, env: Mapping[str, str], clock: Clock,
    say: Callable[[str], None],
) -> None:  # fmt: skip
    """`triage login` (auth = "oauth"): the installed-app flow in a browser."""
    from triage.providers.gmail import signin

    await signin.login(settings, env=env, clock=clock, say=say)


def open_provider(
    settings: ProviderConfig, *, env: Mapping[str, str], clock: Clock,
    transport: httpx.AsyncBaseTransport | None = None,
) -> GmailProvider:  # fmt: skip
    """The provider registered for `kind = "gmail"`."""
    return connect_provider(settings, token_source(settings, env, clock), clock=clock,
                            transport=transport)  # fmt: skip
