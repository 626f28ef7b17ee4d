"""Microsoft Graph over HTTP: the bearer token, at most 4 requests in flight, `$batch`,
paging, deadlines, retries and typed errors.

Outlook lets an app run at most 4 requests at once against a mailbox, and runs the
requests of a JSON batch up to 4 at a time (learn.microsoft.com/graph/throttling-limits):
every request holds one place of a 4-place gate and a batch holds one per request
in it, so this client never goes over. 429 and 503 are retried after `Retry-After`
(Graph did not run the request); other server errors and dropped connections are
retried only for requests that may safely run twice; a 401 gets one fresh token and
one more try. Every request has an overall deadline, and every request asks for
immutable ids (`Prefer: IdType="ImmutableId"`), so a message keeps its id when it
moves between folders or leaves Drafts for Sent Items.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from triage.clock import Clock, SystemClock
from triage.providers.base import OfflineError, ProviderError, UnclearOutcome
from triage.providers.common import decode_json, retry_after
from triage.providers.graph.errors import graph_error, sign_in_refused
from triage.providers.oauth import AccessTokens

MAX_IN_FLIGHT = 4  # Outlook's concurrent requests per app and mailbox
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
MAX_ITEMS = 2_000_000  # far above any real folder; bounds memory against a broken server
IMMUTABLE_IDS = 'IdType="ImmutableId"'
Json = dict[str, Any]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Call:
    """One Graph request: `path` is relative to the API root, query string included."""

    method: str
    path: str
    body: Json | None = None
    prefer: str = ""  # more preferences, such as "odata.maxpagesize=200"
    if_match: str = ""  # the @odata.etag the item had when read: 412 if it changed since


class Gate:
    """A counting gate: a request takes one place, a batch of n requests takes n."""

    def __init__(self, places: int) -> None:
        self.places = places
        self.free = places
        self._changed = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def hold(self, n: int) -> AsyncIterator[None]:
        n = min(n, self.places)
        async with self._changed:
            await self._changed.wait_for(lambda: self.free >= n)
            self.free -= n
        try:
            yield
        finally:
            async with self._changed:
                self.free += n
                self._changed.notify_all()


class _Retry(Exception):
    """Internal: try again (after `delay`, else a backoff); `left`: it may have run."""

    def __init__(self, error: ProviderError, *, left: bool, delay: float | None = None) -> None:
        super().__init__(str(error))
        self.error, self.left, self.delay = error, left, delay

    def final(self, idempotent: bool) -> ProviderError:
        if self.left and not idempotent:
            return UnclearOutcome(f"{self.error}; it may or may not have been done")
        return self.error


class _Renew(Exception):
    """Internal: the token was refused (401): renew it once and try again."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__("401")
        self.status, self.body = status, body


