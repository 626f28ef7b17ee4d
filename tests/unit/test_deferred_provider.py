"""The provider is built when first used: never for a command that only reads the
cache, and a problem building it is a provider error, raised at each use until fixed."""

from __future__ import annotations

import asyncio

import pytest

from triage.config.secrets import SecretError
from triage.providers.base import AuthError, DeferredProvider


class Built:
    account_id = "team"

    def __init__(self) -> None:
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True


def test_nothing_is_built_until_asked_and_then_once() -> None:
    made: list[Built] = []
    lazy = DeferredProvider(lambda: made.append(Built()) or made[-1])  # type: ignore[func-returns-value]
    assert made == []
    assert lazy.account_id == "team" and lazy.account_id == "team"  # type: ignore[attr-defined]
    assert len(made) == 1
    asyncio.run(lazy.aclose())
    assert made[0].closed


def test_closing_what_was_never_built_builds_nothing() -> None:
    made: list[Built] = []
    lazy = DeferredProvider(lambda: made.append(Built()) or made[-1])  # type: ignore[func-returns-value]
    asyncio.run(lazy.aclose())
    assert made == []


def test_a_secret_that_cannot_be_read_is_an_auth_error_until_it_can() -> None:
    tries: list[int] = []

    def build() -> Built:
        tries.append(1)
        if len(tries) < 3:
            raise SecretError("provider.token_file /x is empty: put the token in it")
        return Built()

    lazy = DeferredProvider(build)  # type: ignore[arg-type]
    for _ in range(2):
        with pytest.raises(AuthError, match="token_file /x is empty"):
            _ = lazy.account_id  # type: ignore[attr-defined]
    assert lazy.account_id == "team" and len(tries) == 3  # type: ignore[attr-defined]
