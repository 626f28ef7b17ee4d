"""JMAP over HTTP: session discovery, auth, deadlines, retries, error typing.

Every request has an overall deadline (a server that stalls after the headers or
drips bytes is cut off, which httpx's per-read timeout alone would not do).
Reads are retried with exponential backoff and jitter; writes are retried only
when the request provably never left (connection refused, DNS failure).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import httpx
import orjson

from triage.clock import Clock, SystemClock
from triage.providers.base import (
    AuthError,
    OfflineError,
    ProviderError,
    Refused,
    UnclearOutcome,
)
from triage.providers.common import MAX_RETRY_AFTER as MAX_RETRY_AFTER  # re-exported
from triage.providers.common import Undecodable as Undecodable
from triage.providers.common import decode_json, retry_after

CORE = "urn:ietf:params:jmap:core"
MAIL = "urn:ietf:params:jmap:mail"
SUBMISSION = "urn:ietf:params:jmap:submission"
MAX_RESPONSE_BYTES = 64 * 1024 * 1024

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Limits:
    """The server's core limits; requests are split to fit them."""

    max_calls: int = 16
    max_get: int = 500
    max_set: int = 500
    max_concurrent: int = 4


@dataclass(frozen=True)
class Session:
    api_url: str
    download_url: str
    event_source_url: str
    account_id: str
    limits: Limits
    capabilities: frozenset[str]
    state: str


@dataclass(frozen=True)
class Credentials:
    """How to authenticate; `secret_key` names the config key to fix on a 401."""

    auth: str  # "bearer" | "basic"
    username: str
    secret: str
    secret_key: str = "provider.token_file"

    def header(self) -> str:
        if self.auth == "basic":
            return httpx.BasicAuth(self.username, self.secret)._auth_header
        return f"Bearer {self.secret}"

    def __repr__(self) -> str:  # never show the secret, even in a traceback
        return f"Credentials(auth={self.auth!r}, username={self.username!r}, secret=***)"


