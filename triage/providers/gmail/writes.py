"""Gmail writes: marks as labels on the whole thread, notes, replies, the sent-reply lookup.

Marks go on with one `threads.modify` (every message of the thread). A note is
`messages.insert`ed into the thread under the notes label: filed, never sent. A
reply is `messages.send` with its raw RFC 5322 text and the thread's id; it is
not idempotent, so an answer lost on the way is an UnclearOutcome, resolved by
`find_sent`: an exact `rfc822msgid:` search, then, since search may lag behind
a message just sent, a read of the newest messages under SENT around the time
our Message-ID was made.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from triage.domain.model import Mark, Note, ThreadRef
from triage.domain.outbox import message_id_time
from triage.providers.base import (
    OutgoingReply,
    ProviderError,
    SentLookup,
    SentState,
    ThreadGone,
)
from triage.providers.gmail.batch import get_each
from triage.providers.gmail.compose import note_raw, reply_raw
from triage.providers.gmail.http import GmailHttp, Json, NotFound
from triage.providers.gmail.labels import Labels, label_name
from triage.providers.gmail.parse import headers_of
from triage.providers.gmail.quota import UNITS

LOOKUP_WINDOW = timedelta(hours=1)  # wider than any clock skew between us and Gmail
SCAN_PAGE = 50
SCAN_PAGES = 20  # at most 1,000 sent messages read when search has not caught up
METADATA_ID = {"format": "metadata", "metadataHeaders": ["Message-ID"]}


async def set_marks(
    http: GmailHttp, labels: Labels, thread: ThreadRef, marks: Mapping[Mark, bool]
) -> None:
    """Set (True) or clear (False) each mark on every message of the thread."""
    add = [await labels.ensure(label_name(m)) for m, on in marks.items() if on]
    remove = await labels.existing(label_name(m) for m, on in marks.items() if not on)
    if not add and not remove:
        return
    body = {"addLabelIds": add, "removeLabelIds": remove}
    try:
        await http.post(f"threads/{thread.thread_id}/modify", body,
                        units=UNITS["threads.modify"], idempotent=True)  # fmt: skip
    except NotFound:
        raise ThreadGone(f"the conversation {thread.thread_id!r} is no longer in Gmail") from None


async def add_note(
    http: GmailHttp, thread: ThreadRef, note: Note, label_ids: list[str], mailbox: str,
    at: datetime,
) -> None:  # fmt: skip
    """File a note into the thread (inserted, not sent); a note filed twice counts once."""
    body = {"raw": note_raw(thread, note, mailbox, at), "threadId": thread.thread_id,
            "labelIds": label_ids}  # fmt: skip
    await http.post("messages", body, units=UNITS["messages.insert"], idempotent=True,
                    params={"internalDateSource": "receivedTime"})  # fmt: skip


async def send(http: GmailHttp, reply: OutgoingReply, at: datetime) -> None:
    """Send the reply in its thread (the thread found by the message it answers if need be)."""
    try:
        raw = reply_raw(reply, at)
    except ValueError as e:  # a header that would have broken the message: nothing sent
        raise ProviderError(f"the reply cannot be written as a message: {e}") from None
    thread_id = reply.thread_id or await _thread_of(http, reply.in_reply_to)
    body: dict[str, Any] = {"raw": raw}
    if thread_id:
        body["threadId"] = thread_id
    await http.post("messages/send", body, units=UNITS["messages.send"], idempotent=False)


async def _thread_of(http: GmailHttp, message_id: str) -> str:
    found = await _search(http, message_id)
    return str(found[0].get("threadId") or "") if found else ""


async def find_sent(http: GmailHttp, message_id: str) -> SentLookup | None:
    """Where our Message-ID went out, if it did. Any failure raises: an incomplete lookup
    must never read as "not sent"."""
    wanted = message_id.strip().strip("<>")
    for m in await _search(http, wanted):
        found = await _sent(http, str(m["id"]))
        if found is not None:
            return found
    made = message_id_time(wanted)
    return await _scan_sent(http, wanted, made) if made is not None else None


async def _search(http: GmailHttp, message_id: str) -> list[Json]:
    """The messages whose Message-ID header is exactly `message_id` (trash and spam too)."""
    if not message_id.strip("<>"):
        return []
    params = {"q": f"rfc822msgid:{message_id.strip('<>')}", "includeSpamTrash": True}
    page = await http.get("messages", params, units=UNITS["messages.list"])
    found = page.get("messages") or []
    if not isinstance(found, list):
        raise ProviderError("messages.list: Gmail's answer is not a list of messages")
    return [m for m in found if isinstance(m, dict) and isinstance(m.get("id"), str)]


async def _sent(http: GmailHttp, gmail_id: str) -> SentLookup | None:
    """Sent unless it is only a draft (we never make drafts; someone else's is not sent)."""
    m = await http.get(f"messages/{gmail_id}", {"format": "minimal"}, units=UNITS["messages.get"])
    labels = m.get("labelIds")
    labels = labels if isinstance(labels, list) else []
    if "DRAFT" in labels and "SENT" not in labels:
        return None
    return SentLookup(SentState.SENT, gmail_id)


async def _scan_sent(http: GmailHttp, wanted: str, made: datetime) -> SentLookup | None:
    """Read the newest messages under SENT back to LOOKUP_WINDOW before `made`."""
    params: dict[str, Any] = {"labelIds": ["SENT"], "maxResults": SCAN_PAGE}
    oldest = int((made - LOOKUP_WINDOW).timestamp() * 1000)
    for _ in range(SCAN_PAGES):
        page = await http.get("messages", params, units=UNITS["messages.list"])
        ids = [str(m["id"]) for m in page.get("messages") or [] if isinstance(m, dict)]
        got = await get_each(http, [(f"messages/{i}", METADATA_ID) for i in ids],
                             units=UNITS["messages.get"]) if ids else []  # fmt: skip
        heads = [m for m in got if m is not None]
        for gmail_id, m in zip(ids, got, strict=True):
            if m is not None and _message_id(m) == wanted:
                return SentLookup(SentState.SENT, gmail_id)
        older = sum(_millis(m.get("internalDate")) < oldest for m in heads)
        if not page.get("nextPageToken") or (ids and older == len(ids)):
            return None
        params["pageToken"] = str(page["nextPageToken"])
    raise ProviderError("could not finish reading Sent to look the reply up: it is too busy")


def _message_id(m: Json) -> str:
    return headers_of(m.get("payload")).get("message-id", "").strip().strip("<>")


def _millis(value: Any) -> int:
    text = str(value or "")
    return int(text) if text.isdigit() else 0
