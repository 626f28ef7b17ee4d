"""Graph writes: marks as categories, notes as never-sent reply drafts, replies, and the
exact lookup of a sent reply by its Message-ID.

Categories are one list per message, so a mark is read-modify-write: each message is
PATCHed with the `If-Match` of the copy read, and one a colleague changed meanwhile
(412) is read again, so two consoles never undo each other's marks.

A reply is `createReply` on the client's message (Outlook keeps it in the
conversation and fills In-Reply-To and References), a PATCH that sets our text, the
recipients, the subject, our own Message-ID (`internetMessageId`, settable while the
message is a draft) and the From (the shared mailbox, under the manager's name), then
`send`. A retry first looks our Message-ID up across the mailbox (`find_sent`): in
Drafts it is a draft whose sending never happened (`send_drafted` sends it),
anywhere else it went out. A draft left by a failed step never carries our
Message-ID until its PATCH succeeded, and is never sent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from triage.domain import history
from triage.domain.model import Mark, Note, ThreadRef
from triage.providers.base import (
    OutgoingReply,
    ProviderError,
    Refused,
    SentLookup,
    SentState,
    UnclearOutcome,
)
from triage.providers.graph.errors import Conflict, NotFound
from triage.providers.graph.mailbox import GraphMailbox, odata_string, query
from triage.providers.graph.marks import (
    ACCOUNT_NOTE_CATEGORY,
    NOTE_CATEGORY,
    marks_of,
    with_marks,
)

Json = dict[str, Any]
MARK_ROUNDS = 4  # reads and writes of a message a colleague keeps changing meanwhile


def _etag(m: Json) -> str:
    value = m.get("@odata.etag")
    return value if isinstance(value, str) else ""


async def set_marks(box: GraphMailbox, thread: ThreadRef, marks: Mapping[Mark, bool]) -> None:
    """Set (True) or clear (False) each mark on every message of the conversation."""
    await box.ready()
    wanted = set(thread.message_ids)
    flt = f"conversationId eq {odata_string(thread.thread_id)}"
    current = [m for m in await box.http.pages(box.call("GET", "/messages" + query(
        filter=flt, select="id,categories", top="500"))) if m.get("id") in wanted]  # fmt: skip
    for _ in range(MARK_ROUNDS):
        current = await _patch_marks(box, current, marks)
        if not current:
            return
    raise ProviderError("the conversation's categories kept changing: try again")


async def _patch_marks(
    box: GraphMailbox, msgs: list[Json], marks: Mapping[Mark, bool]
) -> list[Json]:
    """PATCH the messages whose categories change; those changed meanwhile, read again."""
    todo = []
    for m in msgs:
        names = [c for c in m.get("categories") or [] if isinstance(c, str)]
        after = with_marks(names, marks)
        if after != names:
            todo.append(box.call("PATCH", box.message(str(m["id"])), {"categories": after},
                                 if_match=_etag(m)))  # fmt: skip
    answers = await box.http.calls(todo)
    stale = [c.path.rsplit("/", 1)[-1] for c, a in zip(todo, answers, strict=True)
             if isinstance(a, Conflict)]  # fmt: skip
    for a in answers:
        if isinstance(a, ProviderError) and not isinstance(a, Conflict | NotFound):
            raise a
    reread = [box.call("GET", f"/messages/{i}" + query(select="id,categories")) for i in stale]
    fresh = await box.http.calls(reread)
    return [a for a in fresh if isinstance(a, dict)]


async def claim(
    box: GraphMailbox, thread: ThreadRef, mark: Mark, blocked: Callable[[frozenset[Mark]], bool]
) -> frozenset[Mark] | None:
    """Compare-and-set `mark` on the conversation's first message: PATCH its categories
    with the `If-Match` of the copy read; of racing writers one succeeds, the others
    (412) read again and see its mark. The marks found, or None when `blocked`."""
    await box.ready()
    path = box.message(thread.message_ids[0])
    for _ in range(MARK_ROUNDS * 2):
        m = await box.http.call(box.call("GET", path + query(select="id,categories")))
        names = [c for c in m.get("categories") or [] if isinstance(c, str)]
        marks = marks_of(names)
        if blocked(marks):
            return None
        try:
            await box.http.call(box.call("PATCH", path, {"categories": with_marks(
                names, {mark: True})}, if_match=_etag(m)))  # fmt: skip
        except Conflict:
            continue
        return marks
    raise ProviderError("the conversation's categories kept changing: try again")


async def add_note(box: GraphMailbox, thread: ThreadRef, note: Note) -> None:
    """File a note (reasons, history) that joins the conversation but is never sent."""
    await box.ready()
    folder = await box.notes_folder()
    cats = [NOTE_CATEGORY, *([ACCOUNT_NOTE_CATEGORY] if note.account else [])]
    content: Json = {"subject": "triage note", "categories": cats,
                     "body": {"contentType": "text", "content": history.encode(note)}}  # fmt: skip
    if not thread.message_ids:  # nothing to join: filed straight into the notes folder
        await box.http.call(box.call("POST", f"/mailFolders/{folder}/messages", content),
                            idempotent=False)  # fmt: skip
        return
    draft = await _reply_draft(box, thread.message_ids[-1])
    try:
        await box.http.call(box.call("PATCH", box.message(draft), {
            **content, "toRecipients": [], "ccRecipients": []}))  # fmt: skip
        await box.http.call(box.call("POST", box.message(draft) + "/move",
                                     {"destinationId": folder}), idempotent=False)  # fmt: skip
    except Refused:
        await _discard(box, draft)
        raise


async def _reply_draft(box: GraphMailbox, parent: str) -> str:
    created = await box.http.call(box.call("POST", box.message(parent) + "/createReply", {}),
                                  idempotent=False)  # fmt: skip
    draft = created.get("id") if isinstance(created, dict) else None
    if not isinstance(draft, str):
        raise UnclearOutcome("Microsoft Graph created a reply draft but did not say its id")
    return draft


async def _discard(box: GraphMailbox, draft: str) -> None:
    """Delete a draft a refused step left behind (it was never sent: best effort)."""
    with contextlib.suppress(ProviderError):
        await box.http.call(box.call("DELETE", box.message(draft)))


async def _parent(box: GraphMailbox, reply: OutgoingReply) -> str:
    """The mailbox's id of the message the reply answers (found by its Message-ID)."""
    wanted = reply.in_reply_to.strip().strip("<>")
    if not wanted:
        raise Refused("the reply answers no message (it has no In-Reply-To)")
    for m in await _by_message_id(box, wanted, "id,isDraft"):
        if m.get("isDraft") is not True:
            return str(m["id"])
    raise Refused(f"the message to answer (<{wanted}>) is no longer in the mailbox")


