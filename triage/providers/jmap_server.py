"""An in-memory JMAP mail server (RFC 8620 core, RFC 8621 mail) served over httpx.

Owns the demo's and the tests' mail store: accounts, mailboxes, emails, threads,
identities, submissions (the `sent` list is what an SMTP server would have received)
and the per-type change logs behind `*/changes`. It answers the same HTTP surface
as a real server through `httpx.MockTransport`, so the JMAP client under test runs
its real code path. Where RFCs leave room, it mirrors Cyrus 3.6 (see
shared/notes/cyrus-jmap.md): a 301 from /.well-known/jmap, relative URLs in the
session, keywords lowercased, `null` for empty Email/set maps, 204 from the event
source. Limits are deliberately smaller than Cyrus' so clients must batch.

Time comes from an injected clock; nothing here reads the wall clock.
"""

from __future__ import annotations

import base64
import bisect
import hmac
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

import httpx

from triage.clock import Clock

CORE = "urn:ietf:params:jmap:core"
MAIL = "urn:ietf:params:jmap:mail"
SUBMISSION = "urn:ietf:params:jmap:submission"
BASE_URL = "https://demo.invalid"
WELL_KNOWN = "/.well-known/jmap"
SESSION_PATH = "/jmap/session"
API_PATH = "/jmap/api/"
LIMITS = {
    "maxSizeUpload": 10_000_000,
    "maxConcurrentUpload": 4,
    "maxSizeRequest": 10_000_000,
    "maxConcurrentRequests": 4,
    "maxCallsInRequest": 16,
    "maxObjectsInGet": 500,
    "maxObjectsInSet": 500,
    "collationAlgorithms": ["i;ascii-casemap"],
}
KEEP_CHANGES = 10_000
_KEYWORD = re.compile(r"[\x21-\x7e]+")
_KEYWORD_FORBIDDEN = set('(){]%*"\\')
Json = dict[str, Any]


class MethodError(Exception):
    """A JMAP method-level error (RFC 8620 3.6.2), answered as an "error" response."""

    def __init__(self, kind: str, description: str = "", **extra: Any) -> None:
        super().__init__(description or kind)
        self.kind, self.description, self.extra = kind, description, extra

    def as_json(self) -> Json:
        out: Json = {"type": self.kind, **self.extra}
        if self.description:
            out["description"] = self.description
        return out


class SetError(MethodError):
    """A per-object error inside a /set answer (notCreated, notUpdated, notDestroyed)."""


@dataclass(frozen=True)
class Credentials:
    """Accepted credentials: Basic (username, password) or Bearer (token)."""

    username: str
    password: str
    bearer: str


@dataclass(slots=True)
class StoredEmail:
    """One message as the server keeps it (a parsed view; no MIME tree)."""

    id: str
    thread_id: str
    mailbox_ids: dict[str, bool]
    keywords: dict[str, bool]
    from_: list[Json]
    to: list[Json]
    cc: list[Json]
    subject: str
    received_at: datetime
    sent_at: datetime
    message_id: list[str]
    in_reply_to: list[str] | None
    references: list[str] | None
    text: str
    html: str | None = None
    bcc: list[Json] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # extra headers, lowercased names

    @property
    def size(self) -> int:
        return 400 + len(self.text.encode()) + len((self.html or "").encode())

    @property
    def preview(self) -> str:
        source = self.text or re.sub(r"<[^>]*>", " ", self.html or "")
        return " ".join(source.split())[:256]


@dataclass
class Mailbox:
    id: str
    name: str
    role: str | None
    sort_order: int = 0
    parent_id: str | None = None


class ChangeLog:
    """Created/updated/destroyed ids per state for one type, keeping the last `keep`."""

    def __init__(self, keep: int = KEEP_CHANGES) -> None:
        self.keep = keep
        self.entries: list[tuple[int, str, str]] = []  # (state, id, kind)
        self.floor = 0  # changes since a state below this cannot be calculated

    def add(self, state: int, item_id: str, kind: str) -> None:
        self.entries.append((state, item_id, kind))
        if len(self.entries) > 2 * self.keep:  # trim in bulk: amortised O(1) per add
            drop = len(self.entries) - self.keep
            self.floor = self.entries[drop - 1][0]
            del self.entries[:drop]

    def forget(self, state: int) -> None:
        self.entries.clear()
        self.floor = state

    def since(self, since: str, max_changes: int | None, current: int) -> Json:
        if not since.isdigit() or not self.floor <= int(since) <= current:
            raise MethodError("cannotCalculateChanges", f"state {since!r} is too old or unknown")
        start = bisect.bisect_right(self.entries, int(since), key=lambda e: e[0])
        window = self.entries[start:]
        more = max_changes is not None and len(window) > max_changes
        if more and max_changes is not None:
            window = window[:max_changes]
        first: dict[str, str] = {}
        last: dict[str, str] = {}
        for _, item_id, kind in window:
            first.setdefault(item_id, kind)
            last[item_id] = kind
        out: dict[str, list[str]] = {"created": [], "updated": [], "destroyed": []}
        for item_id, kind in last.items():
            born = first[item_id] == "created"
            if kind == "destroyed":
                if not born:
                    out["destroyed"].append(item_id)
            else:
                out["created" if born else "updated"].append(item_id)
        new_state = window[-1][0] if more else current
        return {"oldState": since, "newState": str(new_state), "hasMoreChanges": more, **out}


def utc_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError, AttributeError):
        raise MethodError("invalidArguments", f"not a date-time: {text!r}") from None
    if at.tzinfo is None:
        raise MethodError("invalidArguments", f"date-time without offset: {text!r}")
    return at.astimezone(UTC)


def bare_id(message_id: str) -> str:
    return message_id.strip().strip("<>").strip()


def address(text: str) -> Json:
    if "<" not in text and " " not in text and "," not in text:  # bulk delivery's fast path
        return {"name": None, "email": text}
    name, email = parseaddr(text)
    return {"name": name or None, "email": email or text}


def _addresses_text(items: list[Json]) -> str | None:
    return ", ".join(formataddr((a.get("name") or "", a["email"])) for a in items) or None


def _ids_text(ids: list[str] | None) -> str | None:
    return " ".join(f"<{i}>" for i in ids) if ids else None


def check_keywords(value: object) -> dict[str, bool]:
    """Validate a keywords map and lowercase it, as Cyrus does."""
    if not isinstance(value, dict):
        raise SetError("invalidProperties", "keywords must be a map", properties=["keywords"])
    out: dict[str, bool] = {}
    for key, flag in value.items():
        if flag is not True or not is_keyword(key):
            raise SetError("invalidProperties", f"bad keyword {key!r}", properties=["keywords"])
        out[key.lower()] = True
    return out


def is_keyword(key: object) -> bool:
    return (
        isinstance(key, str)
        and 0 < len(key) <= 255
        and bool(_KEYWORD.fullmatch(key))
        and not _KEYWORD_FORBIDDEN & set(key)
    )


