"""A TinyDB table addressed by a key field (thread id, outbox id, account), kept fast at 50k.

TinyDB's own write operations copy the whole table twice (int and str keys): about
20 ms per operation at 50k documents. `KeyedTable` reads the parsed table straight
from the storage (the documented Storage interface: `read()` returns every
table), and replaces whole documents by id, touching only the changed entries,
then drops TinyDB's query cache. Stored dicts are replaced, never mutated, so
dicts already handed out never change under their holder. Doc ids are assigned
here (TinyDB's own id counter is never used), so they never collide.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from triage.store.storage import CacheDB

Doc = dict[str, Any]


class KeyedTable:
    """Documents of one table by the value of their `key` field; the index is rebuilt
    whenever the file was re-read (another process wrote it)."""

    def __init__(self, db: CacheDB, name: str, key: str) -> None:
        self.db, self.name, self.key = db, name, key
        self._generation = -1
        self._ids: dict[str, int] = {}
        self._max = 0

    def raw(self) -> dict[str, Doc]:
        """The table's documents by doc id, shared with the storage: read only."""
        data = self.db.atomic.read() or {}
        return data.get(self.name, {})

    def get(self, key: str) -> Doc | None:
        doc_id = self.ids().get(key)
        return None if doc_id is None else self.raw()[str(doc_id)]

    def ids(self) -> dict[str, int]:
        """Doc id by key, indexed when first asked for after each (re-)read of the file
        (~50 ms at 50k: not at start, where the console only reads)."""
        table = self.raw()
        if self.db.atomic.generation != self._generation:
            self._ids = {str(doc[self.key]): int(doc_id) for doc_id, doc in table.items()}
            self._max = max(map(int, table), default=0)
            self._generation = self.db.atomic.generation
        return self._ids

    def assign(self, key: str) -> int:
        """The doc id for `key`: its current one, or a fresh one (in a transaction)."""
        doc_id = self.ids().get(key)
        return doc_id if doc_id is not None else self.fresh_id(key)

    def fresh_id(self, key: str) -> int:
        """A new doc id for `key`, after every id in use (newest = highest)."""
        self.ids()
        self._max += 1
        self._ids[key] = self._max
        return self._max

    def replace(self, docs: Mapping[int, Mapping[str, Any]], remove: Iterable[int] = ()) -> None:
        """Remove the ids in `remove`, then store each of `docs` under its id: one write
        (deferred to the end of the transaction)."""
        tables = self.db.atomic.read() or {}
        raw = tables.setdefault(self.name, {})
        for doc_id in remove:
            raw.pop(str(doc_id), None)
        for doc_id, doc in docs.items():
            raw[str(doc_id)] = dict(doc)
        self.db.atomic.write(tables)
        self.db.forget_query_caches()

    def delete(self, key: str) -> None:
        doc_id = self.ids().pop(key, None)
        if doc_id is not None:
            self.replace({}, remove=[doc_id])
