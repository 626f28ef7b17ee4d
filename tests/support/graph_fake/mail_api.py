"""The fake's mail endpoints: what Graph does for one request on one mailbox.

The requests the provider sends, and only those, shaped from the API reference
(learn.microsoft.com/graph/api: mailfolder-get, user-list-mailfolders,
user-post-mailfolders, message-delta, user-list-messages, message-get, message-update,
message-delete, message-createreply, message-send, message-move, mailfolder-post-messages):
answers, status codes and error codes as documented there. A PATCH with a stale
`If-Match` is a 412; a draft's From must be the mailbox that sends it; sending from
a shared mailbox needs Send As; a sent message's body, subject and Message-ID can no
longer change.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.support.graph_fake.odata import (
    BadQuery,
    message_filter,
    render,
    select_of,
    top_of,
)
from tests.support.graph_fake.store import FakeMailbox, FakeMessage, bare

Json = dict[str, Any]
Answer = tuple[int, dict[str, str], Json | None]
DRAFT_ONLY = {
    "subject",
    "body",
    "toRecipients",
    "ccRecipients",
    "internetMessageId",
    "from",
    "replyTo",
}
UPDATABLE = DRAFT_ONLY | {"categories", "isRead"}
_FOLDER_CALL = re.compile(r"mailFolders\('([^']*)'\)")


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Answer:
    return status, headers or {}, {"error": {"code": code, "message": message}}


@dataclass
class Request:
    """One request on a mailbox: the path after the mailbox (`/messages/{id}/send`)."""

    method: str
    tail: list[str]
    query: dict[str, str]
    body: Any
    prefer: str
    if_match: str
    link_base: str  # where nextLink and deltaLink point: the API URL and the mailbox's path
    may_send: bool


@dataclass
class SentRecord:
    """A message as its recipients received it."""

    from_name: str
    from_email: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    message_id: str
    in_reply_to: str
    references: tuple[str, ...]
    body: str


@dataclass
class MailApi:
    """The mail endpoints over one mailbox (the server finds it and checks access)."""

    box: FakeMailbox
    now: Callable[[], datetime]
    sent: list[SentRecord]
    delta: Callable[[FakeMailbox, str, Request], Answer]
    max_page: int = 1000
    pending: dict[str, Any] = field(default_factory=dict)

    def handle(self, r: Request) -> Answer:
        tail = _FOLDER_CALL.sub(lambda m: "mailFolders/" + m.group(1), "/".join(r.tail)).split("/")
        try:
            return self._route(r, tail)
        except BadQuery as e:
            return error(400, e.code, str(e))

    def _route(self, r: Request, tail: list[str]) -> Answer:
        head, n = tail[0] if tail else "", len(tail)
        if head == "mailFolders" and n == 1:
            return self._list_folders(r) if r.method == "GET" else self._new_folder(r)
        if head == "mailFolders" and n == 2 and r.method == "GET":
            return self._folder(tail[1])
        if head == "mailFolders" and tail[2:] == ["messages", "delta"]:
            return self.delta(self.box, tail[1], r)
        if head == "mailFolders" and tail[2:] == ["messages"] and r.method == "POST":
            return self._create_in(tail[1], r.body)
        if head == "messages" and n == 1 and r.method == "GET":
            return self._list_messages(r)
        if head == "messages" and n >= 2:
            m = self.box.messages.get(tail[1])
            if m is None:
                return error(
                    404, "ErrorItemNotFound", "The specified object was not found in the store."
                )
            return self._on_message(r, m, tail[2:])
        return error(400, "BadRequest", f"Resource not found for the segment '{head}'.")

    def _on_message(self, r: Request, m: FakeMessage, action: list[str]) -> Answer:
        key = (r.method, action[0] if action else "")
        handlers: dict[tuple[str, str], Callable[[], Answer]] = {
            ("GET", ""): lambda: (200, {}, render(m, select_of(r.query), text_body=_text(r))),
            ("PATCH", ""): lambda: self._update(m, r),
            ("DELETE", ""): lambda: self._delete(m),
            ("POST", "createReply"): lambda: self._create_reply(m),
            ("POST", "send"): lambda: self._send(m, r.may_send),
            ("POST", "move"): lambda: self._move(m, r.body),
        }
        handler = handlers.get(key)
        if handler is None:
            return error(405, "ErrorInvalidRequest", f"{r.method} {'/'.join(action)}")
        return handler()

    # -- folders ---------------------------------------------------------------------------

    def _folder_json(self, folder_id: str) -> Json:
        f = self.box.folders[folder_id]
        return {"id": f.id, "displayName": f.name, "parentFolderId": "root"}

    def _list_folders(self, r: Request) -> Answer:
        flt = r.query.get("$filter", "")
        match = re.fullmatch(r"displayName eq '((?:[^']|'')*)'", flt)
        if flt and match is None:
            return error(400, "ErrorInvalidUrlQueryFilter", "unsupported folder filter")
        name = match.group(1).replace("''", "'") if match else None
        found = [
            self._folder_json(f.id)
            for f in self.box.folders.values()
            if name is None or f.name.casefold() == name.casefold()
        ]
        return 200, {}, {"value": found}

    def _new_folder(self, r: Request) -> Answer:
        name = str((r.body or {}).get("displayName") or "")
        if not name:
            return error(400, "ErrorInvalidRequest", "displayName is required")
        if self.box.named(name):
            return error(
                409, "ErrorFolderExists", "A folder with the specified name already exists."
            )
        return 201, {}, self._folder_json(self.box.add_folder(name).id)

    def _folder(self, ref: str) -> Answer:
        f = self.box.folder(ref)
        if f is None:
            return error(404, "ErrorItemNotFound", "The specified folder was not found.")
        return 200, {}, self._folder_json(f.id)

    # -- reading messages -------------------------------------------------------------------

    def _list_messages(self, r: Request) -> Answer:
        """The mailbox's messages (every folder), newest first, $top at a time ($skip)."""
        select, pick = select_of(r.query), message_filter(r.query.get("$filter", ""))
        found = sorted(
            (m for m in self.box.messages.values() if pick(m)),
            key=lambda m: m.received,
            reverse=True,
        )
        size = min(top_of(r.query), self.max_page)
        skip = int(r.query.get("$skip", "0") or 0)
        page: Json = {
            "value": [render(m, select, text_body=_text(r)) for m in found[skip : skip + size]]
        }
        if skip + size < len(found):
            page["@odata.nextLink"] = _link(r, f"{r.link_base}/messages", {"$skip": skip + size})
        return 200, {}, page

    # -- writing ------------------------------------------------------------------------------

    def _update(self, m: FakeMessage, r: Request) -> Answer:
        body = r.body if isinstance(r.body, dict) else {}
        if r.if_match and r.if_match != m.etag:
            return error(
                412,
                "ErrorIrresolvableConflict",
                "The change key passed in the request "
                "does not match the current change key for the item.",
            )
        unknown = set(body) - UPDATABLE
        if unknown:
            return error(400, "ErrorInvalidProperty", f"'{sorted(unknown)[0]}' is not updatable")
        if not m.is_draft and set(body) & DRAFT_ONLY:
            return error(
                400,
                "ErrorInvalidPropertyUpdateSentMessage",
                "Update operation is not allowed for this property on sent messages.",
            )
        _apply(m, body)
        self.box.touch(m)
        return 200, {}, render(m, None)

    def _create_reply(self, m: FakeMessage) -> Answer:
        """A reply draft in Drafts: the conversation's, To the sender, RE: and the thread's
        References, with Exchange's own Message-ID (until a PATCH sets another)."""
        draft = FakeMessage(
            id=self.box.new_id("AAMkM"),
            folder=self.box.folder("drafts").id,  # type: ignore[union-attr]
            conversation_id=m.conversation_id,
            internet_message_id=f"<{secrets.token_hex(8)}@fake.prod.outlook.com>",
            subject="RE: " + m.subject,
            sender=(self.box.display, self.box.address),
            to=[m.sender],
            cc=[],
            received=self.now(),
            body_type="html",
            body=f"<html><body><hr><p>From: {m.sender[1]}</p>{m.body}</body></html>",
            is_draft=True,
            in_reply_to=m.internet_message_id,
            references=[*m.references, bare(m.internet_message_id)],
        )
        return 201, {}, render(self.box.put(draft), None)

    def _send(self, m: FakeMessage, may_send: bool) -> Answer:
        if not m.is_draft:
            return error(400, "ErrorInvalidOperation", "The message has already been sent.")
        if not may_send or m.sender[1].casefold() != self.box.address:
            return error(
                403,
                "ErrorSendAsDenied",
                "The user account which was used to submit "
                "this request does not have the right to send mail on behalf of the "
                "specified sending account.",
            )
        if not m.to:
            return error(400, "ErrorInvalidRecipients", "At least one recipient is not valid.")
        m.is_draft, m.received = False, self.now()
        self.box.move(m, self.box.folder("sentitems").id)  # type: ignore[union-attr]
        self.sent.append(
            SentRecord(
                m.sender[0],
                m.sender[1],
                tuple(a for _n, a in m.to),
                tuple(a for _n, a in m.cc),
                m.subject,
                bare(m.internet_message_id),
                bare(m.in_reply_to),
                tuple(bare(x) for x in m.references),
                m.body,
            )
        )
        return 202, {}, None

    def _move(self, m: FakeMessage, body: Any) -> Answer:
        dest = self.box.folder(str((body or {}).get("destinationId") or ""))
        if dest is None:
            return error(400, "ErrorInvalidIdMalformed", "Id is malformed.")
        self.box.move(m, dest.id)
        return 201, {}, render(m, None)

    def _delete(self, m: FakeMessage) -> Answer:
        self.box.delete(m)
        return 204, {}, None

    def _create_in(self, folder_ref: str, body: Any) -> Answer:
        folder = self.box.folder(folder_ref)
        if folder is None:
            return error(404, "ErrorItemNotFound", "The specified folder was not found.")
        m = FakeMessage(
            self.box.new_id("AAMkM"),
            folder.id,
            self.box.new_id("AAQkC"),
            f"<{secrets.token_hex(8)}@fake.prod.outlook.com>",
            "",
            (self.box.display, self.box.address),
            [],
            [],
            self.now(),
            "",
            is_draft=True,
        )
        _apply(m, body if isinstance(body, dict) else {})
        return 201, {}, render(self.box.put(m), None)


def _apply(m: FakeMessage, body: Json) -> None:
    def people(key: str) -> list[tuple[str, str]]:
        return [
            (str(r["emailAddress"].get("name") or ""), str(r["emailAddress"]["address"]))
            for r in body[key]
        ]

    if "categories" in body:
        m.categories = [str(c) for c in body["categories"]]
    if "subject" in body:
        m.subject = str(body["subject"])
    if "body" in body:
        m.body = str(body["body"].get("content") or "")
        m.body_type = str(body["body"].get("contentType") or "text").casefold()
    if "toRecipients" in body:
        m.to = people("toRecipients")
    if "ccRecipients" in body:
        m.cc = people("ccRecipients")
    if "internetMessageId" in body:
        m.internet_message_id = str(body["internetMessageId"])
    if "from" in body:
        sender = body["from"]["emailAddress"]
        m.sender = (str(sender.get("name") or ""), str(sender["address"]))


def _text(r: Request) -> bool:
    return 'outlook.body-content-type="text"' in r.prefer


def _link(r: Request, path: str, extra: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    query = {k: v for k, v in r.query.items() if k != "$skip"} | extra
    return f"{path}?{urlencode(query)}"
