"""An SMTP sink on 127.0.0.1 that records what Cyrus sends (EmailSubmission/set).

Owns a tiny stdlib asyncio SMTP server running in a background thread: no auth,
no TLS, just EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT. Every accepted
message is kept in memory; recipients in the local mail domain can be relayed
back into Cyrus over LMTP so a reply to a colleague really lands in their INBOX.
"""

from __future__ import annotations

import asyncio
import smtplib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MAX_LINE = 1 << 20


@dataclass(frozen=True)
class SmtpMessage:
    """One accepted message: the envelope and the raw bytes (dot-stuffing undone)."""

    mail_from: str
    rcpt_to: tuple[str, ...]
    data: bytes


@dataclass
class _Envelope:
    mail_from: str | None = None
    rcpt_to: list[str] | None = None

    def reset(self) -> None:
        self.mail_from, self.rcpt_to = None, None


class SmtpSink:
    """The sink; `start()` binds a free port and returns once it listens."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or 0  # 0: the kernel picks a free port at bind
        self._messages: list[SmtpMessage] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._relay: Callable[[SmtpMessage], None] | None = None
        self.relay_errors: list[str] = []

    @property
    def messages(self) -> list[SmtpMessage]:
        """A snapshot copy, safe to read from any thread."""
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def relay_local(self, domain: str, lmtp_socket: Path) -> None:
        """Also deliver recipients `@domain` into Cyrus via the LMTP unix socket."""
        suffix = "@" + domain.lower()

        def relay(msg: SmtpMessage) -> None:
            local = [r for r in msg.rcpt_to if r.lower().endswith(suffix)]
            if local:
                with smtplib.LMTP(str(lmtp_socket), timeout=10) as lmtp:
                    refused = lmtp.sendmail(msg.mail_from, local, msg.data)
                if refused:
                    raise RuntimeError(f"LMTP refused {refused}")

        self._relay = relay

    def start(self) -> None:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._session, self.host, self.port, limit=MAX_LINE)
            )
            self.port = int(self._server.sockets[0].getsockname()[1])
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="smtp-sink", daemon=True)
        self._thread.start()
        if not ready.wait(5):
            raise RuntimeError("SMTP sink did not start")

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
        self._loop = self._thread = None

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def reply(line: str) -> None:
            writer.write(line.encode() + b"\r\n")

        env = _Envelope()
        reply("220 smtp-sink ESMTP")
        try:
            while line := await reader.readline():
                verb, _, arg = line.decode("utf-8", "replace").rstrip("\r\n").partition(" ")
                if not await self._command(verb.upper(), arg, env, reader, reply):
                    break
                await writer.drain()
        finally:
            await writer.drain()
            writer.close()

    async def _command(
        self,
        verb: str,
        arg: str,
        env: _Envelope,
        reader: asyncio.StreamReader,
        reply: Callable[[str], None],
    ) -> bool:
        """Handle one command; False ends the session."""
        if verb == "EHLO":
            reply("250-smtp-sink")
            reply("250-8BITMIME")
            reply("250 SIZE 10485760")
        elif verb == "HELO":
            reply("250 smtp-sink")
        elif verb == "MAIL":
            env.mail_from, env.rcpt_to = _address(arg), []
            reply("250 OK")
        elif verb == "RCPT":
            if env.rcpt_to is None:
                reply("503 MAIL first")
            else:
                env.rcpt_to.append(_address(arg))
                reply("250 OK")
        elif verb == "DATA":
            await self._data(env, reader, reply)
        elif verb == "RSET":
            env.reset()
            reply("250 OK")
        elif verb == "NOOP":
            reply("250 OK")
        elif verb == "QUIT":
            reply("221 bye")
            return False
        else:
            reply("502 not implemented")
        return True

    async def _data(
        self, env: _Envelope, reader: asyncio.StreamReader, reply: Callable[[str], None]
    ) -> None:
        if env.mail_from is None or not env.rcpt_to:
            reply("503 need MAIL and RCPT")
            return
        reply("354 end with <CRLF>.<CRLF>")
        lines = []
        while (line := await reader.readline()) not in (b".\r\n", b".\n", b""):
            lines.append(line[1:] if line.startswith(b".") else line)
        msg = SmtpMessage(env.mail_from, tuple(env.rcpt_to), b"".join(lines))
        with self._lock:
            self._messages.append(msg)
        env.reset()
        # Relay before answering 250 so the colleague's copy exists once Cyrus's
        # EmailSubmission/set returns: tests need no waiting.
        if self._relay is not None:
            try:
                await asyncio.get_running_loop().run_in_executor(None, self._relay, msg)
            except Exception as exc:  # a failed relay must not hide the send itself
                self.relay_errors.append(repr(exc))
        reply("250 OK queued")


def _address(arg: str) -> str:
    """`FROM:<a@b> SIZE=12` -> `a@b`."""
    _, _, rest = arg.partition(":")
    addr = rest.strip().split(" ", 1)[0]
    return addr.strip("<>")
