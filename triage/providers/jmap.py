"""The JMAP provider (RFC 8620 core, RFC 8621 mail) on top of `JmapHttp`.

Reads open client threads (full and incremental), fetches bodies on demand,
writes triage's shared state as keywords and note emails, and sends replies.
Requests are split to fit the server's limits (objects per get/set, calls per request).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from triage.mailtext import html_to_text
from triage.providers.base import (
    KW_ACCOUNT_NOTE,
    KW_NOTE,
    CannotCalculateChanges,
    Delta,
    EmailSummary,
    FullEmail,
    OutgoingReply,
    ProviderError,
    Snapshot,
    ThreadEmails,
)
from triage.providers.events import EventSource
from triage.providers.http import JmapHttp

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
        mailboxes = _objects(_result(responses, "m", "Mailbox/get"), "Mailbox/get")
        self._pick_mailboxes(mailboxes)
        if len(responses) > 1:
            self.identities = _objects(_result(responses, "i", "Identity/get"), "Identity/get")
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
        thread_ids = sorted({_thread_of(e) for e in heads})
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
            r = _result(await self.http.call([["Email/changes", args, "c"]]), "c", "Email/changes")
            if _went_back(state, r.get("newState")):
                # Cyrus answers a state from its future (a server restored from a backup)
                # with "no changes" and an older newState: our cache is not its past.
                raise CannotCalculateChanges("Email/changes: the server is behind our sync state")
            changed.update(_ids(r.get("created"), "Email/changes"))
            changed.update(_ids(r.get("updated"), "Email/changes"))
            destroyed.update(_ids(r.get("destroyed"), "Email/changes"))
            if r.get("hasMoreChanges") and str(r.get("newState") or state) == state:
                raise ProviderError("Email/changes: the server has more changes but no new state")
            state = str(r.get("newState") or state)
            if not r.get("hasMoreChanges"):
                break
        if not changed and not destroyed:
            return Delta(state, (), (), (), {})
        heads = await self._get_emails(sorted(changed), ["id", "threadId"])
        thread_ids = {_thread_of(e) for e in heads}
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
        return str(_result(await self.http.call([call]), "s", "Email/get").get("state", ""))

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
            r = _result(await self.http.call([["Email/query", args, "q"]]), "q", "Email/query")
            page = _ids(r.get("ids"), "Email/query")
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
            for n, chunk in enumerate(_chunks(ids, limits.max_get))
        ]
        batches = list(_chunks(calls, limits.max_calls))
        answers = await asyncio.gather(*(self.http.call(b) for b in batches))
        out: list[dict[str, Any]] = []
        for batch, responses in zip(batches, answers, strict=True):
            for call in batch:
                out.extend(_objects(_result(responses, str(call[2]), method), method))
        return out

    async def _threads(self, thread_ids: list[str]) -> tuple[list[ThreadEmails], list[str]]:
        threads = await self._get_many("Thread/get", thread_ids, {})
        found = {str(t["id"]): _ids(t.get("emailIds"), "Thread/get") for t in threads}
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
        for chunk in _chunks(list(updates), self._limits().max_set):
            args = {"accountId": self.account_id, "update": {i: updates[i] for i in chunk}}
            r = _result(await self.http.call([["Email/set", args, "u"]]), "u", "Email/set")
            _check_set(r, "notUpdated", "could not update the conversation's flags")

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
        r = _result(await self.http.call([["Email/set", args, "n"]]), "n", "Email/set")
        _check_set(r, "notCreated", "could not file the triage note")

    async def _ensure_notes_mailbox(self) -> str:
        if self.notes_mailbox:
            return self.notes_mailbox
        args = {"accountId": self.account_id, "create": {"nb": {"name": self._notes_name}}}
        r = _result(await self.http.call([["Mailbox/set", args, "b"]]), "b", "Mailbox/set")
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
        _check_set(_result(responses, "e", "Email/set"), "notCreated", "could not create the reply")
        sub = _result(responses, "s", "EmailSubmission/set")
        _check_set(sub, "notCreated", "the server refused to send the reply")

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
            ids = _list(_result(await self.http.call([["Email/query", args, "q"]]), "q",
                                "Email/query").get("ids"))  # fmt: skip
            for e in await self._get_emails([str(i) for i in ids], ["id", "messageId"]):
                if wanted in [str(m).strip("<>") for m in _list(e.get("messageId"))]:
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
        _check_set(_result(r, "s", "EmailSubmission/set"), "notCreated", "could not send")

    async def wait_for_push(self, timeout: float) -> bool:
        """Wait for a push event (True) or the timeout (False): polling when push is absent."""
        if self._events is not None and await self._events.supported():
            return await self._events.wait(timeout)
        await asyncio.sleep(timeout)
        return False


# -- parsing helpers (pure) ----------------------------------------------------------


def _result(responses: list[list[Any]], call_id: str, method: str) -> dict[str, Any]:
    """The arguments of one method response, or a typed error (RFC 8620 section 3.6.2)."""
    for name, args, cid in responses:
        if cid != call_id:
            continue
        if name == "error":
            raise method_error(method, args)
        if name == method:  # implicit calls (onSuccessUpdateEmail) share the call id
            return dict(args)
    raise ProviderError(f"{method}: the server did not answer this call")


def method_error(method: str, args: dict[str, Any]) -> ProviderError:
    kind = str(args.get("type", "serverFail"))
    detail = str(args.get("description", ""))[:200]
    if kind == "cannotCalculateChanges":
        return CannotCalculateChanges(f"{method}: the server cannot calculate changes")
    if kind == "invalidArguments" and "sinceState" in _list(args.get("arguments")):
        # Cyrus answers a state it cannot parse (another server's, a garbled cache) this
        # way instead of cannotCalculateChanges: either way only a full resync helps.
        return CannotCalculateChanges(f"{method}: the server does not know our sync state")
    text = {
        "unknownMethod": "the server does not support this method",
        "invalidArguments": "the server rejected the arguments",
        "accountNotFound": "the account was not found (check provider.account)",
        "accountNotSupportedByMethod": "the account does not support mail",
        "accountReadOnly": "the account is read-only",
        "forbidden": "the server forbids this for this account",
        "requestTooLarge": "the request was too large for the server",
        "serverUnavailable": "the server is temporarily unavailable",
        "serverFail": "the server failed",
        "serverPartialFail": "the server partly failed",
        "stateMismatch": "the data changed on the server meanwhile",
        "tooManyChanges": "too many changes at once",
    }.get(kind, f"the server answered with an error ({kind})")
    return ProviderError(f"{method}: {text}" + (f": {detail}" if detail else ""))


def _check_set(r: dict[str, Any], key: str, what: str) -> None:
    failed = r.get(key)
    if failed:
        first = next(iter(failed.values())) if isinstance(failed, dict) else None
        kind = first.get("type", "error") if isinstance(first, dict) else "error"
        desc = first.get("description", "") if isinstance(first, dict) else ""
        raise ProviderError(f"{what}: {kind} {desc}".strip())


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# A malformed answer must fail the round, never read as "no mail": an empty list
# here would make the sync drop conversations from the cache.
def _ids(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
        raise ProviderError(f"{what}: the server's answer is not a list of ids")
    return value


def _objects(r: dict[str, Any], method: str) -> list[dict[str, Any]]:
    """The `list` of a Foo/get answer: objects with a string id, or an error."""
    items = r.get("list")
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and isinstance(i.get("id"), str) for i in items
    ):
        raise ProviderError(f"{method}: the server sent a malformed list")
    return items


def _thread_of(e: dict[str, Any]) -> str:
    if not isinstance(e.get("threadId"), str):
        raise ProviderError("the server sent an email without threadId")
    return str(e["threadId"])


def _flags(e: dict[str, Any], key: str) -> dict[str, Any]:
    value = e.get(key) or {}
    if not isinstance(value, dict):
        raise ProviderError(f"the server sent an email whose {key} is not an object")
    return value


def _went_back(since: str, new: Any) -> bool:
    """True when decimal states (Cyrus's modseqs) go backwards: a full resync is needed."""
    return since.isdigit() and isinstance(new, str) and new.isdigit() and int(new) < int(since)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), max(1, size)):
        yield items[i : i + size]


