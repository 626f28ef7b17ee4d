"""The JMAP provider (RFC 8620 core, RFC 8621 mail) on top of `JmapHttp`.

Reads open client threads (full and incremental), fetches bodies on demand,
writes triage's shared state as keywords and note emails, and sends replies.
Requests are split to fit the server's limits (objects per get/set, calls per request).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from triage.providers.base import (
    KW_ACCOUNT_NOTE,
    KW_NOTE,
    CannotCalculateChanges,
    Delta,
    FullEmail,
    OutgoingReply,
    ProviderError,
    Snapshot,
    ThreadEmails,
)
from triage.providers.jmap.events import EventSource
from triage.providers.jmap.http import JmapHttp
from triage.providers.jmap.parse import (
    as_list,
    body_of,
    check_set,
    chunks,
    ids_of,
    objects_of,
    reply_email,
    result,
    summary_of,
    thread_of,
    went_back,
)

SUMMARY_PROPS = [
    "id", "threadId", "mailboxIds", "keywords", "from", "to", "cc", "subject",
    "receivedAt", "messageId", "inReplyTo", "references", "preview",
]  # fmt: skip
QUERY_PAGE = 1000
MAX_BODY_BYTES = 1_000_000


class JmapProvider:
    """A `Provider` speaking JMAP to one account of one server."""

    def __init__(self, http: JmapHttp, *, mailbox: str = "inbox", notes_mailbox: str = "") -> None:
        self.http = http
        self._mailbox_spec = mailbox
        self._notes_name = notes_mailbox or "Triage Notes"
        self.account_id = ""
        self.watched_mailbox = ""
        self.sent_mailbox = ""
        self.drafts_mailbox = ""
        self.notes_mailbox = ""
        self.identities: list[dict[str, Any]] = []
        self._events: EventSource | None = None

    # -- connection --------------------------------------------------------------

    async def connect(self) -> None:
        session = await self.http.connect()
        self.account_id = session.account_id
        calls: list[list[Any]] = [
            ["Mailbox/get", {"accountId": self.account_id, "ids": None,
                             "properties": ["id", "name", "role", "parentId"]}, "m"],
        ]  # fmt: skip
        if "urn:ietf:params:jmap:submission" in session.capabilities:
            calls.append(["Identity/get", {"accountId": self.account_id, "ids": None}, "i"])
        responses = await self.http.call(calls)
        mailboxes = objects_of(result(responses, "m", "Mailbox/get"), "Mailbox/get")
        self._pick_mailboxes(mailboxes)
        if len(responses) > 1:
            self.identities = objects_of(result(responses, "i", "Identity/get"), "Identity/get")
        if self._events is not None:  # connected again (after an offline start)
            await self._events.aclose()
            self._events = None
        if session.event_source_url:
            self._events = EventSource(self.http, session.event_source_url)

    def _pick_mailboxes(self, mailboxes: list[dict[str, Any]]) -> None:
        spec = self._mailbox_spec.casefold()
        by_role = {str(m.get("role") or "").casefold(): str(m["id"]) for m in mailboxes}
        by_name = {str(m.get("name") or "").casefold(): str(m["id"]) for m in mailboxes}
        watched = by_role.get(spec) or by_name.get(spec)
        if not watched:
            names = ", ".join(sorted(str(m.get("name")) for m in mailboxes))
            raise ProviderError(
                f"mailbox {self._mailbox_spec!r} not found (provider.mailbox; "
                f"use a role such as 'inbox' or one of: {names})"
            )
        self.watched_mailbox = watched
        self.sent_mailbox = by_role.get("sent", "")
        self.drafts_mailbox = by_role.get("drafts", "")
        self.notes_mailbox = by_name.get(self._notes_name.casefold(), "")

    async def aclose(self) -> None:
        if self._events is not None:
            await self._events.aclose()
        await self.http.aclose()

    # -- reading -------------------------------------------------------------------

    async def full_sync(self) -> Snapshot:
        """Every thread with a message in the watched mailbox, and the state to go on from."""
        state = await self._email_state()
        seeds = await self._query_all({"inMailbox": self.watched_mailbox}, collapse=True)
        heads = await self._get_emails(seeds, ["id", "threadId"])
        thread_ids = sorted({thread_of(e) for e in heads})
        threads, _gone = await self._threads(thread_ids)
        notes = await self._note_bodies(threads)
        notes.update(await self._account_notes())
        return Snapshot(state=state, threads=tuple(threads), notes=notes)

    async def changes(self, since_state: str, email_threads: Mapping[str, str]) -> Delta:
        """What changed since `since_state`: the threads to refresh and the ones gone."""
        changed: set[str] = set()
        destroyed: set[str] = set()
        state = since_state
        while True:
            args = {"accountId": self.account_id, "sinceState": state, "maxChanges": 5000}
            r = result(await self.http.call([["Email/changes", args, "c"]]), "c", "Email/changes")
            if went_back(state, r.get("newState")):
                # Cyrus answers a state from its future (a server restored from a backup)
                # with "no changes" and an older newState: our cache is not its past.
                raise CannotCalculateChanges("Email/changes: the server is behind our sync state")
            changed.update(ids_of(r.get("created"), "Email/changes"))
            changed.update(ids_of(r.get("updated"), "Email/changes"))
            destroyed.update(ids_of(r.get("destroyed"), "Email/changes"))
            if r.get("hasMoreChanges") and str(r.get("newState") or state) == state:
                raise ProviderError("Email/changes: the server has more changes but no new state")
            state = str(r.get("newState") or state)
            if not r.get("hasMoreChanges"):
                break
        if not changed and not destroyed:
            return Delta(state, (), (), (), {})
        heads = await self._get_emails(sorted(changed), ["id", "threadId"])
        thread_ids = {thread_of(e) for e in heads}
        thread_ids.update(t for e, t in email_threads.items() if e in destroyed)
        threads, gone = await self._threads(sorted(thread_ids))
        notes = await self._note_bodies(threads)
        if any(KW_ACCOUNT_NOTE in e.keywords for t in threads for e in t.emails):
            notes.update(await self._account_notes())
        return Delta(state, tuple(threads), tuple(gone), tuple(sorted(destroyed)), notes)

    async def bodies(self, email_ids: list[str]) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Plain text of each email (HTML-only mail converted locally), with warnings."""
        await self._ready()
        args = {
            "properties": ["id", "textBody", "htmlBody", "bodyValues"],
            "fetchTextBodyValues": True,
            "fetchHTMLBodyValues": True,
            "maxBodyValueBytes": MAX_BODY_BYTES,
        }
        emails = await self._get_emails(email_ids, None, extra=args)
        return {str(e["id"]): body_of(e) for e in emails}

    async def thread_email_ids(self, thread_id: str) -> list[str]:
        """The thread's email ids as the server has them now (notes included)."""
        await self._ready()
        threads = await self._get_many("Thread/get", [thread_id], {})
        return [str(i) for t in threads for i in as_list(t.get("emailIds"))]

    async def messages(self, email_ids: list[str]) -> list[FullEmail]:
        """Headers and text of each email, for the thread view (oldest first)."""
        await self._ready()
        args = {
            "properties": [*SUMMARY_PROPS, "textBody", "htmlBody", "bodyValues"],
            "fetchTextBodyValues": True,
            "fetchHTMLBodyValues": True,
            "maxBodyValueBytes": MAX_BODY_BYTES,
        }
        emails = await self._get_emails(email_ids, None, extra=args)
        out = [FullEmail(summary_of(e), *body_of(e)) for e in emails]
        return sorted(out, key=lambda m: m.summary.received_at)

    async def _email_state(self) -> str:
        call = ["Email/get", {"accountId": self.account_id, "ids": [], "properties": ["id"]}, "s"]
        return str(result(await self.http.call([call]), "s", "Email/get").get("state", ""))

    async def _query_all(self, flt: dict[str, Any], *, collapse: bool) -> list[str]:
        ids: list[str] = []
        while True:
            args = {
                "accountId": self.account_id,
                "filter": flt,
                "sort": [{"property": "receivedAt", "isAscending": False}],
                "collapseThreads": collapse,
                "position": len(ids),
                "limit": QUERY_PAGE,
            }
            r = result(await self.http.call([["Email/query", args, "q"]]), "q", "Email/query")
            page = ids_of(r.get("ids"), "Email/query")
            ids.extend(page)
            if len(page) < QUERY_PAGE:
                return ids

    async def _get_emails(
        self, ids: list[str], props: list[str] | None, *, extra: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        args: dict[str, Any] = {"properties": props} if props is not None else {}
        args.update(extra or {})
        return await self._get_many("Email/get", ids, args)

    async def _get_many(
        self, method: str, ids: list[str], args: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """`Foo/get` over many ids, split to fit maxObjectsInGet and maxCallsInRequest."""
        if not ids:
            return []
        limits = self._limits()
        calls = [
            [method, {"accountId": self.account_id, "ids": chunk, **args}, f"g{n}"]
            for n, chunk in enumerate(chunks(ids, limits.max_get))
        ]
        batches = list(chunks(calls, limits.max_calls))
        answers = await asyncio.gather(*(self.http.call(b) for b in batches))
        out: list[dict[str, Any]] = []
        for batch, responses in zip(batches, answers, strict=True):
            for call in batch:
                out.extend(objects_of(result(responses, str(call[2]), method), method))
        return out

    async def _threads(self, thread_ids: list[str]) -> tuple[list[ThreadEmails], list[str]]:
        threads = await self._get_many("Thread/get", thread_ids, {})
        found = {str(t["id"]): ids_of(t.get("emailIds"), "Thread/get") for t in threads}
        gone = [t for t in thread_ids if t not in found]
        all_ids = [i for ids in found.values() for i in ids]
        emails = {str(e["id"]): e for e in await self._get_emails(all_ids, SUMMARY_PROPS)}
        out = []
        for tid, ids in found.items():
            summaries = [summary_of(emails[i]) for i in ids if i in emails]
            summaries.sort(key=lambda e: e.received_at)
            if summaries:
                out.append(ThreadEmails(tid, tuple(summaries)))
            else:
                gone.append(tid)
        return out, gone

    async def _note_bodies(self, threads: list[ThreadEmails]) -> dict[str, str]:
        ids = [e.id for t in threads for e in t.emails if KW_NOTE in e.keywords]
        return {i: text for i, (text, _w) in (await self.bodies(ids)).items()}

    async def _account_notes(self) -> dict[str, str]:
        if not self.notes_mailbox:
            return {}
        flt = {"inMailbox": self.notes_mailbox, "hasKeyword": KW_ACCOUNT_NOTE}
        ids = await self._query_all(flt, collapse=False)
        return {i: text for i, (text, _w) in (await self.bodies(ids)).items()}

    def _limits(self) -> Any:
        assert self.http.session is not None
        return self.http.session.limits

    async def _ready(self) -> None:
        """Connect first when no sync has yet (an action right after an offline start)."""
        if self.http.session is None or not self.watched_mailbox:
            await self.connect()

    # -- writing ------------------------------------------------------------------

    async def set_keywords(self, email_ids: list[str], patch: dict[str, bool | None]) -> None:
        """Apply one keyword patch to many emails (triage's shared flags)."""
        await self._ready()
        updates = {i: {f"keywords/{k}": v for k, v in patch.items()} for i in email_ids}
        for chunk in chunks(list(updates), self._limits().max_set):
            args = {"accountId": self.account_id, "update": {i: updates[i] for i in chunk}}
            r = result(await self.http.call([["Email/set", args, "u"]]), "u", "Email/set")
            check_set(r, "notUpdated", "could not update the conversation's flags")

    async def add_note(self, subject: str, refs: list[str], note_json: str, account: bool) -> None:
        """File a note email (reasons, history) that joins the thread but is never a reply."""
        await self._ready()
        mailbox = await self._ensure_notes_mailbox()
        keywords = {KW_NOTE: True, "$seen": True}
        if account:
            keywords[KW_ACCOUNT_NOTE] = True
        email: dict[str, Any] = {
            "mailboxIds": {mailbox: True},
            "keywords": keywords,
            "from": [{"name": "triage", "email": self._identity()["email"]}],
            "subject": "triage note",
            "bodyValues": {"1": {"value": note_json}},
            "textBody": [{"partId": "1", "type": "text/plain"}],
        }
        if refs:
            # References make the note join the client's thread (Cyrus also wants "Re:").
            email["subject"] = "Re: " + subject
            email["references"] = [r.strip("<>") for r in refs]
            email["inReplyTo"] = email["references"][-1:]
        args = {"accountId": self.account_id, "create": {"note": email}}
        r = result(await self.http.call([["Email/set", args, "n"]]), "n", "Email/set")
        check_set(r, "notCreated", "could not file the triage note")

    async def _ensure_notes_mailbox(self) -> str:
        if self.notes_mailbox:
            return self.notes_mailbox
        args = {"accountId": self.account_id, "create": {"nb": {"name": self._notes_name}}}
        r = result(await self.http.call([["Mailbox/set", args, "b"]]), "b", "Mailbox/set")
        created = (r.get("created") or {}).get("nb")
        if not isinstance(created, dict) or "id" not in created:
            raise ProviderError(f"could not create the mailbox {self._notes_name!r}: {r}")
        self.notes_mailbox = str(created["id"])
        return self.notes_mailbox

    def _identity(self, email: str = "") -> dict[str, Any]:
        for ident in self.identities:
            if str(ident.get("email", "")).casefold() == email.casefold():
                return ident
        if self.identities:
            return self.identities[0]
        return {"id": "", "email": self.account_id if "@" in self.account_id else ""}

    async def send(self, reply: OutgoingReply) -> None:
        """Create the reply and submit it in one request; the draft moves to Sent."""
        await self._ready()
        ident = self._identity(reply.from_email)
        if not ident.get("id"):
            raise ProviderError("the server offers no sending identity for this account")
        drafts = self.drafts_mailbox or self.sent_mailbox or self.watched_mailbox
        email = reply_email(reply, str(ident["email"]), drafts)
        on_success: dict[str, Any] = {"keywords/$draft": None}
        if self.sent_mailbox and self.sent_mailbox != drafts:
            on_success[f"mailboxIds/{drafts}"] = None
            on_success[f"mailboxIds/{self.sent_mailbox}"] = True
        calls = [
            ["Email/set", {"accountId": self.account_id, "create": {"r": email}}, "e"],
            ["EmailSubmission/set", {
                "accountId": self.account_id,
                "create": {"s": {"identityId": ident["id"], "emailId": "#r"}},
                "onSuccessUpdateEmail": {"#s": on_success},
            }, "s"],
        ]  # fmt: skip
        responses = await self.http.call(calls, idempotent=False)
        check_set(result(responses, "e", "Email/set"), "notCreated", "could not create the reply")
        sub = result(responses, "s", "EmailSubmission/set")
        check_set(sub, "notCreated", "the server refused to send the reply")

    async def find_sent(self, message_id: str) -> tuple[str, str] | None:
        """Look our Message-ID up in Sent and Drafts: ("sent" | "draft", email id) or None.

        Scans the newest messages of both mailboxes instead of a header search,
        because servers index new mail for search with a delay.
        """
        await self._ready()
        wanted = message_id.strip("<>")
        for mailbox, status in ((self.sent_mailbox, "sent"), (self.drafts_mailbox, "draft")):
            if not mailbox:
                continue
            args = {
                "accountId": self.account_id,
                "filter": {"inMailbox": mailbox},
                "sort": [{"property": "receivedAt", "isAscending": False}],
                "limit": 200,
            }
            answer = result(await self.http.call([["Email/query", args, "q"]]), "q", "Email/query")
            # A malformed answer must fail, not read as "not sent": that would send twice.
            ids = ids_of(answer.get("ids"), "Email/query")
            for e in await self._get_emails([str(i) for i in ids], ["id", "messageId"]):
                if wanted in [str(m).strip("<>") for m in as_list(e.get("messageId"))]:
                    return status, str(e["id"])
        return None

    async def submit_existing(self, email_id: str, from_email: str) -> None:
        """Send a reply whose draft exists already (created before a lost connection)."""
        await self._ready()
        ident = self._identity(from_email)
        on_success: dict[str, Any] = {"keywords/$draft": None}
        if self.sent_mailbox and self.drafts_mailbox:
            on_success[f"mailboxIds/{self.drafts_mailbox}"] = None
            on_success[f"mailboxIds/{self.sent_mailbox}"] = True
        args = {
            "accountId": self.account_id,
            "create": {"s": {"identityId": ident.get("id", ""), "emailId": email_id}},
            "onSuccessUpdateEmail": {"#s": on_success},
        }
        r = await self.http.call([["EmailSubmission/set", args, "s"]], idempotent=False)
        check_set(result(r, "s", "EmailSubmission/set"), "notCreated", "could not send")

    async def wait_for_push(self, timeout: float) -> bool:
        """Wait for a push event (True) or the timeout (False): polling when push is absent."""
        if self._events is not None and await self._events.supported():
            return await self._events.wait(timeout)
        await asyncio.sleep(timeout)
        return False
