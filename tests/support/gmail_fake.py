"""A stateful fake of the Gmail API endpoints triage calls, and of Google's token endpoint.

Test code, shaped from Google's documentation (reference pages, the sync,
threads, quota and error guides), never checked against a live account. Served
as an `httpx.MockTransport` (`transport()`, fast tests) and as a real HTTP
server on 127.0.0.1 (`serve()`, for the CLI in a subprocess). Endpoints:
getProfile, labels.list/create, threads.list/get/modify, messages.list (labelIds,
or `q=rfc822msgid:`), messages.get/send/insert, history.list, and the token
endpoint (service-account JWTs checked against the account's public key; refresh
and authorization-code grants for the installed-app flow).

The failure paths tests ask for: `fail_next` (429 / 403 rateLimitExceeded / 5xx,
with Retry-After), a per-minute quota in units, `expire_tokens` (a token that
expires mid-sync), `store.forget_history` (history 404), `page_size` (paging),
a label that exists (409), and errors whose fix triage must name: a token
without the Gmail scope, the API disabled in the project, a mailbox a token may
not read ("Delegation denied"), a service account not delegated.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes
from email.utils import formataddr, parseaddr
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx

from tests.support import gmail_auth
from tests.support.gmail_store import Clash, GmailStore, Missing, TooOld
from triage.clock import Clock

Json = dict[str, Any]
API = "/gmail/v1/users/"
BATCH_MAX = 100  # calls in one batch request
READ_SCOPES = {
    "https://mail.google.com/",
    "https://www.googleapis.com/auth/gmail.modify",
    "https://www.googleapis.com/auth/gmail.readonly",
}
WRITE_SCOPES = {"https://mail.google.com/", "https://www.googleapis.com/auth/gmail.modify"}
UNITS = {
    "profile": 1,
    "labels": 1,
    "labels+": 5,
    "history": 2,
    "threads": 10,
    "thread": 10,
    "modify": 10,
    "messages": 5,
    "message": 5,
    "insert": 25,
    "send": 100,
}


class AnswerLost(Exception):
    """Internal: the request was applied but its answer must never arrive."""


@dataclass
class Grant:
    """An access token: whose mailbox it reads, with which scopes, until when."""

    user: str
    scopes: set[str]
    expires_ms: int
    expired: bool = False


@dataclass
class Failure:
    status: int
    reason: str
    retry_after: str | None = None
    only: str = ""  # a route name ("send", "history"...), or "" for any


@dataclass
class GmailFake:
    """The mailbox, the tokens that may read it, and the faults to meet requests with."""

    clock: Clock
    address: str = "team@agency.example"
    base_url: str = "https://gmail.fake.invalid"
    page_size: int = 500  # the most any list answers at once (lower it to force paging)
    quota_per_minute: int | None = None
    api_disabled: bool = False
    store: GmailStore = field(init=False)
    grants: dict[str, Grant] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (route, url)
    sent: list[bytes] = field(default_factory=list)  # raw messages that went out
    send_as: set[str] = field(default_factory=set)
    units_used: int = 0
    accounts: dict[str, gmail_auth.ServiceAccountKey] = field(default_factory=dict)
    oauth: gmail_auth.OAuthClients = field(default_factory=gmail_auth.OAuthClients)
    drop_send_answer: int = 0  # sends applied whose answer is then lost
    expire_in: int | None = None  # tokens expire after this many more API requests
    search_indexed: bool = True  # False: search has not caught up (rfc822msgid: finds nothing)

    def __post_init__(self) -> None:
        self.store = GmailStore(self.clock, self.address)
        self.send_as.add(self.address.casefold())
        self.lock = threading.Lock()

    # -- the test's controls ---------------------------------------------------------

    def token(
        self,
        scopes: set[str] | None = None,
        user: str | None = None,
        lifetime: timedelta = timedelta(hours=1),
    ) -> str:
        """Mint an access token for `user` (the mailbox by default)."""
        token = "ya29." + secrets.token_urlsafe(24)
        until = int((self.clock.now() + lifetime).timestamp() * 1000)
        self.grants[token] = Grant(user or self.address, scopes or set(WRITE_SCOPES), until)
        return token

    def expire_tokens(self) -> None:
        """Every token issued so far stops working (the next call gets 401)."""
        for g in self.grants.values():
            g.expired = True

    def fail_next(
        self,
        status: int,
        reason: str,
        *,
        times: int = 1,
        retry_after: str | None = None,
        only: str = "",
    ) -> None:
        self.failures.extend(Failure(status, reason, retry_after, only) for _ in range(times))

    def reset_quota(self) -> None:
        """A minute has passed for the quota."""
        self.units_used = 0

    def routes(self, name: str) -> int:
        return sum(1 for r, _ in self.requests if r == name)

    # -- serving -----------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            if request.url.path == "/token":
                return gmail_auth.token_endpoint(self, request)
            if request.url.path == "/batch/gmail/v1":
                return self._batch(request)
            try:
                return self._api(request)
            except AnswerLost as e:  # applied, but the client never hears back
                raise httpx.ReadError(str(e), request=request) from None

    def _api(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if not path.startswith(API):
            return error(404, "notFound", "Not Found")
        user, _, rest = path[len(API) :].partition("/")
        route = route_of(request.method, rest)
        self.requests.append((route, str(request.url)))
        if self.expire_in is not None:
            self.expire_in -= 1
            if self.expire_in < 0:
                self.expire_tokens()
                self.expire_in = None
        refused = self._refusal(request, user, route)
        if refused is not None:
            return refused
        try:
            return self._dispatch(route, request, rest)
        except (Missing, KeyError) as e:
            return error(404, "notFound", f"Requested entity was not found. ({e})")
        except Clash:
            return error(409, "alreadyExists", "Label name exists or conflicts")
        except TooOld:
            return error(404, "notFound", "Requested entity was not found.")
        except (ValueError, TypeError) as e:
            return error(400, "invalidArgument", f"Invalid value: {e}")

    def _refusal(self, request: httpx.Request, user: str, route: str) -> httpx.Response | None:
        auth = request.headers.get("Authorization", "")
        grant = (
            self.grants.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
        )
        now_ms = int(self.clock.now().timestamp() * 1000)
        if grant is None or grant.expired or grant.expires_ms <= now_ms:
            return error(401, "authError", "Invalid Credentials", status="UNAUTHENTICATED")
        if self.api_disabled:
            return error(
                403,
                "accessNotConfigured",
                "Gmail API has not been used in project 123456 before or it is disabled.",
                status="PERMISSION_DENIED",
                detail="SERVICE_DISABLED",
            )
        if user not in ("me", grant.user) and user.casefold() != grant.user.casefold():
            return error(
                403, "forbidden", f"Delegation denied for {grant.user}", status="PERMISSION_DENIED"
            )
        needed = READ_SCOPES if request.method == "GET" else WRITE_SCOPES
        if not grant.scopes & needed:
            return error(
                403,
                "insufficientPermissions",
                "Request had insufficient authentication scopes.",
                status="PERMISSION_DENIED",
                detail="ACCESS_TOKEN_SCOPE_INSUFFICIENT",
            )
        return self._fault(route) or self._quota(route)

    def _fault(self, route: str) -> httpx.Response | None:
        for i, f in enumerate(self.failures):
            if not f.only or f.only == route:
                del self.failures[i]
                headers = {"Retry-After": f.retry_after} if f.retry_after else {}
                return error(f.status, f.reason, f"fault: {f.reason}", headers=headers)
        return None

    def _quota(self, route: str) -> httpx.Response | None:
        cost = UNITS.get(route, 5)
        if self.quota_per_minute is not None and self.units_used + cost > self.quota_per_minute:
            return error(403, "userRateLimitExceeded", "User-rate limit exceeded.")
        self.units_used += cost
        return None

    def _dispatch(self, route: str, request: httpx.Request, rest: str) -> httpx.Response:
        q = parse_qs(request.url.query.decode(), keep_blank_values=True)
        body = json.loads(request.content) if request.content else {}
        parts = rest.split("/")
        handler: Callable[..., Json] = getattr(self, f"_{route.replace('+', '_create')}")
        return ok(handler(q=q, body=body, parts=parts))

    # -- endpoints ---------------------------------------------------------------------

    def _profile(self, **_: Any) -> Json:
        s = self.store
        return {
            "emailAddress": self.address,
            "messagesTotal": len(s.messages),
            "threadsTotal": len(s.threads),
            "historyId": str(s.history_id),
        }

    def _labels(self, **_: Any) -> Json:
        return {"labels": list(self.store.labels.values())}

    def _labels_create(self, body: Json, **_: Any) -> Json:
        return self.store.create_label(str(body["name"]))

    def _threads(self, q: dict[str, list[str]], **_: Any) -> Json:
        wanted = set(q.get("labelIds", []))
        s = self.store
        found = [
            t
            for t, ids in s.threads.items()
            if any(
                wanted <= s.messages[i].labels and not s.messages[i].labels & {"TRASH", "SPAM"}
                for i in ids
            )
        ]
        found.sort(key=lambda t: -max(s.messages[i].internal_ms for i in s.threads[t]))
        items = [{"id": t, "snippet": "", "historyId": str(s.history_id)} for t in found]
        return self._page(items, q, "threads")

    def _page(self, items: list[Json], q: dict[str, list[str]], key: str) -> Json:
        start = int(q.get("pageToken", ["0"])[0])
        size = min(int(q.get("maxResults", ["100"])[0]), 500, self.page_size)
        out: Json = {"resultSizeEstimate": len(items)}
        if items[start : start + size]:
            out[key] = items[start : start + size]
        if start + size < len(items):
            out["nextPageToken"] = str(start + size)
        return out

    def _thread(self, q: dict[str, list[str]], parts: list[str], **_: Any) -> Json:
        msgs = self.store.thread_messages(parts[1])
        fmt = q.get("format", ["full"])[0]
        return {
            "id": parts[1],
            "historyId": str(self.store.history_id),
            "messages": [self.store.resource(m, fmt, q.get("metadataHeaders")) for m in msgs],
        }

    def _modify(self, body: Json, parts: list[str], **_: Any) -> Json:
        ids = [m.id for m in self.store.thread_messages(parts[1])]
        self.store.modify(
            ids, list(body.get("addLabelIds") or []), list(body.get("removeLabelIds") or [])
        )
        return {"id": parts[1], "messages": [{"id": i} for i in ids]}

    def _messages(self, q: dict[str, list[str]], **_: Any) -> Json:
        s = self.store
        query = q.get("q", [""])[0]
        if query and not query.startswith("rfc822msgid:"):
            raise ValueError("this fake searches by rfc822msgid: only")
        wanted_id = query.removeprefix("rfc822msgid:").strip("<>")
        labels = set(q.get("labelIds", []))
        hide = set() if q.get("includeSpamTrash", ["false"])[0] == "true" else {"TRASH", "SPAM"}
        found = [
            m
            for m in s.messages.values()
            if labels <= m.labels
            and not m.labels & hide
            and (
                not query
                or wanted_id in {x.strip("<>") for x in str(m.parsed.get("Message-ID", "")).split()}
            )
        ]
        if query and not self.search_indexed:
            found = []
        found.sort(key=lambda m: -m.internal_ms)
        return self._page([{"id": m.id, "threadId": m.thread_id} for m in found], q, "messages")

    def _message(self, q: dict[str, list[str]], parts: list[str], **_: Any) -> Json:
        m = self.store.messages.get(parts[1])
        if m is None:
            raise Missing(parts[1])
        return self.store.resource(m, q.get("format", ["full"])[0], q.get("metadataHeaders"))

    def _insert(self, body: Json, **_: Any) -> Json:
        raw = _unbase64(str(body["raw"]))
        m = self.store.add(
            raw,
            set(body.get("labelIds") or []),
            thread_id=body.get("threadId"),
            need_thread_id=True,
        )
        return {"id": m.id, "threadId": m.thread_id, "labelIds": sorted(m.labels)}

    def _send(self, body: Json, **_: Any) -> Json:
        raw = self._from_rewritten(_unbase64(str(body["raw"])))
        m = self.store.add(raw, {"SENT"}, thread_id=body.get("threadId"), need_thread_id=True)
        self.sent.append(m.raw)
        if self.drop_send_answer:
            self.drop_send_answer -= 1
            raise AnswerLost("the answer to this send is lost")
        return {"id": m.id, "threadId": m.thread_id, "labelIds": sorted(m.labels)}

    def _from_rewritten(self, raw: bytes) -> bytes:
        """Gmail sends only from the account's own address or its send-as aliases."""
        head, sep, rest = raw.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        for i, line in enumerate(lines):
            if line.lower().startswith(b"from:"):
                name, addr = parseaddr(line[5:].decode("utf-8", "replace"))
                if addr.casefold() not in self.send_as:
                    lines[i] = ("From: " + formataddr((name, self.address))).encode()
        return b"\r\n".join(lines) + sep + rest

    def _history(self, q: dict[str, list[str]], **_: Any) -> Json:
        start = q.get("startHistoryId", [""])[0]
        if not start.isdigit():
            raise ValueError(f"startHistoryId {start!r}")
        out = self._page(self.store.history_since(int(start)), q, "history")
        out["historyId"] = str(self.store.history_id)
        out.pop("resultSizeEstimate")
        return out

    def _batch(self, request: httpx.Request) -> httpx.Response:
        """Google's batch: each part a whole HTTP request, answered by a part in kind."""
        self.requests.append(("batch", str(request.url)))
        head = f"Content-Type: {request.headers.get('Content-Type', '')}\r\n\r\n".encode()
        outer = message_from_bytes(head + request.content)
        parts = outer.get_payload() if outer.is_multipart() else []
        if not parts or len(parts) > BATCH_MAX:
            return error(400, "badRequest", f"a batch holds 1 to {BATCH_MAX} calls")
        boundary = "batch_" + secrets.token_hex(8)
        out = b""
        for part in parts:
            line = part.get_payload(decode=True).split(b"\r\n", 1)[0].decode()
            method, target, _version = line.split(" ")
            inner = httpx.Request(
                method,
                f"{request.url.scheme}://{request.url.host}{target}",
                headers={"Authorization": request.headers.get("Authorization", "")},
            )
            r = self._api(inner)
            extra = "".join(f"{k}: {v}\r\n" for k, v in r.headers.items() if k == "retry-after")
            cid = str(part.get("Content-ID", "")).strip("<>")
            out += (
                f"--{boundary}\r\nContent-Type: application/http\r\n"
                f"Content-ID: <response-{cid}>\r\n\r\nHTTP/1.1 {r.status_code} X\r\n"
                f"Content-Type: application/json; charset=UTF-8\r\n{extra}\r\n"
            ).encode()
            out += r.content + b"\r\n"
        out += f"--{boundary}--\r\n".encode()
        return httpx.Response(
            200, content=out, headers={"Content-Type": f"multipart/mixed; boundary={boundary}"}
        )

    # -- a real server on 127.0.0.1 ------------------------------------------------------

    @contextlib.contextmanager
    def serve(self) -> Iterator[str]:
        """Serve on 127.0.0.1 (a free port) while in the block; yields the base URL."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                req = httpx.Request(
                    self.command,
                    f"http://{self.headers.get('Host', '127.0.0.1')}{self.path}",
                    headers=dict(self.headers),
                    content=self.rfile.read(size),
                )
                try:
                    r = fake.handle(req)
                except httpx.ReadError:
                    self.close_connection = True
                    return
                self.send_response(r.status_code)
                for k, v in r.headers.items():
                    if k.lower() not in ("content-length", "transfer-encoding"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            do_GET = do_POST = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


def route_of(method: str, rest: str) -> str:
    """The endpoint a path names ("threads", "thread", "modify", "send"...)."""
    parts = rest.split("/")
    if parts[0] in ("profile", "history"):
        return parts[0]
    if parts[0] == "labels":
        return "labels+" if method == "POST" else "labels"
    if parts[0] == "threads":
        return "threads" if len(parts) == 1 else ("modify" if parts[-1] == "modify" else "thread")
    if parts[0] == "messages":
        if len(parts) == 1:
            return "insert" if method == "POST" else "messages"
        return "send" if parts[1] == "send" else "message"
    return "unknown"


def ok(body: Json) -> httpx.Response:
    return httpx.Response(200, json=body)


def error(
    code: int,
    reason: str,
    message: str,
    *,
    status: str = "",
    detail: str = "",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """An error answer shaped as Google's: {"error": {code, message, errors, status}}."""
    domain = "usageLimits" if "imit" in reason or reason == "accessNotConfigured" else "global"
    err: Json = {
        "code": code,
        "message": message,
        "errors": [{"message": message, "domain": domain, "reason": reason}],
        "status": status
        or {
            401: "UNAUTHENTICATED",
            403: "PERMISSION_DENIED",
            404: "NOT_FOUND",
            409: "ALREADY_EXISTS",
            429: "RESOURCE_EXHAUSTED",
        }.get(code, "INVALID_ARGUMENT"),
    }
    if detail:
        err["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": detail,
                "domain": "googleapis.com",
            }
        ]
    return httpx.Response(code, json={"error": err}, headers=headers or {})


def _unbase64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
