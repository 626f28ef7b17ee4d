"""The Microsoft 365 provider over Microsoft Graph: conversations in, shared state and replies out.

A thread is an Outlook conversation (`conversationId`). A full sync reads which
conversations have a message in the watched folder (a delta round, which also
starts the incremental sync) and then each conversation whole, in every folder
(`$filter=conversationId eq ...`, four to a `$batch`); an incremental sync reads the
changes of the folders followed (`triage.providers.graph.delta`) and then the
conversations they touched. Notes are read once and kept by id (a note never
changes). Writes are `triage.providers.graph.writes`.

Graph has no push for shared mailboxes under delegated `.Shared` permissions
(learn.microsoft.com/graph/outlook-share-messages-folders), so changes are polled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from triage.clock import Clock, SystemClock
from triage.domain import history
from triage.domain.model import Mark, Message, MessageInfo, Note, ThreadData, ThreadRef
from triage.providers.base import (
    Delta,
    OfflineError,
    OutgoingReply,
    ProviderError,
    SentLookup,
    Snapshot,
    ThreadGone,
)
from triage.providers.common import received_time
from triage.providers.graph import delta, writes
from triage.providers.graph.errors import NotFound
from triage.providers.graph.http import GraphHttp
from triage.providers.graph.mailbox import GraphMailbox, odata_string, query
from triage.providers.graph.marks import ACCOUNT_NOTE_CATEGORY
from triage.providers.graph.parse import (
    SUMMARY,
    body_text,
    info_of,
    is_draft,
    is_note,
    message_of,
    unreadable,
)

Json = dict[str, Any]
CONVERSATION_PAGE = "500"
VIEW_SELECT = SUMMARY + ",body,internetMessageHeaders"


class GraphProvider:
    """A `Provider` for one Microsoft 365 mailbox (shared, or the user's own)."""

    def __init__(
        self, http: GraphHttp, *, mailbox: str, folder: str = "inbox", notes_mailbox: str = "",
        clock: Clock | None = None,
    ) -> None:  # fmt: skip
        self.http = http
        self.clock = clock or SystemClock()
        self.box = GraphMailbox(http, mailbox=mailbox, folder=folder, notes_name=notes_mailbox)
        self._notes: dict[str, Note | None] = {}  # note message id -> its note (None: not one)

    @property
    def account_id(self) -> str:
        return self.box.address or self.box.spec.casefold()

    async def connect(self) -> None:
        await self.box.connect()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def wait_for_changes(self, timeout: float) -> bool:
        await asyncio.sleep(timeout)  # polling: no change notifications for .Shared access
        return False

    # -- reading ---------------------------------------------------------------------

    async def full_sync(self) -> Snapshot:
        """Every conversation with a message in the watched folder, and the state to go on."""
        await self.box.ready()
        links, items, _ = await delta.round_of(self.http, delta.starts(self.box, self.clock.now()))
        self._learn_notes(items.get(delta.NOTES, []))
        cids = delta.conversations({delta.MAIL: items[delta.MAIL]})
        threads, _gone = await self._threads(sorted(cids))
        account = tuple(n for n in self._notes.values() if n is not None and n.account)
        return Snapshot(delta.encode_state(self.box, self.http.api, links), tuple(threads), account)

    async def changes(self, since_state: str, known: Mapping[str, str]) -> Delta:
        """What changed since `since_state`; `known` maps the message ids we hold to their
        conversations, so a message that left (reported by id only) refreshes its own."""
        await self.box.ready()
        first = delta.resume(self.box, self.http, since_state)
        # Until a console files the first note, look for the notes folder in each round.
        along = None if self.box.notes else self.box.by_name(self.box.notes_name)
        links, items, found = await delta.round_of(self.http, first, along)
        self.box.learn_notes_folder(found)
        state = delta.encode_state(self.box, self.http.api, links)
        gone_ids = delta.removed(items)
        new_notes = self._learn_notes(items.get(delta.NOTES, []))
        account = tuple(n for n in new_notes if n.account)
        if along is not None and self.box.notes:  # found just now: its delta starts next
            account = await self.account_notes()  # round; what it holds counts now
        cids = delta.conversations(items) | {known[m] for m in gone_ids if m in known}
        if not cids:
            return Delta(state, (), (), tuple(sorted(gone_ids)), account)
        threads, gone = await self._threads(sorted(cids))
        return Delta(state, tuple(threads), tuple(gone), tuple(sorted(gone_ids)), account)

    def _learn_notes(self, items: list[Json]) -> list[Note]:
        """Keep the notes a delta round brought (with their bodies); the new ones."""
        fresh = []
        for item in items:
            note_id = item.get("id")
            if not isinstance(note_id, str):
                continue
            if "@removed" in item:
                self._notes.pop(note_id, None)
            elif "body" in item:
                note = history.decode(body_text(item)[0])
                self._notes[note_id] = note
                fresh += [note] if note is not None else []
        return fresh

    async def _conversations(self, cids: Sequence[str], select: str) -> dict[str, list[Json]]:
        """Every message of each conversation, in any folder (four conversations a batch)."""
        calls = [self.box.call("GET", "/messages" + query(
            filter=f"conversationId eq {odata_string(cid)}", select=select,
            top=CONVERSATION_PAGE)) for cid in cids]  # fmt: skip
        out = {}
        for cid, answer in zip(cids, await self.http.calls(calls), strict=True):
            if isinstance(answer, ProviderError):
                raise answer
            page = answer if isinstance(answer, dict) else {}
            out[cid] = [m for m in await self.http.rest(page) if isinstance(m.get("id"), str)]
        return out

    async def _threads(self, cids: list[str]) -> tuple[list[ThreadData], list[str]]:
        """The conversations found, and the ids of those gone (no mail left)."""
        found = await self._conversations(cids, SUMMARY)
        notes = [m for msgs in found.values() for m in msgs if is_note(m, self.box.notes)]
        await self._read_notes([str(m["id"]) for m in notes if m["id"] not in self._notes])
        threads, gone = [], []
        for cid, msgs in found.items():
            thread = self._thread(cid, msgs)
            if thread is None:
                gone.append(cid)
            else:
                threads.append(thread)
        return threads, gone

    def _thread(self, cid: str, msgs: list[Json]) -> ThreadData | None:
        now = self.clock.now()
        mail: list[MessageInfo] = []
        note_ids: list[str] = []
        for m in msgs:
            if is_note(m, self.box.notes):
                note_ids.append(str(m["id"]))
            elif not is_draft(m):  # a reply not sent yet, or one abandoned
                mail.append(info_of(m, self.box.watched, now, cid))
        if not mail:
            return None
        notes = tuple(n for i in note_ids if (n := self._notes.get(i)) is not None)
        return ThreadData(cid, tuple(sorted(mail, key=lambda m: m.received_at)), notes,
                          tuple(note_ids))  # fmt: skip

    async def _read_notes(self, note_ids: list[str]) -> None:
        """Read the bodies of notes not seen yet (filed before this process started)."""
        calls = [self.box.call("GET", self.box.message(i) + query(select="id,body"),
                               prefer=delta.TEXT_BODY) for i in note_ids]  # fmt: skip
        for note_id, answer in zip(note_ids, await self.http.calls(calls), strict=True):
            if isinstance(answer, NotFound):
                self._notes[note_id] = None
            elif isinstance(answer, ProviderError):
                raise answer
            else:
                self._notes[note_id] = history.decode(body_text(answer)[0])

    async def thread_message_ids(self, thread_id: str) -> list[str]:
        """The conversation's mail as Graph has it now, oldest first (notes, drafts left out)."""
        await self.box.ready()
        select = "id,receivedDateTime,parentFolderId,categories,isDraft"
        msgs = (await self._conversations([thread_id], select))[thread_id]
        now = self.clock.now()
        mail = [m for m in msgs if not is_note(m, self.box.notes) and not is_draft(m)]
        if not mail:
            raise ThreadGone(f"the conversation {thread_id!r} is no longer in the mailbox")
        mail.sort(key=lambda m: received_time(m.get("receivedDateTime"), now)[0])
        return [str(m["id"]) for m in mail]

    async def messages(self, message_ids: Sequence[str]) -> list[Message]:
        """These messages with their text, in the order asked (unreadable ones flagged)."""
        await self.box.ready()
        calls = [self.box.call("GET", self.box.message(i) + query(select=VIEW_SELECT))
                 for i in message_ids]  # fmt: skip
        now = self.clock.now()
        out = []
        for mid, answer in zip(message_ids, await self.http.calls(calls), strict=True):
            if isinstance(answer, OfflineError):
                raise answer
            if isinstance(answer, ProviderError) or not isinstance(answer, dict):
                out.append(unreadable(mid, "", now, f"it could not be read: {answer}"))
            else:
                out.append(message_of(answer, now))
        return out

    # -- writing (triage.providers.graph.writes) ----------------------------------------

    async def account_notes(self) -> tuple[Note, ...]:
        """The team-level notes (account reassignments, absences), by their category."""
        await self.box.ready()
        flt = f"categories/any(c:c eq {odata_string(ACCOUNT_NOTE_CATEGORY)})"
        found = await self.http.pages(self.box.call("GET", "/messages" + query(
            filter=flt, select="id,body", top="500")))  # fmt: skip
        notes = (history.decode(body_text(m)[0]) for m in found)
        return tuple(n for n in notes if n is not None)

    async def claim(
        self, thread: ThreadRef, mark: Mark, blocked: Callable[[frozenset[Mark]], bool]
    ) -> frozenset[Mark] | None:
        return await writes.claim(self.box, thread, mark, blocked)

    async def set_marks(self, thread: ThreadRef, marks: Mapping[Mark, bool]) -> None:
        await writes.set_marks(self.box, thread, marks)

    async def add_note(self, thread: ThreadRef, note: Note) -> None:
        await writes.add_note(self.box, thread, note)

    async def send(self, reply: OutgoingReply) -> None:
        await writes.send(self.box, reply)

    async def find_sent(self, message_id: str) -> SentLookup | None:
        return await writes.find_sent(self.box, message_id)

    async def send_drafted(self, handle: str, reply: OutgoingReply) -> None:
        await writes.send_drafted(self.box, handle)
