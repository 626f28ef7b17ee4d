"""The Gmail REST API over httpx: deadlines, retries, the quota, and Google's errors named.

Every request has an overall deadline and goes through the quota pacer (Gmail
counts units per user per minute, each method its own price). Reads are retried
with exponential backoff and jitter; a write is retried only when it provably
was not applied (refused for the rate limit, or never sent). An expired access
token is renewed once and the request repeated; Google's error reasons become
typed errors that say what to fix (a scope not granted, the API not enabled in
the project, a mailbox not delegated).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from triage.clock import Clock, SystemClock
from triage.providers.base import AuthError, OfflineError, ProviderError, Refused, UnclearOutcome
from triage.providers.gmail.auth import TokenSource
from triage.providers.gmail.errors import GoogleError, classify
from triage.providers.gmail.quota import QuotaPacer
from triage.providers.jmap.http import AnswerTooLarge, decode_json, host_of, retry_after

MAX_RESPONSE_BYTES = 64 * 1024 * 1024
CONCURRENT = 4  # requests in flight per mailbox: Gmail refuses too many at once for a user
Sleep = Callable[[float], Awaitable[None]]
Json = dict[str, Any]
Params = Mapping[str, Any]  # a list value repeats its key


class NotFound(Refused):
    """HTTP 404: the thread, message or history id asked for is not there (any more)."""


class Conflict(Refused):
    """HTTP 409: what we tried to create exists already (a label of that name)."""


class GmailHttp:
    """One mailbox (`user`) of the Gmail API over one httpx client."""

    def __init__(
        self, api_url: str, user: str, tokens: TokenSource, *, timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None, retries: int = 5,
        sleep: Sleep = asyncio.sleep, clock: Clock | None = None,
        rng: random.Random | None = None, pacer: QuotaPacer | None = None,
    ) -> None:  # fmt: skip
        self.base = f"{api_url.rstrip('/')}/gmail/v1/users/{quote(user, safe='@')}/"
        self.user = user
        self.tokens = tokens
        self._timeout = timeout
        self._retries = retries
        self._sleep = sleep
        self._clock = clock or SystemClock()
        self._rng = rng or random.Random()
        self.pacer = pacer or QuotaPacer(sleep=sleep)
        self.client = httpx.AsyncClient(
            transport=transport, timeout=httpx.Timeout(timeout), follow_redirects=False,
            headers={"Accept": "application/json"},
        )  # fmt: skip
        self.requests_sent = 0
        self._gate = asyncio.Semaphore(CONCURRENT)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def get(self, path: str, params: Params | None = None, *, units: int) -> Json:
        return await self.request("GET", path, params=params, units=units, idempotent=True)

    async def post(
        self, path: str, body: Json, *, units: int, idempotent: bool, params: Params | None = None
    ) -> Json:
        return await self.request("POST", path, params=params, body=body, units=units,
                                  idempotent=idempotent)  # fmt: skip

    async def request(
        self, method: str, path: str, *, params: Params | None = None, body: Json | None = None,
        units: int, idempotent: bool,
    ) -> Json:  # fmt: skip
        """One API call, retried as its kind allows; the answer's JSON object."""
        attempt = 0
        while True:
            try:
                return await self._authorized(method, path, params, body, units)
            except _Retry as retry:
                attempt += 1
                if attempt > self._retries or (retry.left and not idempotent):
                    raise retry.final(left=retry.left, idempotent=idempotent) from None
                delay = retry.delay if retry.delay is not None else self._backoff(attempt)
                await self._sleep(delay)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter, capped (Google's advice for 429 and 5xx)."""
        return self._rng.uniform(0, min(32.0, 0.5 * 2**attempt))

    async def _authorized(
        self, method: str, path: str, params: Params | None, body: Json | None, units: int
    ) -> Json:
        """The call with a current token; an expired one is renewed once and the call repeated."""
        token = await self.tokens.token(self.client)
        try:
            return await self._once(method, path, params, body, units, token)
        except _Expired:
            fresh = await self.tokens.refreshed(self.client, token)
            if fresh is None:
                raise AuthError(self.tokens.refused_hint()) from None
            try:
                return await self._once(method, path, params, body, units, fresh)
            except _Expired:
                raise AuthError(self.tokens.refused_hint()) from None

    async def _once(
        self, method: str, path: str, params: Params | None, body: Json | None, units: int,
        token: str,
    ) -> Json:  # fmt: skip
        await self.pacer.spend(units)
        headers = {"Authorization": f"Bearer {token}"}
        content = None
        if body is not None:
            content = orjson.dumps(body)
            headers["Content-Type"] = "application/json"
        async with self._gate:
            self.requests_sent += 1
            try:
                async with asyncio.timeout(self._timeout):
                    return await self._send(method, self.base + path, params, content, headers)
            except TimeoutError:
                error = OfflineError(f"Gmail did not answer within {self._timeout:g} s")
                raise _Retry(error, left=True) from None

    async def _send(
        self, method: str, url: str, params: Params | None, content: bytes | None,
        headers: dict[str, str],
    ) -> Json:  # fmt: skip
        try:
            async with self.client.stream(method, url, params=_query(params), content=content,
                                          headers=headers) as r:  # fmt: skip
                data = await _read_capped(r)
                self._check(r, data)
        except (httpx.ConnectError, httpx.ConnectTimeout) as e:
            raise _Retry(OfflineError(f"cannot reach {host_of(url)}: {_reason(e)}"),
                         left=False) from None  # fmt: skip
        except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ReadTimeout,
                httpx.WriteError) as e:  # fmt: skip
            error = OfflineError(f"connection to {host_of(url)} lost: {_reason(e)}")
            raise _Retry(error, left=True) from None
        except httpx.TransportError as e:
            raise _Retry(OfflineError(f"network error: {_reason(e)}"), left=False) from None
        except httpx.HTTPError as e:
            raise ProviderError(f"bad answer from {host_of(url)}: {_reason(e)}") from None
        answer = decode_json(data) if data else {}
        if not isinstance(answer, dict):
            raise ProviderError("Gmail's answer is not a JSON object")
        return answer

    def _check(self, r: httpx.Response, data: bytes) -> None:
        """An HTTP error status as a typed error, a retry, or a token to renew."""
        if r.status_code < 400:
            return
        error = GoogleError.of(r.status_code, data)
        kind = classify(error, self.user)
        if kind.expired:
            raise _Expired()
        if kind.retry:
            delay = retry_after(r.headers.get("Retry-After"), self._clock.now())
            raise _Retry(kind.error, left=kind.left, delay=delay)
        if r.status_code == 404:
            raise NotFound(kind.error.args[0])
        if r.status_code == 409:
            raise Conflict(kind.error.args[0])
        raise kind.error


def _query(params: Params | None) -> httpx.QueryParams:
    """Query parameters; a list repeats its key (labelIds=A&labelIds=B), as Google wants."""
    out: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in (params or {}).items():
        values = value if isinstance(value, list) else [value]
        out.extend((key, str(v).lower() if isinstance(v, bool) else str(v)) for v in values)
    return httpx.QueryParams(out)


class _Expired(Exception):
    """Internal: HTTP 401, the access token expired or was revoked."""


class _Retry(Exception):
    """Internal: a failure that may be retried (after `delay`, or a backoff)."""

    def __init__(self, error: ProviderError, *, left: bool, delay: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.left = left  # the request may have been applied
        self.delay = delay

    def final(self, *, left: bool, idempotent: bool) -> ProviderError:
        if left and not idempotent:
            return UnclearOutcome(f"{self.error}; it may or may not have been applied")
        return self.error


async def _read_capped(r: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in r.aiter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise AnswerTooLarge(f"Gmail's answer is larger than {MAX_RESPONSE_BYTES:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _reason(e: Exception) -> str:
    text = str(e) or type(e).__name__
    return text.splitlines()[0][:200]


__all__ = ["Conflict", "GmailHttp", "Json", "NotFound", "_Retry"]
