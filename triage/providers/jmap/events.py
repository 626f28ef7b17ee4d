"""JMAP push over the session's event source (RFC 8620 section 7.3, Server-Sent Events).

A background task reads the stream and sets an event on each `state` message.
Servers that advertise an event source but do not stream (Debian's Cyrus answers
204) are detected once and the caller falls back to polling.
"""

from __future__ import annotations

import asyncio
import contextlib

import httpx

from triage.providers.jmap.http import JmapHttp


class EventSource:
    """Reads push events; `wait()` returns True when the server says something changed."""

    def __init__(self, http: JmapHttp, template: str) -> None:
        self._http = http
        self._url = (
            template.replace("{types}", "*").replace("{closeafter}", "no").replace("{ping}", "30")
        )
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._supported: bool | None = None
        self._opened = asyncio.Event()

    async def supported(self) -> bool:
        """Open the stream once; False when the server does not stream events."""
        if self._task is None or (self._task.done() and self._supported):
            # First use, or a stream that streamed and then broke: (re)open it.
            self._opened = asyncio.Event()
            self._supported = None
            self._task = asyncio.create_task(self._run())
        await self._opened.wait()
        return bool(self._supported)

    async def wait(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._changed.wait()
        changed = self._changed.is_set()
        self._changed.clear()
        return changed

    async def _run(self) -> None:
        try:
            response = await self._http.stream(self._url)
        except (httpx.HTTPError, OSError):
            self._supported = False
            self._opened.set()
            return
        try:
            kind = response.headers.get("content-type", "")
            self._supported = response.status_code == 200 and "text/event-stream" in kind
            self._opened.set()
            if self._supported:
                await self._read(response)
        except (httpx.HTTPError, OSError):
            pass  # the stream broke: the caller polls until the next start
        finally:
            self._supported = False if self._supported is None else self._supported
            self._opened.set()
            await response.aclose()

    async def _read(self, response: httpx.Response) -> None:
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event in ("state", ""):
                self._changed.set()
            elif not line:
                event = ""

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