class GraphHttp:
    """One signed-in client of one Graph endpoint, for one mailbox."""

    def __init__(
        self, api_url: str, tokens: AccessTokens, *, mailbox: str, secret_key: str = "",
        timeout: float = 30.0, transport: httpx.AsyncBaseTransport | None = None,
        retries: int = 4, sleep: Sleep = asyncio.sleep, clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:  # fmt: skip
        self.api = api_url.rstrip("/")
        self.tokens, self.mailbox, self.secret_key = tokens, mailbox, secret_key
        self.timeout, self.retries, self._sleep = timeout, retries, sleep
        self.clock = clock or SystemClock()
        self._rng = rng or random.Random()
        self._client = httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(timeout))
        self.gate = Gate(MAX_IN_FLIGHT)
        self.requests_sent = 0  # HTTP requests (a batch counts once)

    async def aclose(self) -> None:
        await self._client.aclose()
        await self.tokens.aclose()

    def relative(self, link: str) -> str:
        """A link Graph sent (nextLink, deltaLink) as a path; a link elsewhere is refused,
        so our token only ever goes to provider.api_url."""
        if not link.startswith(self.api + "/"):
            raise ProviderError(
                f"Microsoft Graph sent a link outside provider.api_url: {link[:80]}"
            )
        return link[len(self.api) :]

    # -- one request -------------------------------------------------------------------

    async def call(self, call: Call, *, idempotent: bool = True) -> Any:
        """The answer's body (None when empty), or a typed error."""
        attempt, renewed = 0, False
        while True:
            try:
                token, status, headers, body = await self._send(call)
                return self._judge(status, headers, body)
            except _Renew as r:
                if renewed:
                    raise sign_in_refused(r.status, r.body, self.secret_key) from None
                renewed = True
                await self.tokens.renew(token)
            except _Retry as r:
                attempt += 1
                if attempt > self.retries or (r.left and not idempotent):
                    raise r.final(idempotent) from None
                await self._sleep(r.delay if r.delay is not None else self._backoff(attempt))

    async def _send(self, call: Call) -> tuple[str, int, httpx.Headers, Any]:
        token = await self.tokens.token()
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json",
                   "Prefer": ", ".join(p for p in (IMMUTABLE_IDS, call.prefer) if p)}  # fmt: skip
        if call.if_match:
            headers["If-Match"] = call.if_match
        content = None
        if call.body is not None:
            content = orjson.dumps(call.body)
            headers["Content-Type"] = "application/json"
        weight = len(call.body.get("requests", ())) if call.path == "/$batch" and call.body else 1
        async with self.gate.hold(max(1, weight)):
            self.requests_sent += 1
            status, got, data = await self._exchange(call.method, self.api + call.path,
                                                     content, headers)  # fmt: skip
        return token, status, got, decode_json(data) if data.strip() else None

    async def _exchange(
        self, method: str, url: str, content: bytes | None, headers: dict[str, str]
    ) -> tuple[int, httpx.Headers, bytes]:
        host = httpx.URL(url).host or url
        try:
            async with asyncio.timeout(self.timeout):
                async with self._client.stream(method, url, content=content, headers=headers) as r:
                    return r.status_code, r.headers, await _read_capped(r)
        except TimeoutError:
            error = OfflineError(f"{host} did not answer within {self.timeout:g} s")
            raise _Retry(error, left=True) from None
        except (httpx.ConnectError, httpx.ConnectTimeout) as e:
            raise _Retry(OfflineError(f"cannot reach {host}: {_reason(e)}"), left=False) from None
        except httpx.TransportError as e:
            error = OfflineError(f"connection to {host} lost: {_reason(e)}")
            raise _Retry(error, left=True) from None

    def _judge(self, status: int, headers: httpx.Headers | dict[str, str], body: Any) -> Any:
        """The body of a success; else the error, typed (or a retry, or a renewal)."""
        if status < 300:
            return body
        if status == 401:
            raise _Renew(status, body)
        if status in (429, 503):
            delay = retry_after(_header(headers, "Retry-After"), self.clock.now())
            error = OfflineError(f"Microsoft Graph is busy (HTTP {status}); try again shortly")
            raise _Retry(error, left=False, delay=delay)
        if status >= 500:
            raise _Retry(ProviderError(f"Microsoft Graph failed (HTTP {status})"), left=True)
        raise graph_error(status, body, self.mailbox)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter, capped."""
        return self._rng.uniform(0, min(30.0, 0.5 * 2**attempt))

    # -- many requests: $batch, at most MAX_IN_FLIGHT in each -------------------------------

    async def calls(
        self, calls: Sequence[Call], *, idempotent: bool = True
    ) -> list[Any | ProviderError]:
        """Each call's body, or its error (in the order given), sent in batches of up to
        MAX_IN_FLIGHT requests: fewer round trips, never more than the mailbox allows."""
        out: list[Any | ProviderError] = [None] * len(calls)
        groups = [list(range(i, min(i + MAX_IN_FLIGHT, len(calls))))
                  for i in range(0, len(calls), MAX_IN_FLIGHT)]  # fmt: skip
        await asyncio.gather(*(self._group(calls, g, out, idempotent) for g in groups))
        return out

    async def _group(
        self, calls: Sequence[Call], group: list[int], out: list[Any], idempotent: bool
    ) -> None:
        if len(group) > 1:
            await self._batched(calls, group, out, idempotent)
            return
        try:
            out[group[0]] = await self.call(calls[group[0]], idempotent=idempotent)
        except ProviderError as e:
            out[group[0]] = e

    async def _batched(
        self, calls: Sequence[Call], group: list[int], out: list[Any], idempotent: bool
    ) -> None:
        """Batches of the group's calls until each has its answer or its error: the ones
        Graph throttled go again (after Retry-After), a refused token is renewed once."""
        pending, attempt, renewed = group, 0, False
        while pending:
            try:
                pending, delay, refused = await self._batch_once(calls, pending, out, idempotent)
            except ProviderError as e:  # the batch itself failed for good
                return _fill(out, pending, e)
            if refused:
                if renewed:
                    return _fill(out, pending, sign_in_refused(401, None, self.secret_key))
                renewed = True
                await self.tokens.renew(refused)
                continue
            attempt += 1
            if pending and attempt > self.retries:
                return _fill(out, pending, OfflineError("Microsoft Graph stayed busy; try again"))
            if pending:
                await self._sleep(delay if delay is not None else self._backoff(attempt))

    async def _batch_once(
        self, calls: Sequence[Call], pending: list[int], out: list[Any], idempotent: bool
    ) -> tuple[list[int], float | None, str]:
        """One $batch of the pending calls: (still pending, wait first, refused token)."""
        body = {"requests": [_sub(str(i), calls[i]) for i in pending]}
        answers = await self.call(Call("POST", "/$batch", body), idempotent=idempotent)
        by_id = _responses(answers)
        again: list[int] = []
        delay: float | None = None
        refused = ""
        for i in pending:
            status, headers, sub = by_id.get(str(i), (0, {}, None))
            try:
                if status == 0:
                    raise ProviderError("Microsoft Graph left a request of a batch unanswered")
                out[i] = self._judge(status, headers, sub)
            except _Retry as r:
                again.append(i)
                delay = max(delay or 0.0, r.delay) if r.delay is not None else delay
            except _Renew:
                again.append(i)
                refused = await self.tokens.token()
            except ProviderError as e:
                out[i] = e
        return again, delay, refused

    # -- paging ---------------------------------------------------------------------------

    async def pages(self, call: Call) -> list[Json]:
        """Every item of a collection, following @odata.nextLink to the end."""
        return await self.rest(await self.call(call), call.prefer)

    async def rest(self, page: Any, prefer: str = "") -> list[Json]:
        """The items of this page and of the pages its @odata.nextLink leads to."""
        items: list[Json] = []
        seen: set[str] = set()
        while True:
            items.extend(values(page))
            link = page.get("@odata.nextLink") if isinstance(page, dict) else None
            if not isinstance(link, str) or not link:
                return items
            if link in seen or len(items) > MAX_ITEMS:
                raise ProviderError("Microsoft Graph keeps sending pages (the same link again)")
            seen.add(link)
            page = await self.call(Call("GET", self.relative(link), prefer=prefer))


def _fill(out: list[Any], indexes: list[int], error: ProviderError) -> None:
    for i in indexes:
        out[i] = error


def values(page: Any) -> list[Json]:
    """The `value` list of a collection answer: objects, or an error."""
    items = page.get("value") if isinstance(page, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ProviderError("Microsoft Graph sent a malformed list")
    return items


def _sub(request_id: str, call: Call) -> Json:
    prefer = ", ".join(p for p in (IMMUTABLE_IDS, call.prefer) if p)
    sub: Json = {"id": request_id, "method": call.method, "url": call.path,
                 "headers": {"Prefer": prefer}}  # fmt: skip
    if call.if_match:
        sub["headers"]["If-Match"] = call.if_match
    if call.body is not None:
        sub["body"] = call.body
        sub["headers"]["Content-Type"] = "application/json"
    return sub


def _responses(answer: Any) -> dict[str, tuple[int, dict[str, str], Any]]:
    items = answer.get("responses") if isinstance(answer, dict) else None
    if not isinstance(items, list):
        raise ProviderError("Microsoft Graph's batch answer has no responses list")
    out: dict[str, tuple[int, dict[str, str], Any]] = {}
    for r in items:
        if isinstance(r, dict) and isinstance(r.get("status"), int):
            raw = r.get("headers")
            headers = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
            out[str(r.get("id"))] = (int(r["status"]), headers, r.get("body"))
    return out


def _header(headers: httpx.Headers | dict[str, str], name: str) -> str | None:
    if isinstance(headers, httpx.Headers):
        value = headers.get(name)
        return str(value) if value is not None else None
    found = [v for k, v in headers.items() if k.casefold() == name.casefold()]
    return str(found[0]) if found else None


async def _read_capped(r: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in r.aiter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise ProviderError(f"Microsoft Graph's answer is larger than {MAX_RESPONSE_BYTES:,} B")
        chunks.append(chunk)
    return b"".join(chunks)


def _reason(e: Exception) -> str:
    text = str(e) or type(e).__name__
    return text.splitlines()[0][:200]


class StaticToken:
    """`auth = "bearer"`: the access token from token_file or token_env, never renewed."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    async def token(self) -> str:
        return self._secret

    async def renew(self, rejected: str) -> str:
        return self._secret  # the second 401 then says which key to fix

    async def aclose(self) -> None:
        return None

    def __repr__(self) -> str:
        return "StaticToken(***)"
