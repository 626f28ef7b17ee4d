"""The local cache: conversations, message bodies, outbox and audit log in TinyDB.

`Cache` is the only object that owns the TinyDB handles (one per process). It
keeps three files in one directory so the file rewritten on every action stays
small:
- `cache.json` (hot): `conversations` (one small document per thread, no
  bodies), `sync` (state per account), `meta` (schema version);
- `bodies.json`: full message bodies, written when a thread is opened;
- `outbox.json`: drafts and queued actions (`outbox`) and the `audit` log.
Every change is one locked transaction and one atomic file write
(triage.store.storage). An unreadable or foreign file is moved aside and reported;
the provider holds the shared truth, so the hot cache is simply rebuilt.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

from triage.clock import Clock, SystemClock
from triage.store.storage import CacheDB, CacheError, CacheTable, CacheWriteError, Data

__all__ = ["SCHEMA_VERSION", "Cache", "CacheError", "CacheWriteError"]

SCHEMA_VERSION = 1
BODIES_KEEP = 2_000  # threads whose bodies are kept; older ones are fetched again
AUDIT_KEEP = 10_000  # the outbox file is rewritten per draft save: keep it bounded
_AUDIT_SLACK = 500  # trim in chunks, not on every append

Doc = dict[str, Any]


class _KeyIndex:
    """Key field value -> TinyDB doc id for one table; rebuilt when the file is re-read."""

    def __init__(self, db: CacheDB, table: str, key: str) -> None:
        self.db, self.name, self.key = db, table, key
        self._generation = -1
        self._ids: dict[str, int] = {}
        self._max = 0

    @property
    def table(self) -> CacheTable:
        return cast(CacheTable, self.db.table(self.name))

    def raw(self) -> dict[str, Doc]:
        """The table's documents by doc id, shared with the storage: read only."""
        data = self.db.atomic.read() or {}
        if self.db.atomic.generation != self._generation:
            self._rebuild(data)
        return data.get(self.name, {})

    def get(self, key: str) -> int | None:
        self.raw()
        return self._ids.get(key)

    def ids(self) -> dict[str, int]:
        self.raw()
        return self._ids

    def assign(self, key: str) -> int:
        """The doc id for `key`: its current one, or a fresh one (in a transaction)."""
        doc_id = self.get(key)
        if doc_id is None:
            self._max += 1
            doc_id = self._ids[key] = self._max
        return doc_id

    def fresh_id(self, key: str) -> int:
        self.raw()
        self._max += 1
        self._ids[key] = self._max
        return self._max

    def _rebuild(self, data: Data) -> None:
        table = data.get(self.name, {})
        self._ids = {doc[self.key]: int(doc_id) for doc_id, doc in table.items()}
        self._max = max(map(int, table), default=0)
        self._generation = self.db.atomic.generation