def pointer(value: Any, path: str) -> Any:
    """Evaluate a JSON pointer with the JMAP `*` extension (RFC 8620 3.7)."""
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in path.split("/")[1:]]
    return _walk(value, tokens) if path else value


def _walk(value: Any, tokens: list[str]) -> Any:
    if not tokens:
        return value
    head, rest = tokens[0], tokens[1:]
    if isinstance(value, list):
        if head != "*":
            return _walk(value[int(head)], rest)
        out: list[Any] = []
        for item in value:
            got = _walk(item, rest)
            out.extend(got if isinstance(got, list) else [got])
        return out
    if isinstance(value, dict):
        return _walk(value[head], rest)
    raise KeyError(head)


def error_response(status: int, kind: str, detail: str, **extra: Any) -> httpx.Response:
    """An RFC 7807 problem document as RFC 8620 3.6.1 asks for request-level errors."""
    body = {"type": f"urn:ietf:params:jmap:error:{kind}", "status": status, "detail": detail}
    return httpx.Response(status, json={**body, **extra})


class JmapServer:
    """The store, its indexes and its HTTP face; JMAP methods are in `Api` below."""

    def __init__(
        self,
        clock: Clock,
        *,
        account_id: str = "team@agency.example",
        credentials: Credentials | None = None,
        base_url: str = BASE_URL,
    ) -> None:
        self.clock = clock
        self.account_id = account_id
        self.credentials = credentials or Credentials(account_id, "demo", "demo-token")
        self.base_url = base_url
        self.limits: Json = dict(LIMITS)
        self.on_request: Callable[[], None] | None = None  # e.g. the demo's live arrivals
        self.sent: list[Json] = []
        self.emails: dict[str, StoredEmail] = {}
        self.mailboxes: dict[str, Mailbox] = {}
        self.threads: dict[str, list[tuple[datetime, str]]] = {}
        self.identities: dict[str, Json] = {}
        self.submissions: dict[str, Json] = {}
        self.blobs: dict[str, bytes] = {}
        self.state = 1
        self.logs = {name: ChangeLog() for name in ("Email", "Mailbox", "Thread")}
        self.by_message_id: dict[str, str] = {}
        self.by_mailbox: dict[str, set[str]] = {}
        self._serial = 0
        self._order: list[tuple[datetime, str]] | None = None
        self._query_cache: dict[str, list[str]] = {}
        self.count_cache: dict[str, tuple[int, dict[str, int]]] = {}
        for name, role in [("Inbox", "inbox"), ("Sent", "sent"), ("Drafts", "drafts"),
                           ("Archive", "archive"), ("Trash", "trash")]:  # fmt: skip
            self.add_mailbox(name, role)

    # ---- ids, state and indexes ----

    def new_id(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}{self._serial}"

    def changed(self, kind: str, item_id: str, how: str) -> None:
        self.state += 1
        self.logs[kind].add(self.state, item_id, how)
        if kind == "Email":
            self._query_cache.clear()

    def forget_changes(self) -> None:
        """Drop every change log: any older sinceState now gets cannotCalculateChanges."""
        for log in self.logs.values():
            log.forget(self.state)

    def sorted_emails(self) -> list[tuple[datetime, str]]:
        """All emails by (receivedAt, id), sorted once and kept until an email changes."""
        if self._order is None:
            self._order = sorted((e.received_at, e.id) for e in self.emails.values())
        return self._order

    def query_cache(self) -> dict[str, list[str]]:
        return self._query_cache

    # ---- programmatic API: mailboxes, identities, delivery ----

    def add_mailbox(self, name: str, role: str | None = None, parent_id: str | None = None) -> str:
        box = Mailbox(self.new_id("P"), name, role, len(self.mailboxes) * 10, parent_id)
        self.mailboxes[box.id] = box
        self.by_mailbox[box.id] = set()
        self.changed("Mailbox", box.id, "created")
        return box.id

    def mailbox_id(self, role_or_name: str) -> str:
        """The id of the mailbox with this role, else this name (case-insensitive)."""
        key = role_or_name.lower()
        for box in self.mailboxes.values():
            if box.role == key:
                return box.id
        for box in self.mailboxes.values():
            if box.name.lower() == key:
                return box.id
        raise KeyError(role_or_name)

    def add_identity(self, email: str, name: str = "") -> str:
        identity_id = self.new_id("I")
        self.identities[identity_id] = {
            "id": identity_id, "name": name, "email": email, "replyTo": None, "bcc": None,
            "textSignature": "", "htmlSignature": "", "mayDelete": True,
        }  # fmt: skip
        return identity_id

    def deliver(
        self,
        from_name: str,
        from_email: str,
        to: Iterable[str],
        subject: str,
        text: str,
        received_at: datetime,
        *,
        cc: Iterable[str] = (),
        message_id: str | None = None,
        in_reply_to: str | None = None,
        html: str | None = None,
        keywords: Iterable[str] = (),
        mailbox: str = "inbox",
        references: Iterable[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """File a message as if it came in over SMTP (or was sent, with mailbox="sent")."""
        parent = self.by_message_id.get(bare_id(in_reply_to)) if in_reply_to else None
        refs = [bare_id(r) for r in references] if references is not None else None
        if refs is None and parent:
            refs = [*(self.emails[parent].references or []), bare_id(in_reply_to or "")]
        email = StoredEmail(
            id=self.new_id("M"),
            thread_id="",
            mailbox_ids={self.mailbox_id(mailbox): True},
            keywords={k.lower(): True for k in keywords},
            from_=[{"name": from_name or None, "email": from_email}],
            to=[address(a) for a in to],
            cc=[address(a) for a in cc],
            subject=subject,
            received_at=received_at.astimezone(UTC),
            sent_at=received_at.astimezone(UTC),
            message_id=[bare_id(message_id)] if message_id else [],
            in_reply_to=[bare_id(in_reply_to)] if in_reply_to else None,
            references=refs,
            text=text,
            html=html,
            headers={k.lower(): v for k, v in headers.items()} if headers else {},
        )
        return self.store(email)

    def store(self, email: StoredEmail) -> str:
        """Index a new email: thread it, give it a Message-ID, log the changes."""
        if not email.message_id:
            email.message_id = [f"{email.id}.{self._serial}@demo.invalid"]
        email.thread_id = self._thread_for(email)
        self.emails[email.id] = email
        for mid in email.message_id:
            self.by_message_id.setdefault(mid, email.id)
        for box in email.mailbox_ids:
            self.by_mailbox[box].add(email.id)
        thread = self.threads.setdefault(email.thread_id, [])
        self.changed("Thread", email.thread_id, "updated" if thread else "created")
        bisect.insort(thread, (email.received_at, email.id))
        if self._order is not None:
            bisect.insort(self._order, (email.received_at, email.id))
        self.changed("Email", email.id, "created")
        for box in email.mailbox_ids:
            self.changed("Mailbox", box, "updated")
        return email.id

    def _thread_for(self, email: StoredEmail) -> str:
        # Like Cyrus conversations: join the thread of any message we reference.
        for mid in [*(email.references or []), *(email.in_reply_to or [])]:
            known = self.by_message_id.get(mid)
            if known is not None:
                return self.emails[known].thread_id
        return self.new_id("T")

    def set_keywords(
        self, email_ids: str | Iterable[str], add: Iterable[str] = (), remove: Iterable[str] = ()
    ) -> None:
        """Add and remove keywords (lowercased) on one or more emails."""
        ids = [email_ids] if isinstance(email_ids, str) else list(email_ids)
        adding, removing = [k.lower() for k in add], [k.lower() for k in remove]
        for email_id in ids:
            email = self.emails[email_id]
            for key in adding:
                email.keywords[key] = True
            for key in removing:
                email.keywords.pop(key, None)
            self.changed("Email", email_id, "updated")

    def move(self, email_id: str, mailbox_ids: Mapping[str, bool]) -> None:
        email = self.emails[email_id]
        touched = set(email.mailbox_ids) ^ set(mailbox_ids)
        for box in email.mailbox_ids:
            self.by_mailbox[box].discard(email_id)
        email.mailbox_ids = dict(mailbox_ids)
        for box in email.mailbox_ids:
            self.by_mailbox[box].add(email_id)
        for box in touched:
            self.changed("Mailbox", box, "updated")

    def destroy(self, email_id: str) -> None:
        email = self.emails.pop(email_id)
        for box in email.mailbox_ids:
            self.by_mailbox[box].discard(email_id)
            self.changed("Mailbox", box, "updated")
        for mid in email.message_id:
            if self.by_message_id.get(mid) == email_id:
                del self.by_message_id[mid]
        thread = self.threads[email.thread_id]
        thread.remove((email.received_at, email_id))
        if self._order is not None:
            self._order.remove((email.received_at, email_id))
        if not thread:
            del self.threads[email.thread_id]
        self.changed("Thread", email.thread_id, "updated" if thread else "destroyed")
        self.changed("Email", email_id, "destroyed")

    def thread_emails(self, thread_id: str) -> list[StoredEmail]:
        return [self.emails[i] for _, i in self.threads.get(thread_id, [])]

    # ---- HTTP ----

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle_request)

    @property
    def session_url(self) -> str:
        return self.base_url + WELL_KNOWN

    async def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.on_request is not None:
            self.on_request()
        path = request.url.path
        if path == WELL_KNOWN:  # Cyrus redirects before asking for credentials
            return httpx.Response(301, headers={"Location": SESSION_PATH})
        if not self._authorised(request.headers.get("authorization", "")):
            return httpx.Response(
                401, headers={"WWW-Authenticate": 'Basic realm="jmap", Bearer realm="jmap"'}
            )
        body = await request.aread()
        if request.method == "GET" and path in (SESSION_PATH, "/jmap", "/jmap/"):
            return httpx.Response(200, json=self.session())
        if request.method == "POST" and path == API_PATH:
            return Api(self).respond(body)
        if request.method == "GET" and path.startswith("/jmap/eventsource"):
            return httpx.Response(204)  # like Debian's Cyrus: advertised, never streams
        if request.method == "GET" and path.startswith("/jmap/download/"):
            return self._download(path)
        return httpx.Response(404, json={"type": "about:blank", "status": 404})

    def _authorised(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        creds = self.credentials
        if scheme.lower() == "bearer":
            return hmac.compare_digest(value.strip().encode(), creds.bearer.encode())
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except ValueError:
            return False
        expected = f"{creds.username}:{creds.password}".encode()
        return hmac.compare_digest(f"{user}:{password}".encode(), expected)

    def session(self) -> Json:
        caps = {CORE: self.limits, MAIL: {}, SUBMISSION: {}}
        mail_caps = {
            MAIL: {
                "maxMailboxesPerEmail": None, "maxMailboxDepth": None,
                "maxSizeMailboxName": 490, "maxSizeAttachmentsPerEmail": 10_000_000,
                "emailQuerySortOptions": ["receivedAt", "sentAt", "size", "subject", "from"],
                "mayCreateTopLevelMailbox": True,
            },
            SUBMISSION: {"maxDelayedSend": 0, "submissionExtensions": {}},
        }  # fmt: skip
        account = {"name": self.account_id, "isPersonal": True, "isReadOnly": False,
                   "accountCapabilities": mail_caps}  # fmt: skip
        return {
            "capabilities": caps,
            "accounts": {self.account_id: account},
            "primaryAccounts": {MAIL: self.account_id, SUBMISSION: self.account_id},
            "username": self.credentials.username,
            "apiUrl": API_PATH,
            "downloadUrl": "/jmap/download/{accountId}/{blobId}/{name}?accept={type}",
            "uploadUrl": "/jmap/upload/{accountId}/",
            "eventSourceUrl": "/jmap/eventsource/?types={types}&closeafter={closeafter}"
            "&ping={ping}",
            "state": str(len(self.identities)),
        }

    def _download(self, path: str) -> httpx.Response:
        parts = path.split("/")  # ["", "jmap", "download", account, blob, name]
        if len(parts) < 5 or parts[3] != self.account_id:
            return httpx.Response(404)
        email = self.emails.get(parts[4].removeprefix("G"))
        if email is None:
            return httpx.Response(404)
        return httpx.Response(
            200, content=raw_message(email), headers={"Content-Type": "message/rfc822"}
        )


def header_text(email: StoredEmail, name: str) -> str | None:
    """The value of a header field as text (unfolded), or None when absent."""
    key = name.lower()
    addresses = {"from": email.from_, "to": email.to, "cc": email.cc, "bcc": email.bcc}
    if key in addresses:
        return _addresses_text(addresses[key])
    ids = {"message-id": email.message_id, "in-reply-to": email.in_reply_to,
           "references": email.references}  # fmt: skip
    if key in ids:
        return _ids_text(ids[key])
    if key == "subject":
        return email.subject
    if key == "date":
        return format_datetime(email.sent_at)
    return email.headers.get(key)


def raw_message(email: StoredEmail) -> bytes:
    lines = []
    for name in ("From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References"):
        value = header_text(email, name)
        if value is not None:
            lines.append(f"{name}: {value}")
    lines += [f"{k}: {v}" for k, v in email.headers.items()]
    kind = "text/plain" if email.text or not email.html else "text/html"
    lines += ["MIME-Version: 1.0", f"Content-Type: {kind}; charset=utf-8", ""]
    return ("\r\n".join(lines) + "\r\n" + (email.text or email.html or "")).encode()


# ---- the JMAP methods ----

EMAIL_PROPERTIES = [
    "id", "blobId", "threadId", "mailboxIds", "keywords", "size", "receivedAt", "messageId",
    "inReplyTo", "references", "sender", "from", "to", "cc", "bcc", "replyTo", "subject",
    "sentAt", "hasAttachment", "preview", "bodyValues", "textBody", "htmlBody", "attachments",
]  # fmt: skip
EMAIL_CREATE = {
    "mailboxIds", "keywords", "from", "to", "cc", "bcc", "replyTo", "sender", "subject",
    "messageId", "inReplyTo", "references", "sentAt", "receivedAt", "bodyValues", "textBody",
    "htmlBody", "attachments",
}  # fmt: skip
HEADER_FORMS = {"asRaw", "asText", "asAddresses", "asGroupedAddresses", "asMessageIds",
                "asDate", "asURLs"}  # fmt: skip
RIGHTS = {r: True for r in ("mayReadItems", "mayAddItems", "mayRemoveItems", "maySetSeen",
          "maySetKeywords", "mayCreateChild", "mayRename", "mayDelete", "maySubmit")}  # fmt: skip
Answer = list[tuple[str, Json]]
Handler = Callable[["Api", Json], Answer]


def _pick(full: Json, props: Iterable[str] | None) -> Json:
    if props is None:
        return full
    out = {"id": full["id"]}
    for prop in props:
        if prop not in full:
            raise MethodError("invalidArguments", f"unknown property {prop!r}")
        out[prop] = full[prop]
    return out


class Api:
    """One POST to apiUrl: runs its method calls in order, resolving back-references."""

    def __init__(self, server: JmapServer) -> None:
        self.s = server
        self.responses: list[list[Any]] = []
        self.created: dict[str, str] = {}  # creation id -> server id, for "#ref" ids
        self.using: set[str] = set()

    def respond(self, body: bytes) -> httpx.Response:
        limits = self.s.limits
        if len(body) > limits["maxSizeRequest"]:
            return error_response(400, "limit", "request too large", limit="maxSizeRequest")
        try:
            request = json.loads(body)
        except ValueError:
            return error_response(400, "notJSON", "the request body is not JSON")
        if not _is_request(request):
            return error_response(400, "notRequest", "expected {using, methodCalls}")
        unknown = [u for u in request["using"] if u not in (CORE, MAIL, SUBMISSION)]
        if unknown:
            return error_response(400, "unknownCapability", f"unknown capability {unknown[0]}")
        if len(request["methodCalls"]) > limits["maxCallsInRequest"]:
            detail = f"more than {limits['maxCallsInRequest']} method calls"
            return error_response(400, "limit", detail, limit="maxCallsInRequest")
        self.using = set(request["using"])
        self.created = dict(request.get("createdIds") or {})
        for name, args, call_id in request["methodCalls"]:
            self._run(name, args, call_id)
        out: Json = {"methodResponses": self.responses, "sessionState": self.s.session()["state"]}
        if "createdIds" in request:
            out["createdIds"] = self.created
        return httpx.Response(200, json=out)

    def _run(self, name: str, args: Json, call_id: str) -> None:
        try:
            capability, handler = METHODS.get(name, (None, None))
            if handler is None or capability not in self.using:
                raise MethodError("unknownMethod", f"{name} (is its capability in `using`?)")
            args = self._resolve(args)
            if capability != CORE and args.get("accountId") != self.s.account_id:
                raise MethodError("accountNotFound", f"no account {args.get('accountId')!r}")
            answers = handler(self, args)
        except MethodError as exc:
            answers = [("error", exc.as_json())]
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            answers = [("error", {"type": "invalidArguments", "description": repr(exc)})]
        self.responses.extend([n, a, call_id] for n, a in answers)

    def _resolve(self, args: object) -> Json:
        if not isinstance(args, dict):
            raise MethodError("invalidArguments", "arguments must be an object")
        out: Json = {}
        for key, value in args.items():
            if not key.startswith("#"):
                out[key] = value
            elif key[1:] in args:
                raise MethodError("invalidArguments", f"both {key} and {key[1:]} given")
            else:
                out[key[1:]] = self._follow(value)
        return out

    def _follow(self, ref: Any) -> Any:
        try:
            for name, args, call_id in self.responses:
                if call_id == ref["resultOf"] and name == ref["name"]:
                    return pointer(args, ref["path"])
        except (KeyError, IndexError, ValueError, TypeError):
            pass
        raise MethodError("invalidResultReference", f"cannot resolve {ref!r}")

    def real_id(self, raw: object) -> str:
        if not isinstance(raw, str):
            raise MethodError("invalidArguments", f"not an id: {raw!r}")
        return self.created.get(raw[1:], raw) if raw.startswith("#") else raw

    def get(self, name: str, args: Json, records: Mapping[str, Any],
            render: Callable[[Any], Json]) -> Answer:  # fmt: skip
        ids = args.get("ids")
        ids = list(records) if ids is None else ids
        if not isinstance(ids, list):
            raise MethodError("invalidArguments", "ids must be a list or null")
        if len(ids) > self.s.limits["maxObjectsInGet"]:
            raise MethodError(
                "requestTooLarge", f"more than {self.s.limits['maxObjectsInGet']} ids"
            )
        found, missing = [], []
        for raw in ids:
            record = records.get(self.real_id(raw))
            if record is None:
                missing.append(raw)
            else:
                found.append(render(record))
        answer = {"accountId": self.s.account_id, "state": str(self.s.state), "list": found,
                  "notFound": missing}  # fmt: skip
        return [(name, answer)]

    def set_answer(self, name: str, old: str, results: Mapping[str, Any]) -> Answer:
        # Like Cyrus: empty maps are null, not absent.
        answer: Json = {"accountId": self.s.account_id, "oldState": old}
        answer["newState"] = str(self.s.state)
        answer.update({k: (v or None) for k, v in results.items()})
        return [(name, answer)]


def _is_request(request: object) -> bool:
    if not isinstance(request, dict) or not isinstance(request.get("using"), list):
        return False
    calls = request.get("methodCalls")
    return isinstance(calls, list) and all(
        isinstance(c, list) and len(c) == 3 and isinstance(c[0], str) and isinstance(c[2], str)
        for c in calls
    )


def _changes(kind: str) -> Handler:
    def handler(api: Api, args: Json) -> Answer:
        since, most = args.get("sinceState"), args.get("maxChanges")
        if not isinstance(since, str):
            raise MethodError("invalidArguments", "sinceState must be a string")
        if most is not None and (not isinstance(most, int) or most < 1):
            raise MethodError("invalidArguments", "maxChanges must be a positive integer")
        out = api.s.logs[kind].since(since, most, api.s.state)
        if kind == "Mailbox":
            out["updatedProperties"] = None
        return [(f"{kind}/changes", {"accountId": api.s.account_id, **out})]

    return handler


def _check_state(api: Api, args: Json) -> None:
    wanted = args.get("ifInState")
    if wanted is not None and wanted != str(api.s.state):
        raise MethodError("stateMismatch", f"state is {api.s.state}, not {wanted}")


def _too_many(api: Api, args: Json) -> None:
    count = sum(len(args.get(k) or ()) for k in ("create", "update", "destroy"))
    if count > api.s.limits["maxObjectsInSet"]:
        raise MethodError("requestTooLarge", f"more than {api.s.limits['maxObjectsInSet']} objects")


# ---- Mailbox/* ----


def _mailbox_json(s: JmapServer, box: Mailbox) -> Json:
    cached = s.count_cache.get(box.id)
    if cached is None or cached[0] != s.state:  # counts scan the mailbox: once per state
        s.count_cache[box.id] = cached = (s.state, _mailbox_counts(s, box))
    return {
        "id": box.id, "name": box.name, "parentId": box.parent_id, "role": box.role,
        "sortOrder": box.sort_order, **cached[1], "myRights": RIGHTS, "isSubscribed": True,
    }  # fmt: skip


def _mailbox_counts(s: JmapServer, box: Mailbox) -> dict[str, int]:
    members = s.by_mailbox[box.id]
    unread = [i for i in members if "$seen" not in s.emails[i].keywords]
    return {
        "totalEmails": len(members), "unreadEmails": len(unread),
        "totalThreads": len({s.emails[i].thread_id for i in members}),
        "unreadThreads": len({s.emails[i].thread_id for i in unread}),
    }  # fmt: skip


def mailbox_get(api: Api, args: Json) -> Answer:
    props = args.get("properties")
    return api.get("Mailbox/get", args, api.s.mailboxes,
                   lambda box: _pick(_mailbox_json(api.s, box), props))  # fmt: skip


def mailbox_query(api: Api, args: Json) -> Answer:
    flt = args.get("filter") or {}
    boxes = sorted(api.s.mailboxes.values(), key=lambda b: (b.sort_order, b.name))
    for key, value in flt.items():
        if key == "role":
            boxes = [b for b in boxes if b.role == value]
        elif key == "name":
            boxes = [b for b in boxes if str(value).lower() in b.name.lower()]
        elif key == "parentId":
            boxes = [b for b in boxes if b.parent_id == value]
        elif key == "hasAnyRole":
            boxes = [b for b in boxes if (b.role is not None) == bool(value)]
        else:
            raise MethodError("unsupportedFilter", f"Mailbox filter {key!r} is not supported")
    ids = [b.id for b in boxes]
    answer = {"accountId": api.s.account_id, "queryState": str(api.s.state), "ids": ids,
              "position": 0, "total": len(ids), "canCalculateChanges": False}  # fmt: skip
    return [("Mailbox/query", answer)]


def mailbox_set(api: Api, args: Json) -> Answer:
    s = api.s
    _check_state(api, args)
    _too_many(api, args)
    old, created, not_created = str(s.state), {}, {}
    for cid, obj in (args.get("create") or {}).items():
        name = obj.get("name") if isinstance(obj, dict) else None
        if not isinstance(name, str) or not name.strip():
            not_created[cid] = {"type": "invalidProperties", "properties": ["name"]}
        elif any(
            b.name == name and b.parent_id == obj.get("parentId") for b in s.mailboxes.values()
        ):
            not_created[cid] = {"type": "invalidProperties", "properties": ["name"],
                                "description": f"a mailbox named {name!r} exists"}  # fmt: skip
        else:
            box_id = s.add_mailbox(name, obj.get("role"), obj.get("parentId"))
            api.created[cid] = box_id
            created[cid] = {"id": box_id}
    updated, not_updated = _mailbox_updates(api, args.get("update") or {})
    destroyed, not_destroyed = _mailbox_destroys(api, args)
    return api.set_answer("Mailbox/set", old, {
        "created": created, "notCreated": not_created, "updated": updated,
        "notUpdated": not_updated, "destroyed": destroyed, "notDestroyed": not_destroyed,
    })  # fmt: skip


def _mailbox_updates(api: Api, update: Json) -> tuple[Json, Json]:
    updated: Json = {}
    not_updated: Json = {}
    for raw, patch in update.items():
        box = api.s.mailboxes.get(api.real_id(raw))
        bad = [k for k in patch if k not in ("name", "sortOrder", "isSubscribed")]
        if box is None or bad:
            not_updated[raw] = {"type": "notFound" if box is None else "invalidProperties"}
            continue
        box.name = patch.get("name", box.name)
        box.sort_order = patch.get("sortOrder", box.sort_order)
        api.s.changed("Mailbox", box.id, "updated")
        updated[box.id] = None
    return updated, not_updated


def _mailbox_destroys(api: Api, args: Json) -> tuple[list[str], Json]:
    s, destroyed, not_destroyed = api.s, [], {}
    for raw in args.get("destroy") or []:
        box_id = api.real_id(raw)
        if box_id not in s.mailboxes:
            not_destroyed[raw] = {"type": "notFound"}
        elif s.by_mailbox[box_id] and not args.get("onDestroyRemoveEmails"):
            not_destroyed[raw] = {"type": "mailboxHasEmail"}
        else:
            for email_id in list(s.by_mailbox[box_id]):
                s.destroy(email_id)
            del s.mailboxes[box_id], s.by_mailbox[box_id]
            s.changed("Mailbox", box_id, "destroyed")
            destroyed.append(box_id)
    return destroyed, not_destroyed


# ---- Email/get ----


@dataclass(frozen=True)
class BodyOptions:
    text: bool
    html: bool
    max_bytes: int
    properties: list[str] | None

    @classmethod
    def from_args(cls, args: Json) -> BodyOptions:
        every = bool(args.get("fetchAllBodyValues"))
        return cls(
            text=every or bool(args.get("fetchTextBodyValues")),
            html=every or bool(args.get("fetchHTMLBodyValues")),
            max_bytes=int(args.get("maxBodyValueBytes") or 0),
            properties=args.get("bodyProperties"),
        )


def _part(email: StoredEmail, part_id: str, kind: str, text: str) -> Json:
    return {
        "partId": part_id, "blobId": f"G{email.id}.{part_id}", "size": len(text.encode()),
        "type": kind, "charset": "utf-8", "name": None, "disposition": None, "cid": None,
        "language": None, "location": None, "headers": [],
    }  # fmt: skip


def _body_parts(email: StoredEmail) -> tuple[list[Json], list[Json], Json]:
    """(textBody, htmlBody, bodyStructure); HTML-only mail lists its HTML part in textBody."""
    text = _part(email, "1", "text/plain", email.text)
    html = _part(email, "2", "text/html", email.html) if email.html is not None else None
    if html is None:
        return [text], [text], text
    if not email.text:
        return [html], [html], html
    structure = {**_part(email, "0", "multipart/alternative", ""), "subParts": [text, html]}
    return [text], [html], structure


def _truncate(text: str, limit: int) -> tuple[str, bool]:
    raw = text.encode()
    if not limit or len(raw) <= limit:
        return text, False
    return raw[:limit].decode(errors="ignore"), True


def _body_values(email: StoredEmail, text_body: list[Json], html_body: list[Json],
                 opts: BodyOptions) -> Json:  # fmt: skip
    parts = (text_body if opts.text else []) + (html_body if opts.html else [])
    values: Json = {}
    for part in parts:
        source = email.html if part["type"] == "text/html" else email.text
        value, cut = _truncate(source or "", opts.max_bytes)
        values[part["partId"]] = {"value": value, "isEncodingProblem": False, "isTruncated": cut}
    return values


def _header_form(raw: str, form: str) -> Any:
    if form == "asRaw":
        return " " + raw
    if form == "asText":
        return raw.strip()
    if form in ("asAddresses", "asGroupedAddresses"):
        found = [address(a.strip()) for a in raw.split(",") if a.strip()]
        return found if form == "asAddresses" else [{"name": None, "addresses": found}]
    if form in ("asMessageIds", "asURLs"):
        return re.findall(r"<([^>]*)>", raw) or None
    try:
        from email.utils import parsedate_to_datetime

        return utc_text(parsedate_to_datetime(raw))
    except (TypeError, ValueError):
        return None


def header_property(email: StoredEmail, prop: str) -> Any:
    """`header:Name[:asForm][:all]` (RFC 8621 4.1.3)."""
    parts = prop.split(":")
    rest = parts[2:]
    every = rest[-1:] == ["all"]
    rest = rest[:-1] if every else rest
    form = rest[0] if rest else "asRaw"
    if len(parts) < 2 or not parts[1] or len(rest) > 1 or form not in HEADER_FORMS:
        raise MethodError("invalidArguments", f"bad header property {prop!r}")
    raw = header_text(email, parts[1])
    value = None if raw is None else _header_form(raw, form)
    if every:
        return [] if raw is None else [value]
    return value


def email_json(email: StoredEmail, props: list[str], opts: BodyOptions) -> Json:
    text_body, html_body, structure = _body_parts(email)
    full: Json = {
        "id": email.id, "blobId": f"G{email.id}", "threadId": email.thread_id,
        "mailboxIds": dict(email.mailbox_ids), "keywords": dict(email.keywords),
        "size": email.size, "receivedAt": utc_text(email.received_at),
        "messageId": email.message_id or None, "inReplyTo": email.in_reply_to,
        "references": email.references, "sender": None, "from": email.from_ or None,
        "to": email.to or None, "cc": email.cc or None, "bcc": email.bcc or None,
        "replyTo": None, "subject": email.subject, "sentAt": utc_text(email.sent_at),
        "hasAttachment": False, "preview": email.preview, "attachments": [],
        "textBody": text_body, "htmlBody": html_body, "bodyStructure": structure,
        "bodyValues": _body_values(email, text_body, html_body, opts),
    }  # fmt: skip
    if opts.properties is not None:
        for key in ("textBody", "htmlBody"):
            full[key] = [_pick(p, opts.properties) for p in full[key]]
    out: Json = {"id": email.id}
    for prop in props:
        if prop.startswith("header:"):
            out[prop] = header_property(email, prop)
        elif prop in full:
            out[prop] = full[prop]
        else:
            raise MethodError("invalidArguments", f"unknown Email property {prop!r}")
    return out


def email_get(api: Api, args: Json) -> Answer:
    props = args.get("properties") or EMAIL_PROPERTIES
    opts = BodyOptions.from_args(args)
    return api.get("Email/get", args, api.s.emails, lambda e: email_json(e, props, opts))


# ---- Email/query ----

Test = Callable[[StoredEmail], bool]


def _text_in(needle: str, *fields: str | None) -> bool:
    return any(needle in (f or "").lower() for f in fields)


def _keyword_test(s: JmapServer, key: str, value: str) -> Test:
    word = value.lower()
    if key == "hasKeyword":
        return lambda e: word in e.keywords
    if key == "notKeyword":
        return lambda e: word not in e.keywords
    pick = {"allInThreadHaveKeyword": all, "someInThreadHaveKeyword": any}.get(key)
    if pick is not None:
        return lambda e: pick(word in m.keywords for m in s.thread_emails(e.thread_id))
    return lambda e: not any(word in m.keywords for m in s.thread_emails(e.thread_id))


def _condition(s: JmapServer, key: str, value: Any) -> Test:
    if key == "inMailbox":
        return lambda e: value in e.mailbox_ids
    if key == "inMailboxOtherThan":
        others = set(value)
        return lambda e: any(m not in others for m in e.mailbox_ids)
    if key in ("after", "before"):
        at = parse_utc(value)
        return (lambda e: e.received_at >= at) if key == "after" else (lambda e: e.received_at < at)
    if key in ("minSize", "maxSize"):
        return (lambda e: e.size >= value) if key == "minSize" else (lambda e: e.size < value)
    if key.endswith("Keyword"):
        return _keyword_test(s, key, value)
    if key in ("from", "to", "cc", "bcc", "subject"):
        needle = str(value).lower()
        return lambda e: _text_in(needle, header_text(e, key))
    if key in ("body", "text"):
        needle = str(value).lower()
        if key == "body":
            return lambda e: _text_in(needle, e.text, e.html)
        heads = ("from", "to", "cc", "subject")
        return lambda e: _text_in(needle, e.text, e.html, *(header_text(e, h) for h in heads))
    if key == "header" and isinstance(value, list) and 1 <= len(value) <= 2:
        want = str(value[1]).lower() if len(value) == 2 else None
        return lambda e: (
            (h := header_text(e, value[0])) is not None and (want is None or want in h.lower())
        )
    raise MethodError("unsupportedFilter", f"Email filter {key!r} is not supported")


def _predicate(s: JmapServer, flt: Any) -> Test:
    if not isinstance(flt, dict):
        raise MethodError("invalidArguments", "a filter must be an object")
    if "operator" in flt:
        subs = [_predicate(s, c) for c in flt.get("conditions", [])]
        op = flt["operator"]
        if op == "AND":
            return lambda e: all(p(e) for p in subs)
        if op == "OR":
            return lambda e: any(p(e) for p in subs)
        if op == "NOT":
            return lambda e: not any(p(e) for p in subs)
        raise MethodError("unsupportedFilter", f"operator {op!r}")
    tests = [_condition(s, k, v) for k, v in flt.items()]
    return lambda e: all(t(e) for t in tests)


SORT_KEYS: dict[str, Callable[[StoredEmail], Any]] = {
    "receivedAt": lambda e: e.received_at,
    "sentAt": lambda e: e.sent_at,
    "size": lambda e: e.size,
    "subject": lambda e: e.subject.lower(),
    "from": lambda e: e.from_[0]["email"] if e.from_ else "",
}


def _sorted_ids(s: JmapServer, sort: list[Json]) -> list[str]:
    if len(sort) == 1 and sort[0].get("property") == "receivedAt":
        ids = [i for _, i in s.sorted_emails()]
        return ids if sort[0].get("isAscending", True) else ids[::-1]
    emails = [s.emails[i] for _, i in s.sorted_emails()]
    for rule in reversed(sort):  # stable sorts, least significant first
        key = SORT_KEYS.get(rule.get("property", ""))
        if key is None:
            raise MethodError("unsupportedSort", f"cannot sort by {rule.get('property')!r}")
        emails.sort(key=key, reverse=not rule.get("isAscending", True))
    return [e.id for e in emails]


def _query_ids(s: JmapServer, flt: Any, sort: list[Json], collapse: bool) -> list[str]:
    cache_key = json.dumps([flt, sort, collapse], sort_keys=True)
    cached = s.query_cache().get(cache_key)
    if cached is not None:
        return cached
    ids = _sorted_ids(s, sort)
    box = flt.get("inMailbox") if isinstance(flt, dict) else None
    if isinstance(box, str):  # the common case: narrow by the mailbox index first
        members = s.by_mailbox.get(box, set())
        ids = [i for i in ids if i in members]
        flt = {k: v for k, v in flt.items() if k != "inMailbox"}
    if flt:
        test = _predicate(s, flt)
        ids = [i for i in ids if test(s.emails[i])]
    if collapse:
        ids = _first_per_thread(s, ids)
    s.query_cache()[cache_key] = ids
    return ids


def _first_per_thread(s: JmapServer, ids: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for email_id in ids:
        thread = s.emails[email_id].thread_id
        if thread not in seen:
            seen.add(thread)
            out.append(email_id)
    return out


def _window(ids: list[str], args: Json) -> tuple[int, list[str]]:
    position = int(args.get("position") or 0)
    anchor = args.get("anchor")
    if anchor is not None:
        if anchor not in ids:
            raise MethodError("anchorNotFound", f"{anchor!r} is not in the results")
        position = max(0, ids.index(anchor) + int(args.get("anchorOffset") or 0))
    elif position < 0:
        position = max(0, len(ids) + position)
    limit = args.get("limit")
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise MethodError("invalidArguments", "limit must be a non-negative integer")
    end = len(ids) if limit is None else position + limit
    return position, ids[position:end]


def email_query(api: Api, args: Json) -> Answer:
    sort = args.get("sort") or [{"property": "receivedAt", "isAscending": False}]
    ids = _query_ids(api.s, args.get("filter"), sort, bool(args.get("collapseThreads")))
    position, window = _window(ids, args)
    answer: Json = {"accountId": api.s.account_id, "queryState": str(api.s.state),
                    "canCalculateChanges": False, "position": position, "ids": window}  # fmt: skip
    if args.get("calculateTotal"):
        answer["total"] = len(ids)
    return [("Email/query", answer)]


def email_query_changes(api: Api, args: Json) -> Answer:
    raise MethodError("cannotCalculateChanges", "re-run Email/query")


# ---- Email/set ----


def _mailbox_ids(api: Api, value: object) -> dict[str, bool]:
    if not isinstance(value, dict) or not value:
        raise SetError("invalidProperties", "an email needs a mailbox", properties=["mailboxIds"])
    boxes = {api.real_id(k): True for k, flag in value.items() if flag is True}
    if len(boxes) != len(value) or any(b not in api.s.mailboxes for b in boxes):
        raise SetError("invalidProperties", "unknown mailbox", properties=["mailboxIds"])
    return boxes


def _address_list(obj: Json, key: str) -> list[Json]:
    value = obj.get(key) or []
    if not isinstance(value, list) or not all(isinstance(a, dict) and "email" in a for a in value):
        raise SetError("invalidProperties", f"{key} must list {{name, email}}", properties=[key])
    return [{"name": a.get("name"), "email": a["email"]} for a in value]


def _id_list(value: object, key: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = re.findall(r"<([^>]*)>", value) or [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SetError("invalidProperties", f"{key} must be a list of ids", properties=[key])
    return [bare_id(v) for v in value]


def _bodies(obj: Json) -> tuple[str, str | None]:
    values = obj.get("bodyValues") or {}
    text, html = "", None
    for key in ("textBody", "htmlBody"):
        for part in obj.get(key) or []:
            value = values.get(part.get("partId"), {}).get("value")
            if not isinstance(value, str):
                raise SetError("invalidProperties", "part without a body value", properties=[key])
            if part.get("type", "text/plain") == "text/html":
                html = value
            elif not text:
                text = value
    return text, html


def _new_email(api: Api, obj: object) -> StoredEmail:
    if not isinstance(obj, dict):
        raise SetError("invalidArguments", "an email must be an object")
    bad = [k for k in obj if k not in EMAIL_CREATE and not k.startswith("header:")]
    if bad:
        raise SetError("invalidProperties", "cannot set these", properties=bad)
    special = {"message-id": "messageId", "in-reply-to": "inReplyTo", "references": "references"}
    fields, headers = dict(obj), {}
    for key, value in obj.items():
        if key.startswith("header:"):
            name = key.split(":")[1].lower()
            if name in special:
                fields[special[name]] = value
            else:
                headers[name] = value if isinstance(value, str) else ", ".join(map(str, value))
    now = api.s.clock.now()
    received = parse_utc(fields["receivedAt"]) if "receivedAt" in fields else now
    text, html = _bodies(obj)
    return StoredEmail(
        id=api.s.new_id("M"), thread_id="",
        mailbox_ids=_mailbox_ids(api, obj.get("mailboxIds")),
        keywords=check_keywords(obj.get("keywords") or {}),
        from_=_address_list(obj, "from"), to=_address_list(obj, "to"),
        cc=_address_list(obj, "cc"), bcc=_address_list(obj, "bcc"),
        subject=str(obj.get("subject") or ""), received_at=received,
        sent_at=parse_utc(fields["sentAt"]) if "sentAt" in fields else received,
        message_id=_id_list(fields.get("messageId"), "messageId") or [],
        in_reply_to=_id_list(fields.get("inReplyTo"), "inReplyTo"),
        references=_id_list(fields.get("references"), "references"),
        text=text, html=html, headers=headers,
    )  # fmt: skip


def _patch_keyword(keywords: dict[str, bool], word: str, value: object) -> None:
    if not is_keyword(word):
        raise SetError("invalidProperties", f"bad keyword {word!r}", properties=["keywords"])
    if value is True:
        keywords[word.lower()] = True
    elif value is None:
        keywords.pop(word.lower(), None)
    else:
        raise SetError("invalidPatch", f"keywords/{word} must be true or null")


def apply_patch(api: Api, email_id: str, patch: object) -> None:
    email = api.s.emails.get(email_id)
    if email is None:
        raise SetError("notFound", f"no email {email_id!r}")
    if not isinstance(patch, dict):
        raise SetError("invalidPatch", "a patch must be an object")
    keywords, boxes = dict(email.keywords), dict(email.mailbox_ids)
    for path, value in patch.items():
        head, _, tail = path.partition("/")
        if path == "keywords":
            keywords = check_keywords(value)
        elif head == "keywords":
            _patch_keyword(keywords, tail, value)
        elif path == "mailboxIds":
            boxes = _mailbox_ids(api, value)
        elif head == "mailboxIds" and tail and value in (True, None):
            box = api.real_id(tail)
            if box not in api.s.mailboxes:
                raise SetError("invalidProperties", "unknown mailbox", properties=["mailboxIds"])
            boxes.update({box: True}) if value else boxes.pop(box, None)
        else:
            raise SetError("invalidProperties", f"cannot patch {path!r}", properties=[path])
    if not boxes:
        raise SetError("invalidProperties", "an email needs a mailbox", properties=["mailboxIds"])
    email.keywords = keywords
    if boxes != email.mailbox_ids:
        api.s.move(email_id, boxes)
    api.s.changed("Email", email_id, "updated")


def email_set(api: Api, args: Json) -> Answer:
    s = api.s
    _check_state(api, args)
    _too_many(api, args)
    old, created, not_created = str(s.state), {}, {}
    for cid, obj in (args.get("create") or {}).items():
        try:
            email_id = s.store(_new_email(api, obj))
        except SetError as exc:
            not_created[cid] = exc.as_json()
            continue
        api.created[cid] = email_id
        email = s.emails[email_id]
        created[cid] = {"id": email_id, "threadId": email.thread_id, "blobId": f"G{email_id}",
                        "size": email.size}  # fmt: skip
    updated: dict[str, None] = {}
    not_updated: Json = {}
    for raw, patch in (args.get("update") or {}).items():
        try:
            apply_patch(api, api.real_id(raw), patch)
            updated[api.real_id(raw)] = None
        except SetError as exc:
            not_updated[raw] = exc.as_json()
    destroyed, not_destroyed = [], {}
    for raw in args.get("destroy") or []:
        if api.real_id(raw) in s.emails:
            s.destroy(api.real_id(raw))
            destroyed.append(api.real_id(raw))
        else:
            not_destroyed[raw] = {"type": "notFound"}
    return api.set_answer("Email/set", old, {
        "created": created, "notCreated": not_created, "updated": updated,
        "notUpdated": not_updated, "destroyed": destroyed, "notDestroyed": not_destroyed,
    })  # fmt: skip


# ---- Thread/get, Identity/get, EmailSubmission/* ----


def thread_get(api: Api, args: Json) -> Answer:
    def render(thread: list[tuple[datetime, str]]) -> Json:
        return {"id": api.s.emails[thread[0][1]].thread_id, "emailIds": [i for _, i in thread]}

    return api.get("Thread/get", args, api.s.threads, render)


def identity_get(api: Api, args: Json) -> Answer:
    props = args.get("properties")
    return api.get("Identity/get", args, api.s.identities, lambda i: _pick(i, props))


def submission_get(api: Api, args: Json) -> Answer:
    props = args.get("properties")
    return api.get("EmailSubmission/get", args, api.s.submissions, lambda x: _pick(x, props))


def _envelope(obj: Json, email: StoredEmail, identity: Json) -> tuple[str, list[str]]:
    envelope = obj.get("envelope")
    if envelope:
        return envelope["mailFrom"]["email"], [r["email"] for r in envelope["rcptTo"]]
    return identity["email"], [a["email"] for a in email.to + email.cc + email.bcc]


def _submit(api: Api, obj: Json) -> Json:
    """Send one email: what an SMTP server would receive is appended to `sent`."""
    s = api.s
    identity = s.identities.get(str(obj.get("identityId")))
    if identity is None:
        raise SetError("invalidProperties", "unknown identity", properties=["identityId"])
    email = s.emails.get(api.real_id(obj.get("emailId", "")))
    if email is None:
        raise SetError("invalidProperties", "unknown email", properties=["emailId"])
    sender = email.from_[0]["email"] if email.from_ else ""
    if sender.lower() != identity["email"].lower():
        raise SetError("forbiddenFrom", f"identity {identity['email']} may not send as {sender}")
    mail_from, rcpt_to = _envelope(obj, email, identity)
    if not rcpt_to:
        raise SetError("noRecipients", "the email has no recipients")
    sub_id, now = s.new_id("S"), utc_text(s.clock.now())
    s.sent.append({
        "from": header_text(email, "from"), "mail_from": mail_from, "rcpt_to": rcpt_to,
        "to": [a["email"] for a in email.to], "cc": [a["email"] for a in email.cc],
        "subject": email.subject, "message-id": header_text(email, "message-id"),
        "in-reply-to": header_text(email, "in-reply-to"),
        "references": header_text(email, "references"), "body": email.text or email.html or "",
        "at": now, "email_id": email.id, "submission_id": sub_id,
    })  # fmt: skip
    sub = {"id": sub_id, "identityId": identity["id"], "emailId": email.id,
           "threadId": email.thread_id, "envelope": {"mailFrom": {"email": mail_from},
           "rcptTo": [{"email": r} for r in rcpt_to]}, "sendAt": now, "undoStatus": "final",
           "deliveryStatus": None, "dsnBlobIds": [], "mdnBlobIds": []}  # fmt: skip
    s.submissions[sub_id] = sub
    return sub


def submission_set(api: Api, args: Json) -> Answer:
    s = api.s
    _check_state(api, args)
    old, created, not_created = str(s.state), {}, {}
    done: dict[str, str] = {}  # "#creationId" or submission id -> email id
    for cid, obj in (args.get("create") or {}).items():
        try:
            sub = _submit(api, obj)
        except SetError as exc:
            not_created[cid] = exc.as_json()
            continue
        api.created[cid] = sub["id"]
        done["#" + cid] = done[sub["id"]] = sub["emailId"]
        created[cid] = {"id": sub["id"], "sendAt": sub["sendAt"], "undoStatus": "final"}
    answers = api.set_answer("EmailSubmission/set", old, {
        "created": created, "notCreated": not_created, "updated": {}, "destroyed": [],
    })  # fmt: skip
    # RFC 8621 7.5: the follow-up Email/set is answered as if the client had made it.
    update = {done[k]: p for k, p in (args.get("onSuccessUpdateEmail") or {}).items() if k in done}
    destroy = [done[k] for k in (args.get("onSuccessDestroyEmail") or []) if k in done]
    if update or destroy:
        answers += email_set(api, {"accountId": s.account_id, "update": update, "destroy": destroy})
    return answers


METHODS: dict[str, tuple[str, Handler]] = {
    "Core/echo": (CORE, lambda api, args: [("Core/echo", args)]),
    "Mailbox/get": (MAIL, mailbox_get),
    "Mailbox/query": (MAIL, mailbox_query),
    "Mailbox/set": (MAIL, mailbox_set),
    "Mailbox/changes": (MAIL, _changes("Mailbox")),
    "Email/get": (MAIL, email_get),
    "Email/query": (MAIL, email_query),
    "Email/queryChanges": (MAIL, email_query_changes),
    "Email/changes": (MAIL, _changes("Email")),
    "Email/set": (MAIL, email_set),
    "Thread/get": (MAIL, thread_get),
    "Thread/changes": (MAIL, _changes("Thread")),
    "Identity/get": (SUBMISSION, identity_get),
    "EmailSubmission/get": (SUBMISSION, submission_get),
    "EmailSubmission/set": (SUBMISSION, submission_set),
}