class JmapHttp:
    """One JMAP session over one httpx client; `call()` sends method calls."""

    def __init__(
        self,
        session_url: str,
        creds: Credentials,
        *,
        account: str = "",
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        retries: int = 4,
        sleep: Sleep = asyncio.sleep,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.session_url = session_url
        self._creds = creds
        self._account = account
        self._timeout = timeout
        self._retries = retries
        self._sleep = sleep
        self._clock = clock or SystemClock()
        self._rng = rng or random.Random()
        self._client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=True,
            timeout=httpx.Timeout(timeout),
            headers={"Authorization": creds.header(), "Accept": "application/json"},
        )
        self.session: Session | None = None
        self.session_accounts: dict[str, Any] = {}  # the session's raw accounts (doctor)
        # The latest answer's Date header and this machine's time then (doctor's clock check)
        self.server_date: tuple[str | None, datetime | None] = (None, None)
        self.requests_sent = 0
        self._gate = asyncio.Semaphore(4)

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- session ---------------------------------------------------------------

    async def connect(self) -> Session:
        raw = await self._request("GET", self.session_url, None, idempotent=True)
        self.session = parse_session(raw, self.session_url, self._account)
        self.session_accounts = _dict(raw.get("accounts"))
        self._gate = asyncio.Semaphore(self.session.limits.max_concurrent)
        return self.session

    # -- method calls ----------------------------------------------------------

    async def call(self, calls: list[list[Any]], *, idempotent: bool = True) -> list[list[Any]]:
        """Send method calls in one request; returns the method responses.

        For a write that is not idempotent, an answer that cannot be read is not a
        refusal: it may have been applied, so it is an UnclearOutcome."""
        assert self.session is not None, "connect() first"
        body = {"using": [CORE, MAIL, SUBMISSION], "methodCalls": calls}
        try:
            return await self._responses(body, idempotent)
        except (UnclearOutcome, OfflineError, AuthError, Refused):
            raise
        except ProviderError as e:
            if idempotent:
                raise
            raise UnclearOutcome(f"{e}; it may or may not have been applied") from None

    async def _responses(self, body: dict[str, Any], idempotent: bool) -> list[list[Any]]:
        assert self.session is not None
        raw = await self._request("POST", self.session.api_url, body, idempotent=idempotent)
        responses = raw.get("methodResponses") if isinstance(raw, dict) else None
        if not isinstance(responses, list):
            raise ProviderError("the server's answer has no methodResponses list")
        for item in responses:
            if not (isinstance(item, list) and len(item) == 3 and isinstance(item[1], dict)):
                raise ProviderError("the server sent a malformed method response")
        return responses

    async def stream(self, url: str) -> httpx.Response:
        """Open a streaming GET (the push event source); the caller closes it."""
        # The stream is quiet between pings (30 s): its reads get a longer timeout.
        timeout = httpx.Timeout(self._timeout, read=max(90.0, self._timeout))
        headers = {"Accept": "text/event-stream"}
        req = self._client.build_request("GET", url, headers=headers, timeout=timeout)
        return await self._client.send(req, stream=True)

    # -- the HTTP layer: deadline, retries, typed errors -------------------------

    async def _request(self, method: str, url: str, body: Any, *, idempotent: bool) -> Any:
        attempt = 0
        while True:
            try:
                return await self._once(method, url, body)
            except _Retry as retry:
                attempt += 1
                if attempt > self._retries or (retry.left and not idempotent):
                    raise retry.final(left=retry.left, idempotent=idempotent) from None
                delay = retry.delay if retry.delay is not None else self._backoff(attempt)
                await self._sleep(delay)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter, capped."""
        return self._rng.uniform(0, min(30.0, 0.5 * 2**attempt))

    async def _once(self, method: str, url: str, body: Any) -> Any:
        content = orjson.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if content else {}
        async with self._gate:
            self.requests_sent += 1
            try:
                async with asyncio.timeout(self._timeout):
                    return await self._send(method, url, content, headers)
            except TimeoutError:
                raise _Retry(
                    OfflineError(f"the server did not answer within {self._timeout:g} s"),
                    left=True,
                ) from None

    async def _send(
        self, method: str, url: str, content: bytes | None, headers: dict[str, str]
    ) -> Any:
        try:
            async with self._client.stream(method, url, content=content, headers=headers) as r:
                check_status(r, self._creds, self._clock.now())
                self.server_date = (r.headers.get("Date"), self._clock.now())
                data = await _read_capped(r)
        except (httpx.ConnectError, httpx.ConnectTimeout) as e:
            error = OfflineError(f"cannot reach {host_of(url)}: {_reason(e)}")
            raise _Retry(error, left=False) from None
        except (
            httpx.ReadError,
            httpx.RemoteProtocolError,
            httpx.ReadTimeout,
            httpx.WriteError,
        ) as e:
            raise _Retry(
                OfflineError(f"connection to {host_of(url)} lost: {_reason(e)}"), left=True
            ) from None
        except httpx.TransportError as e:
            raise _Retry(OfflineError(f"network error: {_reason(e)}"), left=False) from None
        except httpx.HTTPError as e:  # a broken gzip body, a redirect loop: not retried
            raise ProviderError(f"bad answer from {host_of(url)}: {_reason(e)}") from None
        return decode_json(data)


class _Retry(Exception):
    """Internal: a failure that may be retried (after `delay`, or a backoff)."""

    def __init__(self, error: ProviderError, *, left: bool, delay: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.left = left  # the request may have reached the server
        self.delay = delay

    def final(self, *, left: bool, idempotent: bool) -> ProviderError:
        if left and not idempotent:
            return UnclearOutcome(f"{self.error}; it may or may not have been applied")
        return self.error


class AnswerTooLarge(ProviderError):
    """An answer grew past MAX_RESPONSE_BYTES; asking for less at a time may fit."""


async def _read_capped(r: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in r.aiter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise AnswerTooLarge(f"the server's answer is larger than {MAX_RESPONSE_BYTES:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def check_status(r: httpx.Response, creds: Credentials, now: datetime) -> None:
    """Turn an HTTP status into a typed error (or a retry) before reading the body."""
    code = r.status_code
    if code < 400:
        return
    if code in (401, 403):
        who = f" for {creds.username}" if creds.username else ""
        raise AuthError(
            f"authentication failed{who} (HTTP {code}): check {creds.secret_key}"
            + (" and provider.username" if creds.auth == "basic" else "")
        )
    if code in (429, 503):
        delay = retry_after(r.headers.get("Retry-After"), now)
        raise _Retry(OfflineError(f"the server is busy (HTTP {code})"), left=False, delay=delay)
    if code >= 500:
        raise _Retry(ProviderError(f"server error (HTTP {code})"), left=True)
    raise Refused(f"the server refused the request (HTTP {code})")


def host_of(url: str) -> str:
    return httpx.URL(url).host or url


def _reason(e: Exception) -> str:
    text = str(e) or type(e).__name__
    return text.splitlines()[0][:200]


def parse_session(raw: Any, base_url: str, account: str) -> Session:
    """Validate the session object; relative URLs are resolved against the session URL."""
    if not isinstance(raw, dict) or not isinstance(raw.get("apiUrl"), str):
        raise ProviderError("the session answer has no apiUrl: is provider.session_url a JMAP URL?")
    caps = raw.get("capabilities") or {}
    if not isinstance(caps, dict) or MAIL not in caps:
        raise ProviderError("the server does not offer JMAP mail (urn:ietf:params:jmap:mail)")
    core = _dict(caps.get(CORE))
    limits = Limits(
        max_calls=_int(core, "maxCallsInRequest", 16),
        max_get=_int(core, "maxObjectsInGet", 500),
        max_set=_int(core, "maxObjectsInSet", 500),
        max_concurrent=_int(core, "maxConcurrentRequests", 4),
    )
    accounts = _dict(raw.get("accounts"))
    primary = _dict(raw.get("primaryAccounts")).get(MAIL)
    chosen = account or primary
    if not isinstance(chosen, str) or chosen not in accounts:
        known = ", ".join(sorted(accounts)) or "none"
        raise ProviderError(
            f"JMAP account {chosen!r} not found (set provider.account to one of: {known})"
        )
    return Session(
        api_url=urljoin(base_url, raw["apiUrl"]),
        download_url=_url(base_url, raw.get("downloadUrl")),
        event_source_url=_url(base_url, raw.get("eventSourceUrl")),
        account_id=chosen,
        limits=limits,
        capabilities=frozenset(caps),
        state=str(raw.get("state", "")),
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}  # a malformed field reads as absent


def _url(base_url: str, value: Any) -> str:
    """A session URL resolved against the session's own; "" when the server gave none."""
    return urljoin(base_url, value) if isinstance(value, str) and value else ""


def _int(d: dict[str, Any], key: str, default: int) -> int:
    v = d.get(key)
    return v if isinstance(v, int) and v > 0 else default
