"""The JMAP provider (Fastmail, Cyrus, Stalwart): `open_provider` builds it from the config.

`http` (session, deadlines, retries, typed errors), `account` (mailboxes, identities,
calls within the server's limits), `client` (reading), `writes` (marks, notes,
replies), `marks` (how shared state is stored as keywords), `parse` (answers ->
values), `events` (push, with polling as the fallback).
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from triage.clock import Clock
from triage.config.secrets import read_secret
from triage.domain.settings import ProviderConfig
from triage.providers.jmap.client import JmapProvider
from triage.providers.jmap.http import Credentials, JmapHttp

__all__ = ["Credentials", "JmapProvider", "connect_provider", "credentials", "open_provider"]


def credentials(settings: ProviderConfig, env: Mapping[str, str]) -> Credentials:
    """The configured credentials; the secret from token_env or the token file."""
    in_env = bool(settings.token_env) and settings.token_env in env
    key = "provider.token_env" if in_env else "provider.token_file"
    return Credentials(settings.auth, settings.username, read_secret(settings, env), secret_key=key)


def connect_provider(
    settings: ProviderConfig,
    creds: Credentials,
    *,
    clock: Clock,
    session_url: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> JmapProvider:
    """A JMAP provider on explicit credentials (and, for the demo and tests, a transport)."""
    http = JmapHttp(
        session_url or settings.session_url, creds, account=settings.account,
        timeout=settings.timeout_seconds, transport=transport, clock=clock,
    )  # fmt: skip
    return JmapProvider(
        http, mailbox=settings.mailbox, notes_mailbox=settings.notes_mailbox, clock=clock
    )


def open_provider(
    settings: ProviderConfig, *, env: Mapping[str, str], clock: Clock,
    transport: httpx.AsyncBaseTransport | None = None,
) -> JmapProvider:  # fmt: skip
    """The provider registered for `kind = "jmap"`."""
    return connect_provider(settings, credentials(settings, env), clock=clock,
                            transport=transport)  # fmt: skip
