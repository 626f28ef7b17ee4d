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
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from triage.clock import Clock, SystemClock
from triage.providers.base import AuthError, OfflineError, ProviderError, Refused, UnclearOutcome
from triage.providers.common import decode_json, retry_after
from triage.providers.gmail.auth import TokenSource
from triage.providers.gmail.errors import GoogleError, classify
from triage.providers.gmail.quota import QuotaPacer

MAX_RESPONSE_BYTES = 64 * 1024 * 1024
CONCURRENT = 4  # requests in flight per mailbox: Gmail refuses too many at once for a user
Sleep = Callable[[float], Awaitable[None]]
Json = dict[str, Any]
Params = Mapping[str, Any]  # a list value repeats its key


@dataclass(frozen=True)
class Wire:
    """One HTTP request as it goes out (the URL absolute, the body already encoded)."""

    method: str
    url: str
    params: Params | None = None
    content: bytes | None = None
    content_type: str = ""


class AnswerTooLarge(ProviderError):
    """An answer grew past MAX_RESPONSE_BYTES; asking for less at a time may fit."""


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
        self.api_url = api_url.rstrip("/")
        self.base = f"{self.api_url}/gmail/v1/users/{quote(user, safe='@')}/"
        self.user = user
        self.tokens = tokens
        self._timeout = timeout
        self.retries = retries
        self.sleep = sleep
        self._clock = clock or SystemClock()
        self._rng = rng or random.Random()
        self.pacer = pacer or QuotaPacer(sleep=sleep)
        self.client = httpx.AsyncClient(
            transport=transport, timeout=httpx.Timeout(timeout), follow_redirects=False,
            headers={"Accept": "application/json"},
        )  # fmt: skip
        self.requests_sent = 0
        self.last_token = ""
        self._gate = asyncio.Semaphore(CONCURRENT)

    async def aclose(self) -> None:
        await self.tokens.aclose()
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
        content = orjson.dumps(body) if body is not None else None
        wire = Wire(method, self.base + path, params, content,
                    "application/json" if content is not None else "")  # fmt: skip
        _kind, data = await self.exchange(wire, units=units, idempotent=idempotent)
        answer = decode_json(data) if data else {}
        if not isinstance(answer, dict):
            raise ProviderError("Gmail's answer is not a JSON object")
        return answer

    async def exchange(self, wire: Wire, *, units: int, idempotent: bool) -> tuple[str, bytes]:
        """Send `wire`, retried as its kind allows: (the answer's content type, its bytes)."""
        attempt = 0
        while True:
            try:
                return await self._authorized(wire, units)
            except Retry as retry:
                attempt += 1
                if attempt > self.retries or (retry.left and not idempotent):
                    raise retry.final(left=retry.left, idempotent=idempotent) from None
                await self.sleep(retry.delay if retry.delay is not None
                                  else self.backoff(attempt))  # fmt: skip

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter, capped (Google's advice for 429 and 5xx)."""
        return self._rng.uniform(0, min(32.0, 0.5 * 2**attempt))

    async def _authorized(self, wire: Wire, units: int) -> tuple[str, bytes]:
        """The call with a current token; an expired one is renewed once and the call repeated."""
        token = await self.tokens.token(self.client)
        try:
            return await self._once(wire, units, token)
        except Expired:
            fresh = await self.renew(token)
            try:
                return await self._once(wire, units, fresh)
            except Expired:
                raise AuthError(self.tokens.refused_hint()) from None

    async def renew(self, stale: str = "") -> str:
        """A fresh access token (Google said the last one expired), or the error naming why not."""
        fresh = await self.tokens.refreshed(self.client, stale or self.last_token)
        if fresh is None:
            raise AuthError(self.tokens.refused_hint())
        return fresh

    async def _once(self, wire: Wire, units: int, token: str) -> tuple[str, bytes]:
        await self.pacer.spend(units)
        self.last_token = token
        headers = {"Authorization": f"Bearer {token}"}
        if wire.content_type:
            headers["Content-Type"] = wire.content_type
        async with self._gate:
            self.requests_sent += 1
            try:
                async with asyncio.timeout(self._timeout):
                    return await self._send(wire, headers)
            except TimeoutError:
                error = OfflineError(f"Gmail did not answer within {self._timeout:g} s")
                raise Retry(error, left=True) from None

    async def _send(self, wire: Wire, headers: dict[str, str]) -> tuple[str, bytes]:
        url = wire.url
        try:
            async with self.client.stream(wire.method, url, params=query_params(wire.params),
                                          content=wire.content, headers=headers) as r:  # fmt: skip
                data = await _read_capped(r)
                self.check(r.status_code, r.headers.get("Retry-After"), data)
                return r.headers.get("Content-Type", ""), data
        except (httpx.ConnectError, httpx.ConnectTimeout) as e:
            raise Retry(OfflineError(f"cannot reach {host_of(url)}: {_reason(e)}"),
                         left=False) from None  # fmt: skip
        except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ReadTimeout,
                httpx.WriteError) as e:  # fmt: skip
            error = OfflineError(f"connection to {host_of(url)} lost: {_reason(e)}")
            raise Retry(error, left=True) from None
        except httpx.TransportError as e:
            raise Retry(OfflineError(f"network error: {_reason(e)}"), left=False) from None
        except httpx.HTTPError as e:
            raise ProviderError(f"bad answer from {host_of(url)}: {_reason(e)}") from None

    def check(self, status: int, retry_after_header: str | None, data: bytes) -> None:
        """An HTTP error status as a typed error, a retry, or a token to renew."""
        if status < 400:
            return
        kind = classify(GoogleError.of(status, data), self.user)
        if kind.expired:
            raise Expired()
        if kind.retry:
            delay = retry_after(retry_after_header, self._clock.now())
            raise Retry(kind.error, left=kind.left, delay=delay)
        if status == 404:
            raise NotFound(kind.error.args[0])
        if status == 409:
            raise Conflict(kind.error.args[0])
        raise kind.error


def query_params(params: Params | None) -> httpx.QueryParams:
    """Query parameters; a list repeats its key (labelIds=A&labelIds=B), as Google wants."""
    out: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in (params or {}).items():
        values = value if isinstance(value, list) else [value]
        out.extend((key, str(v).lower() if isinstance(v, bool) else str(v)) for v in values)
    return httpx.QueryParams(out)


class Expired(Exception):
    """HTTP 401: the access token expired or was revoked (renewed, then the call repeated)."""


class Retry(Exception):
    """A failure that may be retried (after `delay`, or a backoff)."""

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


def host_of(url: str) -> str:
    return httpx.URL(url).host or url


def _reason(e: Exception) -> str:
    text = str(e) or type(e).__name__
    return text.splitlines()[0][:200]


__all__ = [
    "AnswerTooLarge",
    "Conflict",
    "Expired",
    "GmailHttp",
    "Json",
    "NotFound",
    "Retry",
    "Wire",
]
