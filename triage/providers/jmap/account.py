"""One JMAP mail account as the provider uses it: its mailboxes, identities and limits,
and the request helpers that split calls to fit the server's limits.

`connect()` reads the session, the mailboxes (the watched one, Sent, Drafts and
the notes mailbox) and the sending identities; `get_many` and `query_all` send
`Foo/get` and `Email/query` calls within maxObjectsInGet / maxCallsInRequest.
"""

from __future__ import annotations

import asyncio
from typing import Any

from triage.providers.base import ProviderError
from triage.providers.jmap.http import AnswerTooLarge, JmapHttp, Limits, Session, Undecodable
from triage.providers.jmap.parse import chunks, ids_of, objects_of, result

QUERY_PAGE = 1000
GET_CHUNK = 256  # objects per Email/get call: answers stay small even with long headers
MAX_QUERY_IDS = 2_000_000  # far above any real mailbox; bounds memory against a broken server
Json = dict[str, Any]


class JmapAccount:
    """The account's mailboxes and identities, and calls that fit the server's limits."""

    def __init__(self, http: JmapHttp, *, mailbox: str = "inbox", notes_mailbox: str = "") -> None:
        self.http = http
        self.mailbox_spec = mailbox
        self.notes_name = notes_mailbox or "Triage Notes"
        self.id = ""
        self.watched = ""
        self.sent = ""
        self.drafts = ""
        self.notes = ""
        self.identities: list[Json] = []

    async def connect(self) -> Session:
        session = await self.http.connect()
        self.id = session.account_id
        calls: list[list[Any]] = [
            ["Mailbox/get", {"accountId": self.id, "ids": None,
                             "properties": ["id", "name", "role", "parentId"]}, "m"],
        ]  # fmt: skip
        if "urn:ietf:params:jmap:submission" in session.capabilities:
            calls.append(["Identity/get", {"accountId": self.id, "ids": None}, "i"])
        responses = await self.http.call(calls)
        self._pick_mailboxes(objects_of(result(responses, "m", "Mailbox/get"), "Mailbox/get"))
        if len(responses) > 1:
            self.identities = objects_of(result(responses, "i", "Identity/get"), "Identity/get")
        return session

    def _pick_mailboxes(self, mailboxes: list[Json]) -> None:
        spec = self.mailbox_spec.casefold()
        by_role = {str(m.get("role") or "").casefold(): str(m["id"]) for m in mailboxes}
        by_name = {str(m.get("name") or "").casefold(): str(m["id"]) for m in mailboxes}
        watched = by_role.get(spec) or by_name.get(spec)
        if not watched:
            names = ", ".join(sorted(str(m.get("name")) for m in mailboxes))
            raise ProviderError(
                f"mailbox {self.mailbox_spec!r} not found (provider.mailbox; "
                f"use a role such as 'inbox' or one of: {names})"
            )
        self.watched = watched
        self.sent = by_role.get("sent", "")
        self.drafts = by_role.get("drafts", "")
        self.notes = by_name.get(self.notes_name.casefold(), "")

    async def ready(self) -> None:
        """Connect first when no sync has yet (an action right after an offline start)."""
        if self.http.session is None or not self.watched:
            await self.connect()

    @property
    def limits(self) -> Limits:
        assert self.http.session is not None, "connect() first"
        return self.http.session.limits

    def identity(self, email: str = "") -> Json:
        """The sending identity for `email`, else the account's first one."""
        for ident in self.identities:
            if str(ident.get("email", "")).casefold() == email.casefold():
                return ident
        if self.identities:
            return self.identities[0]
        return {"id": "", "email": self.id if "@" in self.id else ""}

    async def call(self, method: str, args: Json, *, idempotent: bool = True) -> Json:
        """One method call in one request; its answer's arguments."""
        responses = await self.http.call([[method, {"accountId": self.id, **args}, "c"]],
                                         idempotent=idempotent)  # fmt: skip
        return result(responses, "c", method)

    async def get_many(self, method: str, ids: list[str], args: Json) -> list[Json]:
        """`Foo/get` over many ids, split to fit maxObjectsInGet and maxCallsInRequest.

        A request whose answer is too large (huge header fields on many emails) or
        cannot be read is asked again in halves, down to one object; an object that
        cannot be fetched even alone is left out, for the caller to show as unreadable."""
        if not ids:
            return []
        limits = self.limits
        chunked = list(chunks(ids, min(limits.max_get, GET_CHUNK)))
        batches = list(chunks(chunked, limits.max_calls))
        answers = await asyncio.gather(*(self._get_batch(method, b, args) for b in batches))
        return [obj for answer in answers for obj in answer]

    async def _get_batch(self, method: str, id_chunks: list[list[str]], args: Json) -> list[Json]:
        calls = [[method, {"accountId": self.id, "ids": c, **args}, f"g{n}"]
                 for n, c in enumerate(id_chunks)]  # fmt: skip
        try:
            responses = await self.http.call(calls)
        except (AnswerTooLarge, Undecodable):
            if len(id_chunks) == 1 and len(id_chunks[0]) == 1:
                return []  # this one object cannot be fetched: left for the caller to flag
            halves = _halves(id_chunks)
            parts = [await self._get_batch(method, h, args) for h in halves]
            return [obj for part in parts for obj in part]
        out: list[Json] = []
        for call in calls:
            out.extend(objects_of(result(responses, str(call[2]), method), method))
        return out

    async def get_emails(
        self, ids: list[str], props: list[str] | None, *, extra: Json | None = None
    ) -> list[Json]:
        args: Json = {"properties": props} if props is not None else {}
        args.update(extra or {})
        return await self.get_many("Email/get", ids, args)

    async def query_all(self, flt: Json, *, collapse: bool) -> list[str]:
        """Every id an `Email/query` matches, newest first, page by page.

        A server that ignores paging (the same page again, or pages without end)
        is detected and reported instead of looping with memory growing."""
        ids: list[str] = []
        seen: set[str] = set()
        while True:
            args = {
                "filter": flt,
                "sort": [{"property": "receivedAt", "isAscending": False}],
                "collapseThreads": collapse,
                "position": len(ids),
                "limit": QUERY_PAGE,
            }
            page = ids_of((await self.call("Email/query", args)).get("ids"), "Email/query")
            fresh = [i for i in page if i not in seen]
            if page and not fresh:
                raise ProviderError(
                    "Email/query: the server sent the same page again (it ignores paging)"
                )
            if len(ids) + len(fresh) > MAX_QUERY_IDS:
                raise ProviderError(f"Email/query: more than {MAX_QUERY_IDS} results")
            ids.extend(fresh)
            seen.update(fresh)
            if len(page) < QUERY_PAGE:
                return ids


def _halves(id_chunks: list[list[str]]) -> list[list[list[str]]]:
    """One request's calls split in two: by call, or a single call's ids by half."""
    if len(id_chunks) > 1:
        mid = len(id_chunks) // 2
        return [id_chunks[:mid], id_chunks[mid:]]
    ids = id_chunks[0]
    return [[ids[: len(ids) // 2]], [ids[len(ids) // 2 :]]]