class Cache:
    """The TinyDB cache facade. Conversation dicts are JSON-safe; the sync engine owns them."""

    def __init__(self, path: Path, *, shared: bool = False, clock: Clock | None = None) -> None:
        self.path = Path(path).expanduser()
        self.reports: list[str] = []  # to tell the user once; the reader clears it
        self.needs_full_sync = False
        self._lock = threading.RLock()  # TinyDB is not thread-safe
        try:
            self._open_all(shared, clock)
        except CacheError:
            raise
        except OSError as e:  # a bad cache.path, a read-only or missing directory
            reason = e.strerror or str(e)
            raise CacheError(
                f"cannot use the cache at {self.path}: {reason}; check cache.path"
            ) from None
        self._threads = _KeyIndex(self._hot, "conversations", "thread_id")
        self._bodies = _KeyIndex(self._body_db, "bodies", "thread_id")
        self._outbox = _KeyIndex(self._out_db, "outbox", "id")

    def _open_all(self, shared: bool, clock: Clock | None) -> None:
        group = _prepare_directory(self.path.parent, shared)
        options: dict[str, Any] = {
            "file_mode": 0o660 if shared else 0o600,
            "group": group,
            "now": (clock or SystemClock()).now,
            "initial": _initial_data,
            "validate": _schema_problem,
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

    # -- conversations ------------------------------------------------------------

    def conversations(self) -> list[Doc]:
        """All conversations. Shared with the cache, not copied: treat them as read-only."""
        with self._lock:
            return list(self._threads.raw().values())

    def conversation(self, thread_id: str) -> Doc | None:
        with self._lock:
            doc_id = self._threads.get(thread_id)
            return None if doc_id is None else dict(self._threads.raw()[str(doc_id)])

    def apply_sync(
        self, account: str, upserts: list[Doc], removed: list[str], state: Mapping[str, Any]
    ) -> None:
        """Store one sync round: whole-document upserts, removals, the account's state.

        One storage write for all of it. A thread both upserted and removed is removed.
        """
        gone = set(removed)
        fresh = {_thread_id(doc): doc for doc in upserts}
        fresh = {tid: doc for tid, doc in fresh.items() if tid not in gone}
        with self._lock, self._hot.transaction():
            ids = self._threads.ids()
            stale = [ids[tid] for tid in gone.union(fresh) if tid in ids]
            for tid in gone:
                ids.pop(tid, None)
            docs = {self._threads.assign(tid): doc for tid, doc in fresh.items()}
            self._threads.table.replace_documents(docs, remove=stale)
            self._put_sync_state(account, dict(state))

    def _put_sync_state(self, account: str, state: Doc) -> None:
        table = cast(CacheTable, self._hot.table("sync"))
        found = [d.doc_id for d in table.all() if d.get("account") == account]
        doc_id = found[0] if found else max((d.doc_id for d in table.all()), default=0) + 1
        table.replace_documents({doc_id: {"account": account, "state": state}})

    def sync_state(self, account: str) -> Doc | None:
        with self._lock:
            for doc in self._hot.table("sync").all():
                if doc.get("account") == account:
                    return copy.deepcopy(dict(doc["state"]))
            return None

    def patch_conversation(self, thread_id: str, fields: Mapping[str, Any]) -> None:
        """Merge `fields` into one conversation (one write).

        A thread that is gone (removed by a sync, maybe in another process) is
        not an error: there is nothing left to patch.
        """
        if fields.get("thread_id", thread_id) != thread_id:
            raise ValueError("patch_conversation cannot change a thread_id")
        with self._lock, self._hot.transaction():
            doc_id = self._threads.get(thread_id)
            if doc_id is not None:
                _replace(self._threads, doc_id, fields)

    def clear_conversations(self) -> None:
        """Forget all conversations and sync states (one write); a full sync follows."""
        with self._lock, self._hot.transaction():
            self._hot.table("conversations").truncate()
            self._hot.table("sync").truncate()
            self._threads.ids().clear()
            self.needs_full_sync = True

    # -- bodies -----------------------------------------------------------------------

    def bodies(self, thread_id: str) -> list[Doc] | None:
        with self._lock:
            doc_id = self._bodies.get(thread_id)
            if doc_id is None:
                return None
            return [dict(m) for m in self._bodies.raw()[str(doc_id)]["messages"]]

    def store_bodies(self, thread_id: str, messages: list[Doc]) -> None:
        """Keep a thread's full messages; the least recently stored are evicted."""
        with self._lock, self._body_db.transaction():
            ids = self._bodies.ids()
            evict = [ids.pop(thread_id)] if thread_id in ids else []
            doc_id = self._bodies.fresh_id(thread_id)  # newest id = most recently stored
            if len(ids) > BODIES_KEEP:
                oldest = sorted(ids.items(), key=lambda kv: kv[1])[: len(ids) - BODIES_KEEP]
                evict += [ids.pop(tid) for tid, _ in oldest]
            doc = {"thread_id": thread_id, "messages": messages}
            self._bodies.table.replace_documents({doc_id: doc}, remove=evict)

    # -- outbox -----------------------------------------------------------------------

    def outbox(self) -> list[Doc]:
        """Drafts and queued actions, oldest first (copies)."""
        with self._lock:
            raw = self._outbox.raw()
            return [dict(raw[k]) for k in sorted(raw, key=int)]

    def outbox_item(self, item_id: str) -> Doc | None:
        with self._lock:
            doc_id = self._outbox.get(item_id)
            return None if doc_id is None else dict(self._outbox.raw()[str(doc_id)])

    def put_outbox(self, item: Mapping[str, Any]) -> None:
        """Insert or replace the item with this `id` (atomic, one write)."""
        item_id = item.get("id")
        if not isinstance(item_id, str) or not item_id:
            raise ValueError("an outbox item needs a non-empty string 'id'")
        with self._lock, self._out_db.transaction():
            self._outbox.table.replace_documents({self._outbox.assign(item_id): item})

    def update_outbox(self, item_id: str, fields: Mapping[str, Any]) -> None:
        """Merge `fields` into an item.

        Raises KeyError when the item is gone: another console may have sent or
        removed it, and the caller must not act on it as if it were still queued.
        """
        if fields.get("id", item_id) != item_id:
            raise ValueError("update_outbox cannot change an item's id")
        with self._lock, self._out_db.transaction():
            doc_id = self._outbox.get(item_id)
            if doc_id is None:
                raise KeyError(f"outbox item {item_id!r} is gone (sent or removed elsewhere?)")
            _replace(self._outbox, doc_id, fields)

    def remove_outbox(self, item_id: str) -> None:
        with self._lock, self._out_db.transaction():
            doc_id = self._outbox.ids().pop(item_id, None)
            if doc_id is not None:
                self._outbox.table.replace_documents({}, remove=[doc_id])

    # -- audit ------------------------------------------------------------------------

    def audit(self, actor: str, action: str, thread_id: str, detail: str, at: str) -> None:
        """Append who did what when (`at` is an ISO time from the caller's clock)."""
        entry = {"actor": actor, "action": action, "thread_id": thread_id}
        entry |= {"detail": detail, "at": at}
        with self._lock, self._out_db.transaction():
            table = self._out_db.table("audit")
            table.insert(entry)
            if len(table) > AUDIT_KEEP + _AUDIT_SLACK:
                raw = self._out_db.atomic.read() or {}
                ids = sorted(map(int, raw.get("audit", {})))
                table.remove(doc_ids=ids[: len(ids) - AUDIT_KEEP])

    def audit_log(self, limit: int = 100) -> list[Doc]:
        """The last `limit` entries, oldest first."""
        with self._lock:
            raw = (self._out_db.atomic.read() or {}).get("audit", {})
            keys = sorted(raw, key=int)[-limit:] if limit > 0 else []
            return [dict(raw[k]) for k in keys]

    def close(self) -> None:
        with self._lock:
            for db in (self._hot, self._body_db, self._out_db):
                db.close()


def _replace(index: _KeyIndex, doc_id: int, fields: Mapping[str, Any]) -> None:
    # Copy-on-write: a new dict replaces the stored one, so dicts already handed
    # out (conversations() shares them) never change under their holder.
    merged = {**index.raw()[str(doc_id)], **fields}
    index.table.replace_documents({doc_id: merged})


def _thread_id(doc: Mapping[str, Any]) -> str:
    tid = doc.get("thread_id")
    if not isinstance(tid, str) or not tid:
        raise ValueError(f"a conversation needs a non-empty string 'thread_id': {doc!r:.80}")
    return tid


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


def _prepare_directory(directory: Path, shared: bool) -> int | None:
    """Create a private directory 0700, or check a shared one; returns the files' group."""
    if not shared:
        if not directory.exists():
            directory.mkdir(parents=True, mode=0o700)
            os.chmod(directory, 0o700)  # mkdir's mode is narrowed by the umask only
        return None
    fix = f"run: chgrp TEAM {directory} && chmod 2770 {directory}"
    try:
        st = os.stat(directory)
    except FileNotFoundError:
        raise CacheError(
            f"The shared cache directory {directory} does not exist; ask an admin to "
            f"create it for the team: mkdir -p {directory} && {fix.removeprefix('run: ')}"
        ) from None
    if not os.path.isdir(directory):
        raise CacheError(f"The shared cache path {directory} is not a directory.")
    if st.st_mode & 0o007:
        raise CacheError(
            f"The shared cache directory {directory} is open to other users "
            f"(mode {st.st_mode & 0o7777:o}); cached client mail must stay within the team: {fix}"
        )
    if st.st_mode & 0o070 != 0o070:
        raise CacheError(
            f"The shared cache directory {directory} is not usable by its group "
            f"(mode {st.st_mode & 0o7777:o}), so teammates cannot share it: {fix}"
        )
    return st.st_gid
