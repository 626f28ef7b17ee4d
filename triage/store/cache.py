"""The local cache: conversations, message bodies, outbox and audit log in TinyDB.

`Cache` is the only object that owns the TinyDB handles (one per process) and the
only one that sees documents: everything it takes and returns is a domain value
(`triage.store.documents` converts). It keeps three files in one directory so
the file rewritten on every action stays small:
- `cache.json` (hot): `conversations` (one small document per thread, no
  bodies), `sync` (state per account), `meta` (schema version);
- `bodies.json`: full message bodies, written when a thread is opened;
- `outbox.json`: drafts and queued actions (`outbox`) and the `audit` log.
Every change is one locked transaction and one atomic file write
(`triage.store.storage`). An unreadable or foreign file, or one holding a
malformed document, is moved aside and reported; the provider holds the shared
truth, so the hot cache is simply rebuilt.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from tinydb.table import Document

from triage.clock import Clock, SystemClock
from triage.domain.model import Conversation, Message
from triage.domain.outbox import OutboxStatus
from triage.store.documents import (
    AuditDoc,
    DocumentError,
    OutboxItem,
    SyncState,
    conversation_doc,
    conversation_from_doc,
    message_doc,
    message_from_doc,
    outbox_doc,
    outbox_from_doc,
    sync_state_doc,
    sync_state_from_doc,
)
from triage.store.files import CacheRefused, check_status, prepare_directory
from triage.store.storage import CacheDB, CacheError, CacheWriteError, Data
from triage.store.tables import KeyedTable
from triage.text.isotime import iso

__all__ = ["SCHEMA_VERSION", "Cache", "CacheError", "CacheRefused", "CacheWriteError",
           "OutboxConflict", "SyncState"]  # fmt: skip


class OutboxConflict(KeyError):
    """An outbox item was not in the state the write expected: another process has it."""


SCHEMA_VERSION = 1
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
        try:
            self._open_all(shared)
        except CacheError:
            raise
        except OSError as e:  # a bad cache.path, a read-only or missing directory
            reason = e.strerror or str(e)
            raise CacheError(
                f"cannot use the cache at {self.path}: {reason}; check cache.path"
            ) from None
        self._threads = KeyedTable(self._hot, "conversations", "thread_id")
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
            "validate": _schema_problem,
            # Every file is checked when opened (owner, mode, a regular file):
            "verify": lambda path, st: check_status(path, st, group),
        }
        self._hot = self._open(self.path, options, self._hot_corrupt)
        self._body_db = self._open(_sidecar(self.path, "bodies"), options, self._bodies_corrupt)
        self._out_db = self._open(_sidecar(self.path, "outbox"), options, self._outbox_corrupt)

    def _open(
        self, path: Path, options: dict[str, Any], on_corrupt: Callable[[Path, Path, str], None]
    ) -> CacheDB:
        db = CacheDB(path, on_corrupt=on_corrupt, **options)
        with db.transaction():  # loads (or moves aside) the file; creates it if missing
            if not path.exists():
                db.atomic.write(db.atomic.read() or _initial_data())
                if path == self.path:
                    self.needs_full_sync = True  # no cache yet (or moved aside)
        return db

    # -- corrupt files --------------------------------------------------------

    def _hot_corrupt(self, path: Path, moved: Path, reason: str) -> None:
        self.needs_full_sync = True
        self.reports.append(
            f"The cache file {path} was unreadable ({reason}); moved it aside to {moved} "
            "and rebuilding it from the provider."
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
        """Every cached conversation (a malformed document: the file is moved aside)."""
        with self._lock:
            try:
                return [conversation_from_doc(d) for d in self._threads.raw().values()]
            except DocumentError as e:
                self._malformed(self._hot, e)
                return []

    def apply_sync(
        self, account: str, upserts: Iterable[Conversation], removed: Iterable[str],
        state: SyncState,
    ) -> None:  # fmt: skip
        """Store one sync round: whole-conversation upserts, removals, the account's state.

        One storage write for all of it. A thread both upserted and removed is removed.
        """
        gone = set(removed)
        fresh = {c.thread_id: conversation_doc(c) for c in upserts if c.thread_id not in gone}
        with self._lock, self._hot.transaction():
            ids = self._threads.ids()
            stale = [ids[tid] for tid in gone.union(fresh) if tid in ids]
            for tid in gone:
                ids.pop(tid, None)
            docs = {self._threads.assign(tid): doc for tid, doc in fresh.items()}
            self._threads.replace(docs, remove=stale)
            doc = {"account": account, "state": sync_state_doc(state)}
            self._sync.replace({self._sync.assign(account): doc})

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
            for db in (self._hot, self._body_db, self._out_db):
                db.close()


def _initial_data() -> Data:
    return {"meta": {"1": {"schema": SCHEMA_VERSION}}}


def _schema_problem(data: Data) -> str | None:
    versions = {doc.get("schema") for doc in data.get("meta", {}).values()}
    if versions == {SCHEMA_VERSION}:
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