def _addresses(value: Any) -> list[tuple[str, str]]:
    out = []
    for a in _list(value):
        if isinstance(a, dict):
            out.append((str(a.get("name") or ""), str(a.get("email") or "")))
    return out


def parse_utc(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ProviderError("an email has no valid receivedAt date")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        raise ProviderError(f"an email has an unreadable date: {value[:40]!r}") from None


def summary_of(e: dict[str, Any]) -> EmailSummary:
    """An `Email/get` object (summary properties) -> EmailSummary; wrong types are errors."""
    if not isinstance(e.get("id"), str) or not isinstance(e.get("threadId"), str):
        raise ProviderError("the server sent an email without id or threadId")
    sender = _addresses(e.get("from"))
    to = _addresses(e.get("to"))
    mids = [str(m) for m in _list(e.get("messageId"))]
    return EmailSummary(
        id=e["id"],
        thread_id=e["threadId"],
        mailbox_ids=frozenset(k for k, v in _flags(e, "mailboxIds").items() if v),
        keywords=frozenset(k.casefold() for k, v in _flags(e, "keywords").items() if v),
        from_name=sender[0][0] if sender else "",
        from_email=sender[0][1] if sender else "",
        to=tuple(a for _n, a in to),
        to_names=tuple(n for n, _a in to),
        cc=tuple(a for _n, a in _addresses(e.get("cc"))),
        subject=str(e.get("subject") or ""),
        received_at=parse_utc(e.get("receivedAt")),
        message_id=mids[0] if mids else "",
        in_reply_to=tuple(str(m) for m in _list(e.get("inReplyTo"))),
        references=tuple(str(m) for m in _list(e.get("references"))),
        preview=str(e.get("preview") or ""),
    )


def body_of(e: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """Text of an email from its body parts; HTML is converted without fetching anything."""
    values = e.get("bodyValues")
    values = values if isinstance(values, dict) else {}
    warnings: list[str] = []

    def text_of(parts: Any) -> tuple[str, bool]:
        chunks, html = [], False
        for p in _list(parts):
            v = values.get(str(p.get("partId"))) if isinstance(p, dict) else None
            if not isinstance(v, dict):
                continue
            if v.get("isTruncated"):
                warnings.append("this message is long: only the first part is shown")
            if v.get("isEncodingProblem"):
                warnings.append("this message has a broken character set: some text may be wrong")
            html = html or p.get("type") == "text/html"
            chunks.append(str(v.get("value") or ""))
        return "\n".join(chunks), html

    text, is_html = text_of(e.get("textBody"))
    if not text:
        text, is_html = text_of(e.get("htmlBody"))
    if is_html:
        text = html_to_text(text)
    return text, tuple(dict.fromkeys(warnings))


def reply_email(reply: OutgoingReply, from_email: str, mailbox: str) -> dict[str, Any]:
    """The Email/set object of a reply (headers already made safe by the caller)."""
    return {
        "mailboxIds": {mailbox: True},
        "keywords": {"$draft": True, "$seen": True},
        "from": [{"name": reply.from_name, "email": from_email}],
        "to": [{"email": a} for a in reply.to],
        "cc": [{"email": a} for a in reply.cc],
        "subject": reply.subject,
        "messageId": [reply.message_id.strip("<>")],
        "inReplyTo": [reply.in_reply_to.strip("<>")] if reply.in_reply_to else None,
        "references": [r.strip("<>") for r in reply.references] or None,
        "bodyValues": {"1": {"value": reply.body}},
        "textBody": [{"partId": "1", "type": "text/plain"}],
    }
