"""The fault-injecting transport does what each fault promises (and nothing more)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from tests.support import faults
from tests.support.faults import FaultyTransport


class Counter:
    """An inner 'server' that counts what reached it."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return httpx.Response(200, json={"n": self.calls, "pad": "x" * 40})


def client_with(*plan: faults.Fault) -> tuple[httpx.AsyncClient, FaultyTransport, Counter]:
    server = Counter()
    transport = FaultyTransport(httpx.MockTransport(server), list(plan))
    return httpx.AsyncClient(transport=transport, base_url="https://t.invalid"), transport, server


async def test_ok_and_an_empty_plan_pass_through() -> None:
    client, transport, server = client_with(faults.ok())
    async with client:
        first = await client.post("/api", content=b"one")
        second = await client.get("/api")
    assert (first.json()["n"], second.json()["n"]) == (1, 2)
    assert [s.fault for s in transport.seen] == ["ok", "ok"]
    assert transport.seen[0].body == b"one"
    assert transport.forwarded == server.calls == 2


async def test_connect_and_dns_errors_never_reach_the_server() -> None:
    client, transport, server = client_with(faults.connect_error(), faults.dns_error())
    async with client:
        with pytest.raises(httpx.ConnectError, match="refused"):
            await client.get("/")
        with pytest.raises(httpx.ConnectError, match="Name or service not known"):
            await client.get("/")
        assert (await client.get("/")).status_code == 200
    assert server.calls == 1
    assert [s.fault for s in transport.seen] == ["connect_error", "dns_error", "ok"]


@pytest.mark.parametrize("error", [httpx.RemoteProtocolError, httpx.ReadError])
async def test_drop_after_reaches_the_server_then_fails(error: type[httpx.TransportError]) -> None:
    client, transport, server = client_with(faults.drop_after(error))
    async with client:
        with pytest.raises(error, match="dropped after the request left"):
            await client.post("/api", content=b"send once")
    assert server.calls == 1  # processed: a blind retry would send twice
    assert transport.forwarded == 1


async def test_status_answers_with_headers_and_body_without_the_server() -> None:
    client, _, server = client_with(
        faults.status(429, {"Retry-After": "7"}),
        faults.status(503, {"Retry-After": "Wed, 25 Nov 2026 10:00:00 GMT"}, "busy"),
        faults.status(401),
    )
    async with client:
        limited, busy, denied = [await client.get("/") for _ in range(3)]
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "7")
    assert busy.status_code == 503 and busy.text == "busy"
    assert busy.headers["retry-after"].endswith("GMT")
    assert denied.status_code == 401
    assert server.calls == 0


async def test_stall_sends_headers_then_hangs_until_a_deadline_cuts_it() -> None:
    client, _, _ = client_with(faults.stall(30), faults.stall(30, forward=True))
    async with client:
        async with client.stream("GET", "/") as response:
            assert response.status_code == 200  # the headers came at once
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(response.aread(), 0.05)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(client.get("/"), 0.05)


async def test_stall_forward_lets_the_server_process_it() -> None:
    client, transport, server = client_with(faults.stall(30, forward=True))
    async with client:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(client.get("/"), 0.05)
    assert server.calls == transport.forwarded == 1


async def test_drip_delivers_the_real_answer_in_small_chunks_each_after_a_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)
        await asyncio.sleep(0)

    monkeypatch.setattr(faults, "_pause", pause)
    client, _, server = client_with(faults.drip(8, 0.002))
    async with client, client.stream("GET", "/") as response:
        chunks = [c async for c in response.aiter_raw()]
    body = b"".join(chunks)
    assert json.loads(body)["n"] == 1 == server.calls
    assert len(chunks) == -(-len(body) // 8) and all(len(c) <= 8 for c in chunks)
    assert pauses == [0.002] * len(chunks)  # one pause before every chunk


async def test_garbage_is_a_200_that_is_not_json() -> None:
    client, _, server = client_with(faults.garbage(), faults.garbage(b'{"methodResponses": 7}'))
    async with client:
        broken = await client.get("/")
        wrong = await client.get("/")
    assert broken.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        broken.json()
    assert wrong.json() == {"methodResponses": 7}
    assert server.calls == 0
