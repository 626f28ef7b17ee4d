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

This module owns the JmapServer (store, indexes, state, the programmatic API the
demo and tests use, session, auth and HTTP routing) and the METHODS table. The
records and value helpers are in jmap_store, the request envelope and result
references in jmap_api, and the handlers in jmap_methods_email (Email/get, /set),
jmap_methods_query (Email/query, /queryChanges) and jmap_methods_misc (Mailbox/*,
Thread/get, Identity/get, EmailSubmission/*).
"""

from __future__ import annotations

import base64
import bisect
import hmac
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx

from triage.clock import Clock
from triage.demo.api import Api, Handler, changes
from triage.demo.methods_email import (
    email_get,
    email_set,
)
from triage.demo.methods_misc import (
    identity_get,
    mailbox_get,
    mailbox_query,
    mailbox_set,
    submission_get,
    submission_set,
    thread_get,
)
from triage.demo.methods_query import email_query, email_query_changes
from triage.demo.store import (
    API_PATH,
    BASE_URL,
    CORE,
    LIMITS,
    MAIL,
    SESSION_PATH,
    SUBMISSION,
    WELL_KNOWN,
    ChangeLog,
    Json,
    Login,
    Mailbox,
    StoredEmail,
    address,
    bare_id,
    raw_message,
)


class JmapServer:
    """The store, its indexes and its HTTP face; requests are run by `jmap_api.Api`."""

    def __init__(
        self,
        clock: Clock,
        *,
        account_id: str = "team@agency.example",
        credentials: Login | None = None,
        base_url: str = BASE_URL,
    ) -> None:
        self.clock = clock
        self.account_id = account_id
        self.credentials = credentials or Login(account_id, "demo", "demo-token")
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
        response = await self._answer(request)
        # Every answer is dated by the server's clock, as an HTTP server's are (doctor reads it).
        response.headers["Date"] = format_datetime(self.clock.now().astimezone(UTC), usegmt=True)
        return response

    async def _answer(self, request: httpx.Request) -> httpx.Response:
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
            return Api(self, METHODS).respond(body)
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


METHODS: dict[str, tuple[str, Handler]] = {
    "Core/echo": (CORE, lambda api, args: [("Core/echo", args)]),
    "Mailbox/get": (MAIL, mailbox_get),
    "Mailbox/query": (MAIL, mailbox_query),
    "Mailbox/set": (MAIL, mailbox_set),
    "Mailbox/changes": (MAIL, changes("Mailbox")),
    "Email/get": (MAIL, email_get),
    "Email/query": (MAIL, email_query),
    "Email/queryChanges": (MAIL, email_query_changes),
    "Email/changes": (MAIL, changes("Email")),
    "Email/set": (MAIL, email_set),
    "Thread/get": (MAIL, thread_get),
    "Thread/changes": (MAIL, changes("Thread")),
    "Identity/get": (SUBMISSION, identity_get),
    "EmailSubmission/get": (SUBMISSION, submission_get),
    "EmailSubmission/set": (SUBMISSION, submission_set),
}
