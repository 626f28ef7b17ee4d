"""A read-only smoke test against a live Gmail mailbox, run only when credentials are given.

Set TRIAGE_GMAIL_LIVE_USER (the mailbox) and either TRIAGE_GMAIL_LIVE_TOKEN (an access
token with the gmail.modify scope) or TRIAGE_GMAIL_LIVE_KEY_FILE (a service account's
key file with domain-wide delegation). It reads the profile, the labels, one page of
INBOX threads and the history since: it writes nothing. Skipped otherwise, which is
how CI runs it (the rest of the Gmail tests use the in-repo fake).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from triage.clock import SystemClock
from triage.domain.settings import ProviderConfig
from triage.providers.gmail import connect_provider
from triage.providers.gmail.auth import BearerToken, TokenSource, load_service_account

USER = os.environ.get("TRIAGE_GMAIL_LIVE_USER", "")
TOKEN = os.environ.get("TRIAGE_GMAIL_LIVE_TOKEN", "")
KEY_FILE = os.environ.get("TRIAGE_GMAIL_LIVE_KEY_FILE", "")

pytestmark = pytest.mark.skipif(
    not USER or not (TOKEN or KEY_FILE), reason="no live Gmail credentials in the environment"
)


async def test_a_live_mailbox_reads() -> None:
    clock = SystemClock()
    settings = ProviderConfig(kind="gmail", user=USER, api_url="https://gmail.googleapis.com",
                              token_url="https://oauth2.googleapis.com/token")  # fmt: skip
    tokens: TokenSource = (
        BearerToken(TOKEN, "TRIAGE_GMAIL_LIVE_TOKEN") if TOKEN
        else load_service_account(Path(KEY_FILE), USER, settings.token_url, clock)
    )  # fmt: skip
    provider = connect_provider(settings, tokens, clock=clock)
    try:
        await provider.connect()
        assert provider.watched == "INBOX" and "@" in provider.account_id
        state = await provider._profile()
        delta = await provider.changes(state, {})
        assert int(delta.state) >= int(state)
    finally:
        await provider.aclose()