async def _by_message_id(box: GraphMailbox, bare: str, select: str) -> list[Json]:
    flt = f"internetMessageId eq {odata_string(f'<{bare}>')}"
    found = await box.http.pages(box.call("GET", "/messages" + query(filter=flt, select=select)))
    return [m for m in found if isinstance(m.get("id"), str)]


async def send(box: GraphMailbox, reply: OutgoingReply) -> None:
    """createReply, then our text and Message-ID, then send: the client's conversation."""
    await box.ready()
    if not reply.in_reply_to:  # a message of its own (a nudge): a new draft, then send
        created = await box.http.call(
            box.call("POST", f"/mailFolders/{box.drafts}/messages", _draft_fields(box, reply)),
            idempotent=False,
        )
        draft = created.get("id") if isinstance(created, dict) else None
        if not isinstance(draft, str):
            raise UnclearOutcome("Microsoft Graph created a draft but did not say its id")
        await box.http.call(box.call("POST", box.message(draft) + "/send"), idempotent=False)
        return
    draft = await _reply_draft(box, await _parent(box, reply))
    try:
        await box.http.call(box.call("PATCH", box.message(draft), _draft_fields(box, reply)))
    except Refused:
        await _discard(box, draft)  # it never carried our Message-ID: nothing to look up
        raise
    await box.http.call(box.call("POST", box.message(draft) + "/send"), idempotent=False)


def _draft_fields(box: GraphMailbox, reply: OutgoingReply) -> Json:
    fields: Json = {
        "subject": reply.subject,
        "body": {"contentType": "text", "content": reply.body},
        "toRecipients": [{"emailAddress": {"address": a}} for a in reply.to],
        "ccRecipients": [{"emailAddress": {"address": a}} for a in reply.cc],
        "internetMessageId": "<" + reply.message_id.strip("<>") + ">",
    }
    if box.address and not box.me:  # From must be the mailbox that sends it
        fields["from"] = {"emailAddress": {"name": reply.from_name, "address": box.address}}
    return fields


async def find_sent(box: GraphMailbox, message_id: str) -> SentLookup | None:
    """Our Message-ID, looked up exactly across the mailbox: in Drafts it never left;
    in Sent Items (or on its way there, in the Outbox) it did. Any failure raises: an
    incomplete lookup must never read as "not sent"."""
    await box.ready()
    bare = message_id.strip().strip("<>")
    found = [m for m in await _by_message_id(box, bare, "id,parentFolderId,isDraft,"
                                              "internetMessageId")
             if str(m.get("internetMessageId") or "").strip("<>") == bare]  # fmt: skip
    sent = [m for m in found if not (m.get("isDraft") is True and
                                     m.get("parentFolderId") == box.drafts)]  # fmt: skip
    if sent:
        return SentLookup(SentState.SENT, str(sent[0]["id"]))
    return SentLookup(SentState.DRAFTED, str(found[0]["id"])) if found else None


async def send_drafted(box: GraphMailbox, handle: str) -> None:
    """Send a reply whose draft (with our Message-ID and text) exists already."""
    await box.ready()
    try:
        await box.http.call(box.call("POST", box.message(handle) + "/send"), idempotent=False)
    except NotFound:
        raise UnclearOutcome("the reply's draft is gone: it may have been sent meanwhile") from None
