"""JMAP push over the event source: a server that streams wakes the client early;
one that answers 204 (Debian's Cyrus) is detected and the client polls instead."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx

from triage.providers.jmap.events import EventSource
from triage.providers.jmap.http import Credentials, JmapHttp


class Stream(httpx.AsyncByteStream):
    """An event stream the test feeds line by line."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await self.queue.get()) is not None:
            yield chunk


def http_with(handler: httpx.MockTransport) -> JmapHttp:
    return JmapHttp("https://x.invalid/jmap/session", Credentials("bearer", "", "t"),
                    transport=handler)  # fmt: skip


async def test_a_state_event_wakes_the_client_before_the_poll_interval() -> None:
    stream = Stream()
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)

    http = http_with(httpx.MockTransport(handler))
    template = "https://x.invalid/events?types={types}&closeafter={closeafter}&ping={ping}"
    events = EventSource(http, template)
    assert await events.supported()
    assert "types=*" in seen[0] and "closeafter=no" in seen[0]
    assert not await events.wait(0.05)  # nothing happened: the wait times out
    await stream.queue.put(b'event: state\ndata: {"changed": {"a": {"Email": "9"}}}\n\n')
    assert await events.wait(5.0)  # woken by the push, long before 5 s
    await stream.queue.put(b"event: ping\ndata: {}\n\n")
    assert not await events.wait(0.05)  # a ping is not a change
    await stream.queue.put(None)
    await events.aclose()
    await http.aclose()


async def test_a_server_that_answers_204_means_polling() -> None:
    http = http_with(httpx.MockTransport(lambda request: httpx.Response(204)))
    events = EventSource(http, "https://x.invalid/events?types={types}")
    assert not await events.supported()
    await events.aclose()
    await http.aclose()


async def test_an_unreachable_event_source_means_polling() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    http = http_with(httpx.MockTransport(refuse))
    events = EventSource(http, "https://x.invalid/events")
    assert not await events.supported()
    await events.aclose()
    await http.aclose()
