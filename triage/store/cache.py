"""The local cache: conversations, message bodies, outbox and audit log in TinyDB.

`Cache` is the only object that owns the TinyDB handles (one per process) and the
only one that sees documents: everything it takes and returns is a domain value
(`triage.store.documents` converts). It keeps four files in one directory so
the file read at every start and rewritten by every sync stays small:
- `cache.json` (hot): `conversations` (one compact document per thread, no
  per-message data: `triage.store.conversation_docs`), `sync` (state per
  account), `meta` (schema version). Read whole at start; most conversations
  are built only when shown (`stored()`);
- `threads.json`: each thread's reference (mail ids, References, staff
  Message-IDs), read when an action or a sync first needs one, never at start;
- `bodies.json`: full message bodies, written when a thread is opened;
- `outbox.json`: drafts and queued actions (`outbox`) and the `audit` log.
Every change is one locked transaction and one atomic write of each file it
changes (`triage.store.storage`); a sync writes the thread references first, so
a crash between the two writes leaves references that are only newer. An
unreadable or foreign file, or one holding a malformed document, is moved aside
and reported; the provider holds the shared
truth, so the hot cache is simply rebuilt.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tinydb.table import Document

from triage.clock import Clock, SystemClock
from triage.domain.model import Conversation, DeferredRef, Message, ThreadRef, Tier
from triage.domain.ordering import NO_DEADLINE, Unbuilt
from triage.domain.outbox import OutboxStatus
from triage.store.conversation_docs import (
    conversation_doc,
    conversation_from_doc,
    legacy_conversation,
    message_ids,
    plain_waiting,
    queue_key,
    ref_doc,
    ref_from_doc,
)
from triage.store.documents import (
    AuditDoc,
    DocumentError,
    OutboxItem,
    SyncState,
    message_doc,
    message_from_doc,
    outbox_doc,
    outbox_from_doc,
    sync_state_doc,
    sync_state_from_doc,
)
from triage.store.files import CacheRefused, check_status, prepare_directory
from triage.store.storage import CacheDB, CacheError, CacheWriteError, Data
from triage.store.tables import Doc, KeyedTable
from triage.text.isotime import iso

__all__ = ["SCHEMA_VERSION", "Cache", "CacheError", "CacheRefused", "CacheWriteError",
           "OutboxConflict", "SyncState"]  # fmt: skip


class OutboxConflict(KeyError):
    """An outbox item was not in the state the write expected: another process has it."""


SCHEMA_VERSION = 2  # compact conversation documents (schema 1: long keys, ISO times)
LEGACY_SCHEMA = 1  # migrated when opened
BODIES_KEEP = 2_000  # threads whose bodies are kept; older ones are fetched again
AUDIT_KEEP = 10_000  # the outbox file is rewritten per draft save: keep it bounded
_AUDIT_SLACK = 500  # trim in chunks, not on every append


class Cache:
    """The TinyDB cache facade; one per process, safe to share between threads."""

    def __init__(self, path: Path, *, shared: bool = False, clock: Clock | None = None) -> None:
        self.path = Path(path).expanduser()
        self.reports: list[str] = []  # to tell the user once; the reader clears it
        self.needs_full_sync = False
        self._clock = clock or SystemClock()
        self._lock = threading.RLock()  # TinyDB is not thread-safe
        self._opening, self._closed = True, False
        try:
            self._open_all(shared)
        except CacheError:
            raise
        except OSError as e:  # a bad cache.path, a read-only or missing directory
            reason = e.strerror or str(e)
            raise CacheError(
                f"cannot use the cache at {self.path}: {reason}; check cache.path"
            ) from None
        self._threads = KeyedTable(self._hot, "conversations", "i")
        self._sync = KeyedTable(self._hot, "sync", "account")
        self._bodies = KeyedTable(self._body_db, "bodies", "thread_id")
        self._outbox = KeyedTable(self._out_db, "outbox", "id")

    def _open_all(self, shared: bool) -> None:
        group = prepare_directory(self.path.parent, shared)
        options: dict[str, Any] = {
            "file_mode": 0o660 if shared else 0o600,
            "group": group,
            "now": self._clock.now,
            "initial": _initial_data,
            "validate": self._schema_problem,
            # Every file is checked when opened (owner, mode, a regular file):
            "verify": lambda path, st: check_status(path, st, group),
        }
        # Not read here: the start never needs it. Read whole when first needed, each
        # document checked (one of the wrong shape: the file is moved aside).
        refs_options = {**options, "validate": lambda data: self._schema_problem(data)
                        or _refs_problem(data)}  # fmt: skip
        self._ref_db = CacheDB(_sidecar(self.path, "threads"), on_corrupt=self._refs_corrupt,
                               **refs_options)  # fmt: skip
        self._refs = KeyedTable(self._ref_db, "refs", "i")
        self._hot = self._open(self.path, options, self._hot_corrupt)
        self._body_db = self._open(_sidecar(self.path, "bodies"), options, self._bodies_corrupt)
        self._out_db = self._open(_sidecar(self.path, "outbox"), options, self._outbox_corrupt)
        self._opening = False  # from now on a schema 1 file is a stranger's, not migrated

    def _open(
        self, path: Path, options: dict[str, Any], on_corrupt: Callable[[Path, Path, str], None]
    ) -> CacheDB:
        db = CacheDB(path, on_corrupt=on_corrupt, **options)
        with db.transaction():  # loads (or moves aside) the file; creates it if missing
            if not path.exists():
                db.atomic.write(db.atomic.read() or _initial_data())
                if path == self.path:
                    self.needs_full_sync = True  # no cache yet (or moved aside)
            elif path == self.path:
                self._upgrade(db)
                if not self._ref_db.atomic.path.exists() and (db.atomic.read() or {}).get(
                    "conversations"
                ):
                    self.needs_full_sync = True  # the thread references were lost
        return db

    def _upgrade(self, db: CacheDB) -> None:
        """A hot file written by triage 0.1-0.2 (schema 1), migrated in place: its
        conversations into compact documents and their thread references (one write
        of each file, in the caller's transaction); a document it cannot read: the
        file is moved aside."""
        data = db.atomic.read() or {}
        if {doc.get("schema") for doc in data.get("meta", {}).values()} != {LEGACY_SCHEMA}:
            return
        try:
            convs = {k: legacy_conversation(d) for k, d in data.get("conversations", {}).items()}
        except DocumentError as e:
            db.atomic.discard_as_corrupt(str(e))
            return
        with self._ref_db.transaction():
            refs = {self._refs.assign(c.thread_id): ref_doc(c) for c in convs.values()}
            self._refs.replace(refs)
            _stamp(self._ref_db, "gen", 1)
        data["conversations"] = {k: conversation_doc(c) for k, c in convs.items()}
        data["meta"] = {"1": {"schema": SCHEMA_VERSION, "refs": 1}}
        db.atomic.write(data)

    # -- corrupt files --------------------------------------------------------

    def _hot_corrupt(self, path: Path, moved: Path, reason: str) -> None:
        self.needs_full_sync = True
        self.reports.append(
            f"The cache file {path} was unreadable ({reason}); moved it aside to {moved} "
            "and rebuilding it from the provider."
        )

    def _schema_problem(self, data: Data) -> str | None:
        """A schema 1 file is migrated when the cache opens it; met later (an older
        triage rewrote a shared cache), it is a file this version cannot use."""
        return _schema_problem(data, legacy=self._opening)

    def _refs_corrupt(self, path: Path, moved: Path, reason: str) -> None:
        self.needs_full_sync = True
        self.reports.append(
            f"The thread-reference cache {path} was unreadable ({reason}); moved it aside "
            f"to {moved} and rebuilding it from the provider."
        )

    def _bodies_corrupt(self, path: Path, moved: Path, reason: str) -> None:
        self.reports.append(
            f"The message-body cache {path} was unreadable ({reason}); moved it aside to "
            f"{moved}. Bodies are fetched again when you open a conversation."
        )

    def _outbox_corrupt(self, path: Path, moved: Path, reason: str) -> None:
        self.reports.append(
            f"WARNING: the outbox file {path} was unreadable ({reason}). Unsent replies, "
            f"drafts and queued actions in it may be lost. It was kept as {moved} for "
            "manual recovery: do not delete it before checking it. A new, empty outbox "
            "was started."
        )

    def _malformed(self, db: CacheDB, error: DocumentError) -> None:
        """A document of the wrong shape: the whole file is handled like a corrupt one."""
        with db.transaction():
            db.atomic.discard_as_corrupt(str(error))

    # -- conversations ------------------------------------------------------------

    def conversations(self) -> list[Conversation]:
        """Every cached conversation, built (a malformed document: the file is moved aside)."""
        with self._lock:
            try:
                load = self.thread_ref
                return [conversation_from_doc(d, load) for d in self._threads.raw().values()]
            except DocumentError as e:
                self._malformed(self._hot, e)
                return []

    def stored(self) -> list[Conversation | Unbuilt]:
        """Every cached conversation, as the console's start needs them: the plain waiting
        ones unbuilt with their queue key, the answered ones unbuilt and not listed, the
        few others (snoozed, escalated, ...) built. A document
        whose key cannot be read moves the file aside; one that fails to build later
        becomes a conversation saying so, and the next sync is a full one."""
        out: list[Conversation | Unbuilt] = []
        with self._lock:
            try:
                for d in self._threads.raw().values():
                    if not d.get("w"):  # answered: not in the queue, built when asked for
                        out.append(Unbuilt(queue_key(d), d, self._build, queued=False))
                    elif plain_waiting(d):
                        out.append(Unbuilt(queue_key(d), d, self._build, queued=True))
                    else:
                        out.append(conversation_from_doc(d, self.thread_ref))
            except DocumentError as e:
                self._malformed(self._hot, e)
                return []
        return out

    def _build(self, doc: dict[str, Any]) -> Conversation:
        try:
            return conversation_from_doc(doc, self.thread_ref)
        except DocumentError as e:
            self.needs_full_sync = True
            self.reports.append(f"A cached conversation could not be read ({e}); "
                                "the next sync rebuilds the cache from the provider.")  # fmt: skip
            return _unreadable(doc, str(e))

    def thread_ref(self, thread_id: str, subject: str, email: str) -> ThreadRef:
        """A conversation's thread reference (the first call reads the references file).
        Not stored, or unreadable: only what the conversation knows, and the next sync is
        a full one."""
        with self._lock:
            if self._closed:
                return ref_from_doc(None, thread_id, subject, email)
            self._check_refs()
            doc = self._refs.get(thread_id)
            try:
                return ref_from_doc(doc, thread_id, subject, email)
            except DocumentError as e:
                self._malformed(self._ref_db, e)
                return ref_from_doc(None, thread_id, subject, email)

    def message_threads(self) -> dict[str, str]:
        """Thread id by the provider id of each cached mail and note (reads the
        references file)."""
        with self._lock:
            self._check_refs()
            docs = list(self._refs.raw().values())
        out: dict[str, str] = {}
        for d in docs:
            out.update(dict.fromkeys(message_ids(d), str(d.get("i", ""))))
        return out

    def _check_refs(self) -> None:
        """The thread references and the hot file carry the number of the sync that
        wrote them. A crash or a full disk between the two writes leaves the references
        a round ahead (a removed thread's mail already gone from them): the next sync is
        a full one."""
        hot = _meta(self._hot).get("refs")
        refs = _meta(self._ref_db).get("gen")
        if hot != refs and not self.needs_full_sync:
            self.needs_full_sync = True

    def apply_sync(
        self, account: str, upserts: Iterable[Conversation], removed: Iterable[str],
        state: SyncState,
    ) -> None:  # fmt: skip
        """Store one sync round: whole-conversation upserts, removals, the account's state.

        One storage write for all of it. A thread both upserted and removed is removed.
        """
        gone = set(removed)
        convs = [c for c in upserts if c.thread_id not in gone]
        fresh = {c.thread_id: conversation_doc(c) for c in convs}
        # A reference not read from the provider this round (a conversation re-owned from
        # the cache) is left as stored.
        refs = {c.thread_id: ref_doc(c) for c in convs if not isinstance(c.ref, DeferredRef)}
        with self._lock, self._hot.transaction():
            _replace_keyed(self._threads, fresh, gone)
            doc = {"account": account, "state": sync_state_doc(state)}
            self._sync.replace({self._sync.assign(account): doc})
            if refs or gone:
                self._check_refs()
                gen = int(_meta(self._hot).get("refs") or 0) + 1
                with self._ref_db.transaction():  # written first, when it ends
                    _replace_keyed(self._refs, refs, gone)
                    _stamp(self._ref_db, "gen", gen)
                _stamp(self._hot, "refs", gen)

    def sync_state(self, account: str) -> SyncState | None:
        with self._lock:
            doc = self._sync.get(account)
            return None if doc is None else sync_state_from_doc(doc["state"])

    # -- bodies -----------------------------------------------------------------------

    def bodies(self, thread_id: str) -> list[Message] | None:
        """A thread's messages as last fetched, or None (never fetched, or evicted)."""
        with self._lock:
            doc = self._bodies.get(thread_id)
            if doc is None:
                return None
            try:
                return [message_from_doc(thread_id, m) for m in doc["messages"]]
            except (DocumentError, KeyError, TypeError) as e:
                self._malformed(self._body_db, DocumentError(str(e)))
                return None

    def threads_mentioning(self, words: Iterable[str]) -> set[str]:
        """Threads whose cached messages (subject or text) hold every word (case folded)."""
        wanted = [w.casefold() for w in words]
        found: set[str] = set()
        with self._lock:
            for doc in self._bodies.raw().values():
                mail = [m for m in doc.get("messages", []) if isinstance(m, dict)]
                text = " ".join(f"{m.get('subject', '')} {m.get('text', '')}" for m in mail)
                if wanted and all(w in text.casefold() for w in wanted):
                    found.add(str(doc.get("thread_id", "")))
        return found

    def store_bodies(self, thread_id: str, messages: Iterable[Message]) -> None:
        """Keep a thread's full messages; the least recently stored are evicted."""
        doc = {"thread_id": thread_id, "messages": [message_doc(m) for m in messages]}
        with self._lock, self._body_db.transaction():
            ids = self._bodies.ids()
            evict = [ids.pop(thread_id)] if thread_id in ids else []
            doc_id = self._bodies.fresh_id(thread_id)  # newest id = most recently stored
            if len(ids) > BODIES_KEEP:
                oldest = sorted(ids.items(), key=lambda kv: kv[1])[: len(ids) - BODIES_KEEP]
                evict += [ids.pop(tid) for tid, _ in oldest]
            self._bodies.replace({doc_id: doc}, remove=evict)

    # -- outbox -----------------------------------------------------------------------

    def outbox(self) -> list[OutboxItem]:
        """Drafts and queued actions, oldest first.

        An item of the wrong shape is moved to the file's `quarantine` table and
        reported: the other drafts stay usable, and nothing is deleted."""
        with self._lock:
            raw = self._outbox.raw()
            items, bad = [], []
            for k in sorted(raw, key=int):
                try:
                    items.append(outbox_from_doc(raw[k]))
                except DocumentError as e:
                    bad.append((k, e))
            if bad:
                self._quarantine(bad)
            return items

    def _quarantine(self, bad: list[tuple[str, DocumentError]]) -> None:
        with self._out_db.transaction():
            data = self._out_db.atomic.read() or {}
            outbox, kept = data.setdefault("outbox", {}), data.setdefault("quarantine", {})
            moved = {int(k) for k, _e in bad if k in outbox}
            for doc_id in moved:
                kept[str(len(kept) + 1)] = outbox.pop(str(doc_id))
            ids = self._outbox.ids()
            for key in [key for key, doc_id in ids.items() if doc_id in moved]:
                del ids[key]
            self._out_db.atomic.write(data)
        for _k, e in bad:
            self.reports.append(
                f"An item of the outbox {self._out_db.atomic.path} could not be read ({e}); "
                "it was kept aside in the file's 'quarantine' table, the rest is in use."
            )

    def outbox_item(self, item_id: str) -> OutboxItem | None:
        with self._lock:
            doc = self._outbox.get(item_id)
            if doc is None:
                return None
            try:
                return outbox_from_doc(doc)
            except DocumentError:
                self.outbox()  # quarantines it, and says so
                return None

    def put_outbox(
        self, item: OutboxItem, *, replace: bool = False, expect: OutboxStatus | None = None
    ) -> None:
        """Insert or replace the item with this id (atomic, one write).

        With `replace`, the item must still be there: KeyError when it is gone
        (another console may have sent or removed it, and the caller must not act
        on it as if it were still queued). With `expect`, it must still be in that
        state, checked inside the same locked write: OutboxConflict when another
        process moved it first (two of them must never both start sending it)."""
        if not item.id:
            raise ValueError("an outbox item needs a non-empty id")
        with self._lock, self._out_db.transaction():
            current = self._outbox.get(item.id)
            if replace and current is None:
                raise KeyError(f"outbox item {item.id!r} is gone (sent or removed elsewhere?)")
            if expect is not None and (current is None or current.get("status") != expect.value):
                raise OutboxConflict(f"outbox item {item.id!r} was moved by another process")
            self._outbox.replace({self._outbox.assign(item.id): outbox_doc(item)})

    def remove_outbox(self, item_id: str) -> None:
        with self._lock, self._out_db.transaction():
            self._outbox.delete(item_id)

    # -- audit ------------------------------------------------------------------------

    def audit(self, actor: str, action: str, thread_id: str, detail: str) -> None:
        """Append who did what, now."""
        entry: AuditDoc = {"actor": actor, "action": action, "thread_id": thread_id,
                           "detail": detail, "at": iso(self._clock.now())}  # fmt: skip
        with self._lock, self._out_db.transaction():
            table = self._out_db.table("audit")
            ids = sorted(map(int, (self._out_db.atomic.read() or {}).get("audit", {})))
            table.insert(Document(dict(entry), doc_id=(ids[-1] + 1) if ids else 1))
            if len(ids) + 1 > AUDIT_KEEP + _AUDIT_SLACK:
                table.remove(doc_ids=ids[: len(ids) + 1 - AUDIT_KEEP])

    def audit_log(self, limit: int = 100) -> list[AuditDoc]:
        """The last `limit` entries, oldest first."""
        with self._lock:
            raw = (self._out_db.atomic.read() or {}).get("audit", {})
            keys = sorted(raw, key=int)[-limit:] if limit > 0 else []
            return [AuditDoc(**raw[k]) for k in keys]  # type: ignore[typeddict-item]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for db in (self._hot, self._ref_db, self._body_db, self._out_db):
                db.close()


def _replace_keyed(table: KeyedTable, fresh: dict[str, Doc], gone: set[str]) -> None:
    """Store `fresh` by key and drop the `gone` keys (in the caller's transaction)."""
    ids = table.ids()
    stale = [ids[key] for key in gone.union(fresh) if key in ids]
    for key in gone:
        ids.pop(key, None)
    table.replace({table.assign(key): doc for key, doc in fresh.items()}, remove=stale)


def _meta(db: CacheDB) -> dict[str, Any]:
    return dict((db.atomic.read() or {}).get("meta", {}).get("1", {}))


def _stamp(db: CacheDB, key: str, value: int) -> None:
    """Set one field of a file's meta document (inside the caller's transaction)."""
    data = db.atomic.read() or {}
    meta = data.setdefault("meta", {})
    meta["1"] = {**meta.get("1", {"schema": SCHEMA_VERSION}), key: value}
    db.atomic.write(data)


def _refs_problem(data: Data) -> str | None:
    """Why a thread-references file cannot be used (a document of the wrong shape)."""
    for doc in data.get("refs", {}).values():
        if not isinstance(doc.get("i"), str) or not isinstance(doc.get("rt", ""), str):
            return "it holds a thread reference without its thread id"
        for key in ("m", "ni", "rf", "sm"):
            values = doc.get(key, ())
            if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
                return f"it holds a thread reference whose {key!r} is not a list of strings"
    return None


def _unreadable(doc: dict[str, Any], reason: str) -> Conversation:
    """What the queue shows for a document that passed the start's check but not the build."""
    deadline, _tier, first, tid = queue_key(doc)
    at = datetime.fromtimestamp(first, UTC)
    waiting = bool(doc.get("w"))
    return Conversation(thread_id=tid, subject="(unreadable in the cache)", client_email="",
                        client_name="", client_key="", region="", region_guessed=False,
                        owner="", tier=Tier.STANDARD, waiting=waiting, first_arrival=at,
                        last_message_at=at, message_count=0,
                        deadline=datetime.fromtimestamp(deadline, UTC)
                        if waiting and deadline != NO_DEADLINE else None,
                        problem=f"the cached copy is unreadable ({reason}); refreshed at "
                                "the next sync")  # fmt: skip


def _initial_data() -> Data:
    return {"meta": {"1": {"schema": SCHEMA_VERSION}}}


def _schema_problem(data: Data, *, legacy: bool) -> str | None:
    versions = {doc.get("schema") for doc in data.get("meta", {}).values()}
    if versions == {SCHEMA_VERSION} or (legacy and versions == {LEGACY_SCHEMA}):
        return None
    if not versions:
        return "it has no schema version, so it is not a triage cache file"
    found = ", ".join(sorted(map(str, versions)))
    return f"it was written with cache schema {found}; this triage uses schema {SCHEMA_VERSION}"


def _sidecar(path: Path, kind: str) -> Path:
    # The default `cache.json` gets `bodies.json` and `outbox.json`; another name
    # gets its own sidecars, so two caches in one directory never share them.
    name = f"{kind}.json" if path.name == "cache.json" else f"{path.stem}.{kind}.json"
    return path.with_name(name)
