"""The Microsoft Graph fake: a stateful stand-in for the Graph endpoints and the sign-in
endpoints triage calls, served through an httpx transport (fast tests) or as a real
HTTP server on 127.0.0.1 (the real CLI, `triage login` included).

It is built from Microsoft's documentation, never from a live tenant, and it models:
bearer tokens and their expiry (401 InvalidAuthenticationToken), delegated access to
a shared mailbox (403 ErrorAccessDenied without Full Access or without the
Mail.ReadWrite.Shared scope), JSON batching (at most 20 requests, each answered on
its own), Outlook's limit of 4 concurrent requests per mailbox (a 429
ApplicationThrottled "MailboxConcurrency" beyond it; `max_in_flight` records the most
seen), and injected faults (`fail`): any status with its headers (429 with
Retry-After), inside a batch or not, or a request processed whose answer is lost.
It does not model: search, attachments, rules, Exchange's own threading by
Thread-Index, the delay before a sent message shows in Sent Items, per-app rate
limits over time, or throttling other than concurrency.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
import orjson

from tests.support.graph_fake.delta import Deltas
from tests.support.graph_fake.identity import Grant, Identity
from tests.support.graph_fake.mail_api import Answer, MailApi, Request, SentRecord, error
from tests.support.graph_fake.store import FakeMailbox, FakeMessage
from triage.clock import Clock

Json = dict[str, Any]
LIMIT = 4  # Outlook: concurrent requests per app and mailbox
CLIENT_ID = "7f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"


@dataclass
class Fault:
    """What happens to the next request(s) whose "METHOD /path" contains `match`."""

    match: str
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: Json | None = None
    drop: bool = False  # processed, then the connection drops before the answer
    times: int = 1
    in_batch: bool | None = None  # None: inside a batch or not


@dataclass
class Seen:
    method: str
    path: str
    status: int
    in_batch: bool


class GraphFake:
    """Mailboxes, users, tokens and the HTTP surface over them."""

    def __init__(
        self,
        clock: Clock,
        *,
        tenant: str = "agency.example",
        client_id: str = CLIENT_ID,
        base: str = "https://graph.fake.test",
    ) -> None:
        self.clock = clock
        self.base = base
        self.identity = Identity(clock, tenant=tenant, client_id=client_id)
        self.mailboxes: dict[str, FakeMailbox] = {}
        self.deltas = Deltas()
        self.sent: list[SentRecord] = []
        self.faults: list[Fault] = []
        self.seen: list[Seen] = []
        self.in_flight: dict[str, int] = {}
        self.max_in_flight = 0
        self.throttled = 0
        self.expire_in: int | None = None  # Graph requests until every access token expires
        self._lock = threading.RLock()

    @property
    def api_url(self) -> str:
        return self.base + "/v1.0"

    @property
    def login_url(self) -> str:
        return self.base

    # -- the test's hands -----------------------------------------------------------------

    def mailbox(self, address: str, display: str = "") -> FakeMailbox:
        key = address.casefold()
        if key not in self.mailboxes:
            self.mailboxes[key] = FakeMailbox(key, display)
        return self.mailboxes[key]

    def add_user(
        self, upn: str, *, full_access: Iterable[str] = (), send_as: Iterable[str] = ()
    ) -> str:
        self.identity.add_user(upn, full_access=full_access, send_as=send_as)
        self.mailbox(upn)
        return upn.casefold()

    def deliver(
        self,
        address: str,
        from_name: str,
        from_email: str,
        to: Sequence[str],
        subject: str,
        body: str,
        at: datetime,
        *,
        cc: Iterable[str] = (),
        message_id: str,
        in_reply_to: str = "",
        references: Iterable[str] = (),
        html: bool = False,
        folder: str = "inbox",
    ) -> FakeMessage:
        """A message arrives (or, in Sent Items, was sent from another mail client)."""
        with self._lock:
            box = self.mailbox(address)
            refs = [r.strip("<>") for r in references]
            m = FakeMessage(
                box.new_id("AAMkM"),
                box.folder(folder).id,  # type: ignore[union-attr]
                box.conversation_for(in_reply_to, refs),
                f"<{message_id.strip('<>')}>",
                subject,
                (from_name, from_email),
                [("", a) for a in to],
                [("", a) for a in cc],
                at,
                body,
                "html" if html else "text",
                in_reply_to=in_reply_to,
                references=refs,
            )
            return box.put(m)

    def fail(
        self,
        match: str,
        status: int = 0,
        *,
        headers: dict[str, str] | None = None,
        body: Json | None = None,
        drop: bool = False,
        times: int = 1,
        in_batch: bool | None = None,
    ) -> None:
        self.faults.append(Fault(match, status, headers or {}, body, drop, times, in_batch))

    def expire_tokens_after(self, requests: int) -> None:
        """The access tokens expire after this many more Graph requests (mid-sync)."""
        self.expire_in = requests

    def forget_changes(self, status: int = 410) -> None:
        with self._lock:
            self.deltas.reset_status = status
            self.deltas.forget()

    # -- serving ----------------------------------------------------------------------------

    def transport(self, latency: float = 0.0) -> httpx.AsyncBaseTransport:
        return FakeTransport(self, latency)

    @contextlib.contextmanager
    def serve(self) -> Iterator[str]:
        """A real HTTP server on 127.0.0.1 (a free port) for the fake; yields its base URL."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.base = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self.base
        finally:
            server.shutdown()
            server.server_close()

    def respond(
        self, method: str, url: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes, bool]:
        """One HTTP exchange: (status, headers, body, lose the answer)."""
        parts = urlsplit(url)
        path = unquote(parts.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        with self._lock:
            if not path.startswith("/v1.0/"):
                status, answer = self._identity(method, path, body, query)
                return status, *answer, False
            self._count_down()
            fault = self._fault(method, path, in_batch=False)
            if fault is not None and fault.status:
                self.seen.append(Seen(method, path, fault.status, False))
                return fault.status, fault.headers, _json(fault.body), False
            status, out_headers, out = self.graph(method, path, query, headers, _body(body))
            self.seen.append(Seen(method, path, status, False))
            return status, out_headers, _json(out), fault is not None and fault.drop

    def _count_down(self) -> None:
        if self.expire_in is not None:
            self.expire_in -= 1
            if self.expire_in < 0:
                self.identity.expire_access_tokens()
                self.expire_in = None

    def _identity(
        self, method: str, path: str, body: bytes, query: dict[str, str]
    ) -> tuple[int, tuple[dict[str, str], bytes]]:
        form = dict(parse_qsl(body.decode(), keep_blank_values=True)) if body else {}
        status, answer = self.identity.handle(method, path, form, query, self.base)
        if status == 302 and isinstance(answer, str):
            return 302, ({"Location": answer}, b"")
        if isinstance(answer, str):
            return status, ({"Content-Type": "text/plain"}, answer.encode())
        return status, ({"Content-Type": "application/json"}, orjson.dumps(answer))

    def _fault(self, method: str, path: str, *, in_batch: bool) -> Fault | None:
        for fault in self.faults:
            wanted = fault.in_batch is None or fault.in_batch == in_batch
            if wanted and fault.times > 0 and fault.match in f"{method} {path}":
                fault.times -= 1
                return fault
        return None

    # -- Graph ------------------------------------------------------------------------------

    def graph(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> Answer:
        """A Graph request (path from /v1.0 on), signed in by its Authorization header."""
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        grant = self.identity.who(token)
        if grant is None:
            return error(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
            )
        rest = path.removeprefix("/v1.0")
        if rest == "/$batch" and method == "POST":
            return self._batch(body, headers, grant)
        return self._one(method, rest, query, headers, body, grant)

    def _one(
        self,
        method: str,
        rest: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: Any,
        grant: Grant,
    ) -> Answer:
        segments = rest.strip("/").split("/")
        if segments == ["me"]:
            return (
                200,
                {},
                {"mail": grant.user, "userPrincipalName": grant.user, "displayName": grant.user},
            )
        if segments[0] == "me":
            address, tail, link = grant.user, segments[1:], "/me"
        elif segments[0] == "users" and len(segments) > 1:
            address, tail, link = segments[1].casefold(), segments[2:], f"/users/{segments[1]}"
        else:
            return error(400, "BadRequest", f"Resource not found for the segment '{segments[0]}'.")
        box = self.mailboxes.get(address)
        if box is None:
            return error(404, "ErrorInvalidUser", f"The requested user '{address}' is invalid.")
        denied = self._access(grant, address)
        if denied is not None:
            return denied
        r = Request(
            method,
            tail,
            query,
            body,
            headers.get("prefer", ""),
            headers.get("if-match", ""),
            self.api_url + link,
            self._may_send(grant, address),
        )
        return MailApi(
            box, self.clock.now, self.sent, self.deltas.handle, self.deltas.max_page
        ).handle(r)

    def _access(self, grant: Grant, address: str) -> Answer | None:
        own = address == grant.user
        shared_ok = "Mail.ReadWrite.Shared" in grant.scopes
        user = self.identity.users.get(grant.user)
        if own and (shared_ok or "Mail.ReadWrite" in grant.scopes):
            return None
        if not own and shared_ok and user is not None and address in user.full_access:
            return None
        return error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")

    def _may_send(self, grant: Grant, address: str) -> bool:
        user = self.identity.users.get(grant.user)
        if address == grant.user:
            return bool({"Mail.Send", "Mail.Send.Shared"} & grant.scopes)
        return "Mail.Send.Shared" in grant.scopes and user is not None and address in user.send_as

    def _batch(self, body: Any, headers: dict[str, str], grant: Grant) -> Answer:
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not 1 <= len(requests) <= 20:
            return error(400, "BadRequest", "A batch holds 1 to 20 requests.")
        ids = [str(r.get("id")) for r in requests]
        if len(set(ids)) != len(ids):
            return error(400, "BadRequest", "Batch request ids must be unique.")
        return 200, {}, {"responses": [self._sub(r, headers, grant) for r in requests]}

    def _sub(self, r: Json, outer: dict[str, str], grant: Grant) -> Json:
        url = urlsplit(str(r.get("url") or ""))
        method, path = str(r.get("method") or "GET").upper(), unquote(url.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        sub_headers = {k.casefold(): str(v) for k, v in (r.get("headers") or {}).items()}
        fault = self._fault(method, path, in_batch=True)
        if fault is not None and fault.status:
            status, headers, out = fault.status, fault.headers, fault.body
        else:
            status, headers, out = self._one(
                method, path, query, {**outer, **sub_headers}, r.get("body"), grant
            )
        self.seen.append(Seen(method, path, status, True))
        return {"id": r.get("id"), "status": status, "headers": headers, "body": out}

    # -- concurrency ------------------------------------------------------------------------

    def enter(self, url: str, body: bytes) -> tuple[str, int]:
        """Count a request in flight on its mailbox; a batch counts its requests (Outlook
        runs up to 4 of them at once)."""
        path = unquote(urlsplit(url).path)
        weight, target = 1, path
        if path.endswith("/$batch"):
            requests = (_body(body) or {}).get("requests") or [{}]
            weight, target = min(len(requests), LIMIT), str(requests[0].get("url") or "")
        segments = target.removeprefix("/v1.0").strip("/").split("/")
        key = segments[1].casefold() if segments[0] == "users" and len(segments) > 1 else "me"
        with self._lock:
            self.in_flight[key] = self.in_flight.get(key, 0) + weight
            self.max_in_flight = max(self.max_in_flight, self.in_flight[key])
        return key, weight

    def over_limit(self, key: str) -> bool:
        return self.in_flight.get(key, 0) > LIMIT

    def leave(self, ticket: tuple[str, int]) -> None:
        with self._lock:
            self.in_flight[ticket[0]] -= ticket[1]


def _body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def _json(value: Any) -> bytes:
    return b"" if value is None else orjson.dumps(value)


THROTTLED = error(
    429,
    "ApplicationThrottled",
    "Application is over its MailboxConcurrency limit.",
    {"Retry-After": "1"},
)


class FakeTransport(httpx.AsyncBaseTransport):
    """The fake as an httpx transport; `latency` keeps requests in flight a while, so that
    requests sent together really overlap."""

    def __init__(self, fake: GraphFake, latency: float) -> None:
        self.fake, self.latency = fake, latency

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        url = str(request.url)
        ticket = self.fake.enter(url, body) if "/v1.0/" in url else None
        try:
            await asyncio.sleep(self.latency)
            if ticket is not None and self.fake.over_limit(ticket[0]):
                self.fake.throttled += 1
                status, headers, answer = THROTTLED
                return httpx.Response(status, headers=headers, content=_json(answer))
            headers_in = {k.casefold(): v for k, v in request.headers.items()}
            status, headers, content, drop = self.fake.respond(
                request.method, url, headers_in, body
            )
        finally:
            if ticket is not None:
                self.fake.leave(ticket)
        if drop:
            raise httpx.ReadError("the connection dropped before the answer")
        return httpx.Response(
            status, headers={"Content-Type": "application/json", **headers}, content=content
        )


def _handler(fake: GraphFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            url = fake.base + self.path
            ticket = fake.enter(url, body) if self.path.startswith("/v1.0/") else None
            try:
                if ticket is not None and fake.over_limit(ticket[0]):
                    fake.throttled += 1
                    status, headers, answer = THROTTLED
                    content, drop = _json(answer), False
                else:
                    headers_in = {k.casefold(): v for k, v in self.headers.items()}
                    status, headers, content, drop = fake.respond(
                        self.command, url, headers_in, body
                    )
            finally:
                if ticket is not None:
                    fake.leave(ticket)
            if drop:
                self.close_connection = True
                return
            self.send_response(status)
            for k, v in {"Content-Type": "application/json", **headers}.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PATCH = do_DELETE = _any

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
