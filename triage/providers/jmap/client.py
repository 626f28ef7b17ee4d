"""The JMAP provider (RFC 8620 core, RFC 8621 mail): threads in, shared state and replies out.

Reads the open client threads (full, then incremental with `Email/changes`),
fetches a thread's messages with their text for the thread view, and turns
JMAP's emails and keywords into the domain's threads, messages and marks. Writes
(marks, notes, replies) are `triage.providers.jmap.writes`; the account's
mailboxes and the request helpers that fit the server's limits are
`triage.providers.jmap.account`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence

from triage.clock import Clock, SystemClock
from triage.domain import history
from triage.domain.model import Mark, Message, MessageInfo, Note, ThreadData, ThreadRef
from triage.providers.base import (
    CannotCalculateChanges,
    Delta,
    OutgoingReply,
    ProviderError,
    SentLookup,
    Snapshot,
    ThreadGone,
)
from triage.providers.health import Health
from triage.providers.jmap import health as jmap_health
from triage.providers.jmap import writes
from triage.providers.jmap.account import JmapAccount
from triage.providers.jmap.events import EventSource
from triage.providers.jmap.http import JmapHttp
from triage.providers.jmap.marks import KW_ACCOUNT_NOTE, KW_NOTE, marks_of
from triage.providers.jmap.parse import (
    EmailSummary,
    as_list,
    body_of,
    ids_of,
    summary_of,
    thread_of,
    unreadable,
    went_back,
)

SUMMARY_PROPS = [
    "id", "threadId", "mailboxIds", "keywords", "from", "to", "cc", "subject",
    "receivedAt", "messageId", "inReplyTo", "references", "preview",
]  # fmt: skip
MAX_BODY_BYTES = 1_000_000
BODY_ARGS = {
    "fetchTextBodyValues": True,
    "fetchHTMLBodyValues": True,
    "maxBodyValueBytes": MAX_BODY_BYTES,
}


class JmapProvider:
    """A `Provider` speaking JMAP to one account of one server."""

    def __init__(
        self, http: JmapHttp, *, mailbox: str = "inbox", notes_mailbox: str = "",
        clock: Clock | None = None,
    ) -> None:  # fmt: skip
        self.http = http
        self.clock = clock or SystemClock()
        self.account = JmapAccount(http, mailbox=mailbox, notes_mailbox=notes_mailbox)
        self._events: EventSource | None = None

    @property
    def account_id(self) -> str:
        return self.account.id

    # -- connection --------------------------------------------------------------

    async def connect(self) -> None:
        session = await self.account.connect()
        if self._events is not None:  # connected again (after an offline start)
            await self._events.aclose()
            self._events = None
        if session.event_source_url:
            self._events = EventSource(self.http, session.event_source_url)

    async def health(self) -> Health:
        """For `triage doctor`: connect, then the rights triage needs and the server's clock."""
        return await jmap_health.health(self.account)

    async def aclose(self) -> None:
        if self._events is not None:
            await self._events.aclose()
        await self.http.aclose()

    async def wait_for_changes(self, timeout: float) -> bool:
        """Wait for a push event (True) or the timeout (False): polling when push is absent."""
        if self._events is not None and await self._events.supported():
            return await self._events.wait(timeout)
        await asyncio.sleep(timeout)
        return False

    # -- reading -------------------------------------------------------------------

    async def full_sync(self) -> Snapshot:
        """Every thread with a message in the watched mailbox, and the state to go on from."""
        state = str((await self.account.call("Email/get", {"ids": [], "properties": ["id"]}))
                    .get("state", ""))  # fmt: skip
        seeds = await self.account.query_all({"inMailbox": self.account.watched}, collapse=True)
        heads = await self.account.get_emails(seeds, ["id", "threadId"])
        threads, _gone, _ = await self._threads(sorted({thread_of(e) for e in heads}))
        return Snapshot(state, tuple(threads), await self._account_notes())

    async def changes(self, since_state: str, known: Mapping[str, str]) -> Delta:
        """What changed since `since_state`: the threads to refresh and the ones gone.

        `known` maps the message ids we hold to their threads, so that a destroyed
        message (which JMAP reports by id only) refreshes its thread."""
        state, changed, destroyed = await self._email_changes(since_state)
        if not changed and not destroyed:
            return Delta(state, (), (), (), ())
        heads = await self.account.get_emails(sorted(changed), ["id", "threadId"])
        thread_ids = {thread_of(e) for e in heads}
        thread_ids.update(known[e] for e in destroyed if e in known)  # reads it only then
        threads, gone, account_note = await self._threads(sorted(thread_ids))
        account = await self._account_notes() if account_note else ()
        return Delta(state, tuple(threads), tuple(gone), tuple(sorted(destroyed)), account)

    async def _email_changes(self, since: str) -> tuple[str, set[str], set[str]]:
        changed: set[str] = set()
        destroyed: set[str] = set()
        state = since
        while True:
            r = await self.account.call("Email/changes", {"sinceState": state, "maxChanges": 5000})
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
                return state, changed, destroyed

    async def thread_message_ids(self, thread_id: str) -> list[str]:
        """The thread's mail as the server has it now, oldest first (notes left out).

        Asked of the server, not the cache: a reply just sent shows before the next sync.
        Only ids and flags are read: a thread of 10,000 messages costs one small answer."""
        await self.account.ready()
        threads = await self.account.get_many("Thread/get", [thread_id], {})
        if not threads:
            raise ThreadGone(f"the conversation {thread_id!r} is no longer on the server")
        ids = [str(i) for t in threads for i in as_list(t.get("emailIds"))]
        now = self.clock.now()
        heads = await self.account.get_emails(ids, ["id", "threadId", "keywords", "mailboxIds",
                                                     "receivedAt"])  # fmt: skip
        infos = [summary_of(e, now, thread_id) for e in heads]
        mail = [s for s in infos if not self._is_note(s)]
        return [s.id for s in sorted(mail, key=lambda s: s.received_at)]

    async def messages(self, email_ids: Sequence[str]) -> list[Message]:
        """These emails with their text, in the order asked (unreadable ones are flagged)."""
        await self.account.ready()
        args = {"properties": [*SUMMARY_PROPS, "textBody", "htmlBody", "bodyValues"], **BODY_ARGS}
        got = {str(e["id"]): e for e in await self.account.get_emails(list(email_ids), None,
                                                                      extra=args)}  # fmt: skip
        now = self.clock.now()
        out = []
        for i in email_ids:
            e = got.get(i)
            if e is None:
                s = unreadable(i, "", now, "it could not be fetched from the server")
                out.append(_message(s, "", s.problems))
            else:
                s = summary_of(e, now)
                text, warnings = body_of(e)
                out.append(_message(s, text, (*s.problems, *warnings)))
        return out

    async def _threads(self, thread_ids: list[str]) -> tuple[list[ThreadData], list[str], bool]:
        """The threads found, the ids gone, and whether an account-level note is among them."""
        found = {
            str(t["id"]): ids_of(t.get("emailIds"), "Thread/get")
            for t in await self.account.get_many("Thread/get", thread_ids, {})
        }
        gone = [t for t in thread_ids if t not in found]
        all_ids = [i for ids in found.values() for i in ids]
        emails = {str(e["id"]): e for e in await self.account.get_emails(all_ids, SUMMARY_PROPS)}
        now = self.clock.now()
        summaries = {
            tid: [summary_of(emails[i], now, tid) if i in emails
                  else unreadable(i, tid, now, "it could not be fetched from the server")
                  for i in ids]
            for tid, ids in found.items()
        }  # fmt: skip
        every = [s for group in summaries.values() for s in group]
        notes = await self._notes(every)
        out = []
        for tid, group in summaries.items():
            if group:
                out.append(self._thread(tid, group, notes))
            else:
                gone.append(tid)
        return out, gone, any(KW_ACCOUNT_NOTE in s.keywords for s in every)

    def _thread(self, tid: str, emails: list[EmailSummary], notes: dict[str, Note]) -> ThreadData:
        emails.sort(key=lambda e: e.received_at)
        mail = [e for e in emails if not self._is_note(e)]
        note_ids = tuple(e.id for e in emails if self._is_note(e))
        watched = self.account.watched
        return ThreadData(
            thread_id=tid,
            messages=tuple(_info(e, watched) for e in mail),
            notes=tuple(notes[i] for i in note_ids if i in notes),
            note_ids=note_ids,
        )

    async def _notes(self, emails: list[EmailSummary]) -> dict[str, Note]:
        """The notes among these emails, read from their bodies (others' mail is skipped)."""
        ids = [e.id for e in emails if self._is_note(e)]
        out = {}
        for i, text in (await self._bodies(ids)).items():
            note = history.decode(text)
            if note is not None:
                out[i] = note
        return out

    def _is_note(self, e: EmailSummary) -> bool:
        """A note by its keyword, or by where it is filed (should its flags be unreadable,
        a note must still never count as a staff reply)."""
        return KW_NOTE in e.keywords or bool(self.account.notes and self.account.notes in
                                              e.mailbox_ids)  # fmt: skip

    async def account_notes(self) -> tuple[Note, ...]:
        """The team-level notes (account reassignments, absences), wherever filed."""
        await self.account.ready()
        return await self._account_notes()

    async def claim(
        self, thread: ThreadRef, mark: Mark, blocked: Callable[[frozenset[Mark]], bool]
    ) -> frozenset[Mark] | None:
        return await writes.claim(self.account, thread, mark, blocked)

    async def _account_notes(self) -> tuple[Note, ...]:
        if not self.account.notes:
            return ()
        flt = {"inMailbox": self.account.notes, "hasKeyword": KW_ACCOUNT_NOTE}
        ids = await self.account.query_all(flt, collapse=False)
        notes = (history.decode(text) for text in (await self._bodies(ids)).values())
        return tuple(n for n in notes if n is not None)

    async def _bodies(self, email_ids: list[str]) -> dict[str, str]:
        args = {"properties": ["id", "textBody", "htmlBody", "bodyValues"], **BODY_ARGS}
        emails = await self.account.get_emails(email_ids, None, extra=args)
        return {str(e["id"]): body_of(e)[0] for e in emails}

    # -- writing (triage.providers.jmap.writes) ---------------------------------------

    async def set_marks(self, thread: ThreadRef, marks: Mapping[Mark, bool]) -> None:
        await writes.set_marks(self.account, thread, marks)

    async def add_note(self, thread: ThreadRef, note: Note) -> None:
        await writes.add_note(self.account, thread, note)

    async def send(self, reply: OutgoingReply) -> None:
        await writes.send(self.account, reply)

    async def find_sent(self, message_id: str) -> SentLookup | None:
        return await writes.find_sent(self.account, message_id)

    async def send_drafted(self, handle: str, reply: OutgoingReply) -> None:
        await writes.submit_existing(self.account, handle, reply.from_email)


def _info(e: EmailSummary, watched: str) -> MessageInfo:
    """The domain's view of one email; an unreadable one stays in the watched mailbox."""
    return MessageInfo(
        id=e.id,
        thread_id=e.thread_id,
        sender=e.from_email,
        sender_name=e.from_name,
        to=e.to,
        cc=e.cc,
        subject=e.subject,
        received_at=e.received_at,
        message_id=e.message_id,
        references=e.references,
        in_watched=watched in e.mailbox_ids or not e.mailboxes_known,
        marks=marks_of(e.keywords),
        problem="; ".join(e.problems),
        preview=e.preview,
    )


def _message(e: EmailSummary, text: str, warnings: tuple[str, ...]) -> Message:
    return Message(
        id=e.id,
        thread_id=e.thread_id,
        sender=e.from_email,
        sender_name=e.from_name,
        received_at=e.received_at,
        subject=e.subject,
        to=e.to,
        cc=e.cc,
        message_id=e.message_id,
        preview=e.preview,
        body=text,
        warnings=warnings,
        references=e.references,
    )
