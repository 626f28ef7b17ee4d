"""The Gmail provider: the label's threads in (full, then from `history.list`), state out.

A full sync lists the watched label's threads (`threads.list`, page by page) and
reads each (`threads.get`, headers only), taking the mailbox's historyId first
so that nothing changed during the listing is missed. Incremental syncs read
`history.list` from that id: the threads it touches are read again; an id Gmail
no longer knows (HTTP 404) means a full sync. Writes (marks, notes, replies) are
`triage.providers.gmail.writes`; labels are `triage.providers.gmail.labels`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from triage.clock import Clock, SystemClock
from triage.domain import history
from triage.domain.model import Mark, Message, MessageInfo, Note, ThreadData, ThreadRef
from triage.providers.base import (
    CannotCalculateChanges,
    Delta,
    OutgoingReply,
    ProviderError,
    Refused,
    SentLookup,
    Snapshot,
    ThreadGone,
)
from triage.providers.gmail import writes
from triage.providers.gmail.batch import get_each
from triage.providers.gmail.http import GmailHttp, Json, NotFound
from triage.providers.gmail.labels import Labels
from triage.providers.gmail.parse import MailSummary, body_of, summary_of, unreadable
from triage.providers.gmail.quota import UNITS

HEADERS = ["From", "To", "Cc", "Subject", "Message-ID", "References", "In-Reply-To"]
PAGE = 500  # the most threads.list and history.list give at a time
MAX_PAGES = 10_000  # far above any real mailbox; bounds a server that pages without end
GONE_LABELS = frozenset({"TRASH", "SPAM"})  # mail there is as good as deleted


class GmailProvider:
    """A `Provider` speaking the Gmail API to one mailbox."""

    def __init__(
        self, http: GmailHttp, *, label: str = "INBOX", notes_label: str = "",
        clock: Clock | None = None,
    ) -> None:  # fmt: skip
        self.http = http
        self.clock = clock or SystemClock()
        self.labels = Labels(http)
        self.label_spec = label
        self.notes_name = notes_label or "Triage Notes"
        self.address = ""
        self.watched = ""
        self._notes: dict[str, Note | None] = {}  # note message id -> its note (immutable)

    @property
    def account_id(self) -> str:
        return self.address or self.http.user

    @property
    def notes_label(self) -> str:
        return self.labels.find(self.notes_name)

    @property
    def account_label(self) -> str:
        return self.labels.find(self.notes_name + "/account")

    # -- connection ------------------------------------------------------------------

    async def connect(self) -> None:
        await self._profile()
        await self.labels.load()
        watched = self.labels.find(self.label_spec)
        if not watched:
            names = ", ".join(sorted(self.labels.names.values())[:30])
            raise ProviderError(f"label {self.label_spec!r} not found (provider.label: a system "
                                f"label id such as 'INBOX' or one of: {names})")  # fmt: skip
        self.watched = watched

    async def ready(self) -> None:
        """Connect first when no sync has yet (an action right after an offline start)."""
        if not self.watched:
            await self.connect()

    async def _profile(self) -> str:
        """The mailbox's address and current historyId (the state to sync on from)."""
        p = await self.http.get("profile", units=UNITS["getProfile"])
        if not isinstance(p.get("historyId"), str | int) or not str(p["historyId"]).isdigit():
            raise ProviderError("getProfile: Gmail's answer has no historyId")
        self.address = str(p.get("emailAddress") or self.address)
        return str(p["historyId"])

    async def aclose(self) -> None:
        await self.http.aclose()

    async def wait_for_changes(self, timeout: float) -> bool:
        """Gmail pushes only through Cloud Pub/Sub, which a console cannot receive: poll."""
        await asyncio.sleep(timeout)
        return False

    # -- reading -----------------------------------------------------------------------

    async def full_sync(self) -> Snapshot:
        """Every thread with a message in the watched label, and the historyId to go on from."""
        await self.ready()
        state = await self._profile()
        ids = await self._list_threads()
        threads, _gone, _ = await self._threads(ids)
        return Snapshot(state, tuple(threads), await self._account_notes())

    async def _list_threads(self) -> list[str]:
        ids: list[str] = []
        params: dict[str, Any] = {"labelIds": [self.watched], "maxResults": PAGE}
        for _ in range(MAX_PAGES):
            page = await self.http.get("threads", params, units=UNITS["threads.list"])
            ids.extend(str(t["id"]) for t in _objects(page.get("threads"), "threads.list"))
            token = page.get("nextPageToken")
            if not token:
                return list(dict.fromkeys(ids))
            if token == params.get("pageToken"):
                raise ProviderError("threads.list: Gmail sent the same page token again")
            params["pageToken"] = str(token)
        raise ProviderError(f"threads.list: more than {MAX_PAGES} pages")

    async def changes(self, since_state: str, known: Mapping[str, str]) -> Delta:
        """What changed since historyId `since_state`: the threads to refresh, the ones gone.

        `known` maps the message ids we hold to their threads: changes to those threads
        count even when the message changed is not in the watched label."""
        if not since_state.isdigit():
            raise CannotCalculateChanges("history.list: our sync state is not a historyId")
        await self.ready()
        records, state = await self._history(since_state)
        if int(state) < int(since_state):
            raise CannotCalculateChanges("history.list: Gmail is behind our sync state")
        await self.labels.know(_record_labels(records))  # a colleague's new label, say
        touched, destroyed, account = self._touched(records, set(known.values()))
        threads, gone, has_account = await self._threads(sorted(touched))
        notes = await self._account_notes() if account or has_account else ()
        return Delta(state, tuple(threads), tuple(gone), tuple(sorted(destroyed)), notes)

    async def _history(self, since: str) -> tuple[list[Json], str]:
        records: list[Json] = []
        params: dict[str, Any] = {"startHistoryId": since, "maxResults": PAGE}
        for _ in range(MAX_PAGES):
            try:
                page = await self.http.get("history", params, units=UNITS["history.list"])
            except (NotFound, Refused) as e:  # 404: too old; 400: not one of this mailbox's
                raise CannotCalculateChanges(f"history.list: {e}") from None
            records.extend(_dicts(page.get("history")))
            token = page.get("nextPageToken")
            if not token:
                state = page.get("historyId")
                return records, str(state) if str(state or "").isdigit() else since
            if token == params.get("pageToken"):
                raise ProviderError("history.list: Gmail sent the same page token again")
            params["pageToken"] = str(token)
        raise ProviderError(f"history.list: more than {MAX_PAGES} pages")

    def _touched(self, records: list[Json], known: set[str]) -> tuple[set[str], set[str], bool]:
        """(threads to read again, messages deleted, whether an account note was added)."""
        relevant = {self.watched, self.notes_label} - {""}
        threads: set[str] = set()
        destroyed: set[str] = set()
        account = False
        for record in records:
            for kind in ("messagesAdded", "messagesDeleted", "labelsAdded", "labelsRemoved"):
                for item in _dicts(record.get(kind)):
                    m = item.get("message")
                    if not isinstance(m, dict) or not isinstance(m.get("threadId"), str):
                        continue
                    labels = set(_strings(m.get("labelIds"))) | set(_strings(item.get("labelIds")))
                    if kind == "messagesDeleted":
                        destroyed.add(str(m.get("id")))
                    if m["threadId"] in known or labels & relevant:
                        threads.add(m["threadId"])
                    account = account or (self.account_label in labels and bool(self.account_label))
        return threads, destroyed, account

    async def _threads(self, thread_ids: list[str]) -> tuple[list[ThreadData], list[str], bool]:
        """The threads found, the ids gone, and whether an account-level note is among them."""
        params = {"format": "metadata", "metadataHeaders": HEADERS}
        answers = await get_each(self.http, [(f"threads/{t}", params) for t in thread_ids],
                                 units=UNITS["threads.get"])  # fmt: skip
        got = [self._thread(t, a) for t, a in zip(thread_ids, answers, strict=True)]
        found = {tid: msgs for tid, msgs in zip(thread_ids, got, strict=True) if msgs}
        gone = [t for t in thread_ids if t not in found]
        every = [m for msgs in found.values() for m in msgs]
        await self.labels.know({i for m in every for i in m.label_ids})
        await self._read_notes([m.id for m in every if self._is_note(m)])
        out = [self._thread_data(tid, msgs) for tid, msgs in found.items()]
        account = self.account_label
        return out, gone, bool(account) and any(account in m.label_ids for m in every)

    def _thread(self, thread_id: str, t: Json | None) -> list[MailSummary]:
        """The thread's messages (headers only); [] when it is gone or holds only trash."""
        if t is None:
            return []
        now = self.clock.now()
        msgs = [summary_of(m, now, thread_id) for m in _objects(t.get("messages"), "threads.get")]
        return [m for m in msgs if not m.label_ids & GONE_LABELS]

    def _thread_data(self, tid: str, msgs: list[MailSummary]) -> ThreadData:
        msgs.sort(key=lambda m: m.received_at)
        note_ids = tuple(m.id for m in msgs if self._is_note(m))
        return ThreadData(
            thread_id=tid,
            messages=tuple(self._info(m) for m in msgs if not self._is_note(m)),
            notes=tuple(n for i in note_ids if (n := self._notes.get(i)) is not None),
            note_ids=note_ids,
        )

    def _info(self, m: MailSummary) -> MessageInfo:
        return MessageInfo(
            id=m.id, thread_id=m.thread_id, sender=m.from_email, sender_name=m.from_name,
            to=m.to, cc=m.cc, subject=m.subject, received_at=m.received_at,
            message_id=m.message_id, references=m.references,
            in_watched=self.watched in m.label_ids or not m.labels_known,
            marks=self.labels.marks(m.label_ids), problem="; ".join(m.problems),
            preview=m.preview,
        )  # fmt: skip

    def _is_note(self, m: MailSummary) -> bool:
        notes = self.notes_label
        return bool(notes) and notes in m.label_ids

    async def _read_notes(self, ids: list[str]) -> None:
        """Read the notes not read before (a note never changes: each is read once)."""
        fresh = [i for i in ids if i not in self._notes]
        bodies = await self._full(fresh)
        for i, m in zip(fresh, bodies, strict=True):
            self._notes[i] = history.decode(body_of(m)[0]) if m is not None else None

    async def _account_notes(self) -> tuple[Note, ...]:
        label = self.account_label
        if not label:
            return ()
        ids: list[str] = []
        params: dict[str, Any] = {"labelIds": [label], "maxResults": PAGE}
        for _ in range(MAX_PAGES):
            page = await self.http.get("messages", params, units=UNITS["messages.list"])
            ids.extend(str(m["id"]) for m in _objects(page.get("messages"), "messages.list"))
            if not page.get("nextPageToken") or page["nextPageToken"] == params.get("pageToken"):
                break
            params["pageToken"] = str(page["nextPageToken"])
        await self._read_notes(ids)
        return tuple(n for i in ids if (n := self._notes.get(i)) is not None)

    async def _full(self, message_ids: Sequence[str]) -> list[Json | None]:
        """These messages with their bodies (format full); None for those not to be had."""
        calls = [(f"messages/{i}", {"format": "full"}) for i in message_ids]
        return await get_each(self.http, calls, units=UNITS["messages.get"]) if calls else []

    async def thread_message_ids(self, thread_id: str) -> list[str]:
        """The thread's mail as Gmail has it now, oldest first (notes and trash left out)."""
        await self.ready()
        try:
            t = await self.http.get(f"threads/{thread_id}", {"format": "minimal"},
                                    units=UNITS["threads.get"])  # fmt: skip
        except NotFound:
            raise ThreadGone(f"the conversation {thread_id!r} is no longer in Gmail") from None
        now = self.clock.now()
        msgs = [summary_of(m, now, thread_id) for m in _objects(t.get("messages"), "threads.get")]
        await self.labels.know({i for m in msgs for i in m.label_ids})
        mail = [m for m in msgs if not self._is_note(m) and not m.label_ids & GONE_LABELS]
        return [m.id for m in sorted(mail, key=lambda m: m.received_at)]

    async def messages(self, message_ids: Sequence[str]) -> list[Message]:
        """These messages with their text, in the order asked (unreadable ones are flagged)."""
        await self.ready()
        got = await self._full(message_ids)
        now = self.clock.now()
        out = []
        for i, m in zip(message_ids, got, strict=True):
            if m is None or not isinstance(m.get("id"), str):
                s = unreadable(i, "", now, "it could not be fetched from Gmail")
                out.append(_message(s, "", s.problems))
                continue
            s = summary_of(m, now)
            text, warnings = body_of(m)
            out.append(_message(s, text, (*s.problems, *warnings)))
        return out

    # -- writing (triage.providers.gmail.writes) ---------------------------------------

    async def account_notes(self) -> tuple[Note, ...]:
        """The team-level notes (account reassignments, absences), by their label."""
        await self.ready()
        return await self._account_notes()

    async def claim(
        self, thread: ThreadRef, mark: Mark, blocked: Callable[[frozenset[Mark]], bool]
    ) -> frozenset[Mark] | None:
        """Gmail has no conditional write (labels are set, never compared and set): the
        first message's labels are read, checked, and the mark set. Two watchers whose
        round trips overlap could both win: one watcher per Gmail mailbox is the safe
        set-up (the README says so)."""
        await self.ready()
        first = thread.message_ids[0]
        m = await self.http.get(f"messages/{first}", {"format": "minimal"},
                                units=UNITS["messages.get"])  # fmt: skip
        await self.labels.know(set(_strings(m.get("labelIds"))))
        marks = self.labels.marks(_strings(m.get("labelIds")))
        if blocked(marks):
            return None
        await writes.set_marks(self.http, self.labels, thread, {mark: True})
        return marks

    async def set_marks(self, thread: ThreadRef, marks: Mapping[Mark, bool]) -> None:
        await self.ready()
        await writes.set_marks(self.http, self.labels, thread, marks)

    async def add_note(self, thread: ThreadRef, note: Note) -> None:
        await self.ready()
        labels = [await self.labels.ensure(self.notes_name)]
        if note.account:
            labels.append(await self.labels.ensure(self.notes_name + "/account"))
        await writes.add_note(self.http, thread, note, labels, self.address, self.clock.now())

    async def send(self, reply: OutgoingReply) -> None:
        await self.ready()
        if not reply.from_email:  # the team mailbox's own address (a nudge)
            reply = replace(reply, from_email=self.address)
        await writes.send(self.http, reply, self.clock.now())

    async def find_sent(self, message_id: str) -> SentLookup | None:
        await self.ready()
        return await writes.find_sent(self.http, message_id)

    async def send_drafted(self, handle: str, reply: OutgoingReply) -> None:
        """Replies go out with `messages.send`, never as drafts, so `find_sent` never reports
        one drafted; should a draft with our Message-ID exist, it was not sent: send anew."""
        await self.send(reply)


def _message(s: MailSummary, text: str, warnings: tuple[str, ...]) -> Message:
    return Message(
        id=s.id, thread_id=s.thread_id, sender=s.from_email, sender_name=s.from_name,
        received_at=s.received_at, subject=s.subject, to=s.to, cc=s.cc,
        message_id=s.message_id, preview=s.preview, body=text, warnings=warnings,
        references=s.references,
    )  # fmt: skip


def _objects(value: Any, what: str) -> list[Json]:
    """A list of objects with a string id; a missing list is an empty one (Gmail leaves
    the key out when nothing matched), anything else a malformed answer."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(v, dict) and isinstance(v.get("id"), str) for v in value
    ):
        raise ProviderError(f"{what}: Gmail's answer is not a list of objects with ids")
    return value


def _record_labels(records: list[Json]) -> set[str]:
    out: set[str] = set()
    for record in records:
        for kind in ("messagesAdded", "labelsAdded", "labelsRemoved"):
            for item in _dicts(record.get(kind)):
                m = item.get("message")
                out.update(_strings(m.get("labelIds")) if isinstance(m, dict) else ())
                out.update(_strings(item.get("labelIds")))
    return out


def _dicts(value: Any) -> list[Json]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
