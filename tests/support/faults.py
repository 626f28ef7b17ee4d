"""A fault-injecting httpx transport for testing the JMAP client's failure handling.

`FaultyTransport(inner, plan)` wraps any async transport (the demo server's
MockTransport, say) and applies the next `Fault` of its plan to each request, in
order; once the plan is used up every request passes through. It records every
request it saw and which fault met it, so a test can assert on retries, on what
reached the server (a `drop_after` request did; a `connect_error` one did not),
and on a send never being repeated blindly.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field

import httpx

OK = "ok"
CONNECT_ERROR = "connect_error"
DNS_ERROR = "dns_error"
DROP_AFTER = "drop_after"
STATUS = "status"
STALL = "stall"
DRIP = "drip"
GARBAGE = "garbage"


@dataclass(frozen=True)
class Fault:
    """What happens to one request. Build with the functions below, not by hand."""

    kind: str
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    seconds: float = 0.0
    chunk: int = 1
    error: type[httpx.TransportError] = httpx.RemoteProtocolError
    forward: bool = False  # whether the inner server sees (and processes) the request


def ok() -> Fault:
    return Fault(OK, forward=True)


def connect_error() -> Fault:
    """The connection is refused: the request never reaches the server."""
    return Fault(CONNECT_ERROR)


def dns_error() -> Fault:
    """The host name does not resolve: the request never reaches the server."""
    return Fault(DNS_ERROR)


def drop_after(error: type[httpx.TransportError] = httpx.RemoteProtocolError) -> Fault:
    """The server processes the request, then the connection drops before the answer."""
    return Fault(DROP_AFTER, error=error, forward=True)


def status(code: int, headers: Mapping[str, str] | None = None, body: bytes | str = b"") -> Fault:
    """An HTTP error answer (429 with Retry-After, 503, 500, 401...) the server never saw."""
    raw = body.encode() if isinstance(body, str) else body
    return Fault(STATUS, status=code, headers=tuple((headers or {}).items()), body=raw)


def stall(seconds: float = 3600.0, *, forward: bool = False) -> Fault:
    """Headers arrive, then the body hangs for `seconds`: only an overall deadline cuts it."""
    return Fault(STALL, seconds=seconds, forward=forward)


def drip(bytes_per_chunk: int, delay: float) -> Fault:
    """The server's real answer, `bytes_per_chunk` bytes at a time, `delay` s apart."""
    return Fault(DRIP, chunk=max(1, bytes_per_chunk), seconds=delay, forward=True)


def garbage(body: bytes | str = b'{"methodResponses": [[') -> Fault:
    """A 200 whose body is not what JMAP promises (malformed, wrong types, huge)."""
    raw = body.encode() if isinstance(body, str) else body
    return Fault(GARBAGE, body=raw, headers=(("content-type", "application/json"),))


_pause = asyncio.sleep  # the wait before each slow chunk; a test may record it instead


class _SlowStream(httpx.AsyncByteStream):
    """A body that sleeps before each chunk (and, for a stall, never really sends)."""

    def __init__(self, chunks: Iterable[bytes], delay: float) -> None:
        self._chunks = list(chunks)
        self._delay = delay

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self._chunks:
            await _pause(self._delay)
            yield piece

    async def aclose(self) -> None:
        return None


@dataclass
class Seen:
    """One request the transport saw, and the fault that met it."""

    method: str
    url: str
    body: bytes
    fault: str


@dataclass
class FaultyTransport(httpx.AsyncBaseTransport):
    """Wraps `inner`, applying `plan` to requests in order; then passes everything."""

    inner: httpx.AsyncBaseTransport
    plan: list[Fault] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    forwarded: int = 0  # how many requests reached the inner transport (the server)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        fault = self.plan.pop(0) if self.plan else ok()
        body = await request.aread()
        self.seen.append(Seen(request.method, str(request.url), body, fault.kind))
        if fault.kind == CONNECT_ERROR:
            raise httpx.ConnectError("injected: [Errno 111] Connection refused", request=request)
        if fault.kind == DNS_ERROR:
            raise httpx.ConnectError(
                "injected: [Errno -2] Name or service not known", request=request
            )
        if fault.kind in (STATUS, GARBAGE):
            return httpx.Response(fault.status, headers=list(fault.headers), content=fault.body)
        if fault.kind == STALL and not fault.forward:
            return _stalled(fault)
        self.forwarded += 1
        response = await self.inner.handle_async_request(request)
        if fault.kind == OK:
            return response
        content = await response.aread()  # decoded, so drop the encoding headers below
        return _after_server(fault, request, response, content)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _stalled(fault: Fault) -> httpx.Response:
    headers = {"content-type": "application/json"}
    return httpx.Response(200, headers=headers, stream=_SlowStream([b"{"], fault.seconds))


def _after_server(
    fault: Fault, request: httpx.Request, response: httpx.Response, content: bytes
) -> httpx.Response:
    """What the client gets once the server has handled the request."""
    if fault.kind == DROP_AFTER:
        raise fault.error("injected: connection dropped after the request left", request=request)
    dropped = ("content-length", "content-encoding", "transfer-encoding")
    headers = [(k, v) for k, v in response.headers.items() if k.lower() not in dropped]
    if fault.kind == STALL:
        return httpx.Response(response.status_code, headers=headers,
                              stream=_SlowStream([content], fault.seconds))  # fmt: skip
    if fault.kind == DRIP:
        pieces = [content[i : i + fault.chunk] for i in range(0, len(content), fault.chunk)]
        return httpx.Response(response.status_code, headers=headers,
                              stream=_SlowStream(pieces, fault.seconds))  # fmt: skip
    raise AssertionError(f"unexpected fault {fault.kind!r}")
