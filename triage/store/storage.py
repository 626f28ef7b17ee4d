"""Crash-safe, multi-process JSON storage for TinyDB.

Owns one JSON file on disk and nothing about what its tables mean:
- writes replace the file atomically (temp file in the same directory, fsync,
  `os.replace`, fsync of the directory), so a crash or a full disk leaves the
  previous version intact;
- an `flock` on `PATH.lock` serialises every read-modify-write between OS
  processes (`transaction()`), and a batch of TinyDB operations inside one
  transaction costs exactly one file write;
- the parsed file is kept in memory and re-parsed only when another process
  replaced it, because parsing 50k documents costs hundreds of milliseconds;
- an unreadable file is moved aside (`NAME.corrupt-<UTC time>`) and replaced by
  an empty one, and the owner is told through a callback.
"""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import orjson
from tinydb import Storage, TinyDB
from tinydb.table import Table

from triage.clock import SystemClock

Data = dict[str, dict[str, dict[str, Any]]]  # table -> doc id -> document
Validator = Callable[[Data], "str | None"]  # returns why the data is unusable, or None
# Raises (a CacheError) when a file is not safe to read: its path and its stat.
Verifier = Callable[[Path, os.stat_result], None]
_SAFE_OPEN = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # never follow a link, never block
CorruptHandler = Callable[[Path, Path, str], None]  # (path, moved_to, reason)
_Sig = tuple[int, int, int, int]  # st_dev, st_ino, st_size, st_mtime_ns

# Datetimes are passed through to the default handler (there is none), so a
# datetime in a document fails loudly instead of silently becoming a string.
_DUMP_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class CacheError(Exception):
    """The cache cannot be used as it is; the message says what to do."""


class CacheWriteError(CacheError, OSError):
    """Saving failed (disk full, file too big, I/O error); the old file is intact."""

    def __init__(self, path: Path, cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror)
        self.filename = str(path)
        self.path = path

    def __str__(self) -> str:
        reason = self.strerror or "unknown error"
        return (
            f"could not save the cache to {self.path}: {reason}; nothing on disk was "
            "damaged (the previous version is kept), but this change was not saved"
        )


class _Corrupt(Exception):
    """The file exists but cannot be used; args[0] says why, in plain words."""


class AtomicJSONStorage(Storage):
    """TinyDB storage: orjson, atomic replace, flock, re-parse only on change."""

    def __init__(
        self,
        path: str | Path,
        *,
        file_mode: int = 0o600,
        group: int | None = None,
        initial: Callable[[], Data] = dict,
        validate: Validator | None = None,
        on_corrupt: CorruptHandler | None = None,
        now: Callable[[], datetime] | None = None,
        verify: Verifier | None = None,
    ) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.file_mode = file_mode
        self.group = group  # shared mode: every file we create gets this group
        self.writes = 0  # completed file writes; tests count them
        self.generation = 0  # bumped whenever the in-memory data is replaced
        self.on_reload: list[Callable[[], None]] = []
        self._initial = initial
        self._validate = validate
        self._on_corrupt = on_corrupt
        self._now = now or SystemClock().now
        self._verify = verify
        self._data: Data | None = None
        self._sig: _Sig | None = None
        # An open descriptor on the file we parsed keeps its inode alive, so a
        # new file can never reuse that inode number and fool the change check.
        self._held_fd = -1
        self._depth = 0
        self._pending = False
        self._tlock = threading.RLock()
        self._lock_fd = self._open_lock_file()
        with self._flock(fcntl.LOCK_EX):
            self._remove_stale_temps()

    # -- TinyDB's Storage interface -------------------------------------------

    def read(self) -> Data | None:
        with self._tlock:
            if self._depth == 0:
                self._refresh_shared()
            return self._data

    def write(self, data: dict[str, Any]) -> None:
        with self._tlock:
            self._data = cast(Data, data)
            if self._depth:
                self._pending = True  # saved once, when the transaction ends
                return
            # A bare write (outside a transaction) is still locked and atomic,
            # but only a transaction protects a read-modify-write.
            with self._flock(fcntl.LOCK_EX):
                try:
                    self._commit()
                except BaseException:
                    self._invalidate()
                    raise

    def close(self) -> None:
        with self._tlock:
            for fd in (self._held_fd, self._lock_fd):
                if fd >= 0:
                    os.close(fd)
            self._held_fd = self._lock_fd = -1

    # -- transactions ---------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Exclusive lock, fresh data, writes deferred to one save at the end.

        If the body raises or the save fails, the in-memory data is dropped and
        re-read from disk, so memory never holds changes the disk does not.
        """
        with self._tlock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            with self._flock(fcntl.LOCK_EX):
                self._load_or_recover()
                self._depth, self._pending = 1, False
                try:
                    yield
                    if self._pending:
                        self._commit()
                except BaseException:
                    self._invalidate()
                    raise
                finally:
                    self._depth, self._pending = 0, False

    def discard_as_corrupt(self, reason: str) -> None:
        """Move the file aside as unusable (it holds a document of the wrong shape) and
        start empty; call inside a transaction, the empty file is written when it ends."""
        assert self._depth, "discard_as_corrupt() needs a transaction"
        moved = self._move_aside()
        self._replace_data(self._initial(), None, -1)
        self._pending = True
        if self._on_corrupt is not None:
            self._on_corrupt(self.path, moved, reason)

    # -- loading ----------------------------------------------------------------

    def _refresh_shared(self) -> None:
        if self._data is not None and self._stat_sig() == self._sig:
            return
        try:
            with self._flock(fcntl.LOCK_SH):
                self._load()
            return
        except _Corrupt:
            pass
        # Moving a file aside needs the exclusive lock; another process may
        # have repaired it meanwhile, which _load_or_recover notices.
        with self._flock(fcntl.LOCK_EX):
            self._load_or_recover()

    def _load_or_recover(self) -> None:
        try:
            self._load()
        except _Corrupt as exc:
            moved = self._move_aside()
            self._replace_data(self._initial(), None, -1)
            if self._on_corrupt is not None:
                self._on_corrupt(self.path, moved, str(exc))

    def _load(self) -> None:
        try:
            fd = self._open_checked(self.path, os.O_RDONLY)
        except FileNotFoundError:
            if self._data is None or self._sig is not None:
                self._replace_data(self._initial(), None, -1)
            return
        except CacheError:
            raise
        except OSError as exc:
            raise _Corrupt(f"cannot open it: {exc.strerror}") from exc
        with os.fdopen(fd, "rb") as f:
            sig = _sig_of(os.fstat(f.fileno()))
            if self._data is not None and sig == self._sig:
                return
            data = _parse(f)
            problem = self._validate(data) if self._validate else None
            if problem:
                raise _Corrupt(problem)
            self._replace_data(data, sig, os.dup(f.fileno()))

    def _replace_data(self, data: Data, sig: _Sig | None, held_fd: int) -> None:
        if self._held_fd >= 0:
            os.close(self._held_fd)
        self._data, self._sig, self._held_fd = data, sig, held_fd
        self._bump()

    def _invalidate(self) -> None:
        self._data, self._sig = None, None
        self._bump()

    def _bump(self) -> None:
        self.generation += 1
        for callback in self.on_reload:
            callback()

    def _stat_sig(self) -> _Sig | None:
        try:
            return _sig_of(os.stat(self.path))
        except FileNotFoundError:
            return None

    def _move_aside(self) -> Path:
        stamp = self._now().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 0
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        try:
            os.replace(self.path, target)
        except OSError as exc:
            raise CacheError(
                f"The cache file {self.path} is unreadable and could not be moved aside "
                f"({exc.strerror}); move or delete it by hand, then start again."
            ) from exc
        return target

    # -- saving -------------------------------------------------------------------

    def _commit(self) -> None:
        payload = orjson.dumps(self._data, option=_DUMP_OPTIONS)
        tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        fd = -1
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, self.file_mode)
            self._set_owner_and_mode(fd)
            _write_all(fd, payload)
            os.fsync(fd)
            os.replace(tmp, self.path)
        except OSError as exc:
            if fd >= 0:
                os.close(fd)
            with suppress(OSError):
                os.unlink(tmp)
            raise CacheWriteError(self.path, exc) from exc
        self._fsync_dir()
        if self._held_fd >= 0:
            os.close(self._held_fd)
        self._held_fd, self._sig = fd, _sig_of(os.fstat(fd))
        self.writes += 1

    def _set_owner_and_mode(self, fd: int) -> None:
        os.fchmod(fd, self.file_mode)  # the umask must not widen or narrow it
        if self.group is not None:
            os.fchown(fd, -1, self.group)

    def _fsync_dir(self) -> None:
        # Makes the rename durable. Best effort: the new file is already in
        # place, and some filesystems refuse to fsync a directory.
        with suppress(OSError):
            dfd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)

    def _remove_stale_temps(self) -> None:
        # Writers only hold a temp file under the exclusive lock, so any temp
        # file seen while we hold it was left by a crashed process.
        for stale in self.path.parent.glob(f".{self.path.name}.tmp-*"):
            with suppress(OSError):
                stale.unlink()

    # -- locking ----------------------------------------------------------------

    def _open_lock_file(self) -> int:
        flags = os.O_RDWR | _SAFE_OPEN
        try:
            fd = os.open(self.lock_path, flags | os.O_CREAT | os.O_EXCL, self.file_mode)
        except FileExistsError:
            return self._open_checked(self.lock_path, os.O_RDWR)
        self._set_owner_and_mode(fd)
        return fd

    def _open_checked(self, path: Path, mode: int) -> int:
        """Open without following a link or blocking, then check what was opened."""
        try:
            fd = os.open(path, mode | _SAFE_OPEN)
        except OSError as exc:
            if exc.errno == errno.ELOOP and self._verify is not None:
                self._verify(path, os.lstat(path))  # a symbolic link: says so, with the fix
            raise
        try:
            if self._verify is not None:
                self._verify(path, os.fstat(fd))
        except BaseException:
            os.close(fd)
            raise
        return fd

    @contextmanager
    def _flock(self, operation: int) -> Iterator[None]:
        fcntl.flock(self._lock_fd, operation)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)


class CacheDB(TinyDB):
    """A TinyDB on an AtomicJSONStorage, with `transaction()`.

    Used only through TinyDB's public interface: `storage` (our own Storage),
    `table(name)` and the Table methods. Tables it has handed out are remembered,
    so their query caches can be dropped when another process replaced the file.
    """

    def __init__(self, path: str | Path, **storage_options: Any) -> None:
        super().__init__(path, storage=AtomicJSONStorage, **storage_options)
        self._handed_out: dict[str, Table] = {}
        self.atomic.on_reload.append(self.forget_query_caches)

    @property
    def atomic(self) -> AtomicJSONStorage:
        return cast(AtomicJSONStorage, self.storage)

    def table(self, name: str, **kwargs: Any) -> Table:
        table = super().table(name, **kwargs)
        self._handed_out[name] = table
        return table

    def transaction(self) -> Any:
        """Context manager: one locked read-modify-write, saved once."""
        return self.atomic.transaction()

    def forget_query_caches(self) -> None:
        """The data was replaced (or written around the Table API): cached results are stale."""
        for table in self._handed_out.values():
            table.clear_cache()


def _sig_of(st: os.stat_result) -> _Sig:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _write_all(fd: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _parse(f: Any) -> Data:
    raw = f.read()
    if not raw:
        raise _Corrupt("the file is empty")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _Corrupt(f"it is not valid JSON: {exc}") from exc
    problem = _shape_problem(data)
    if problem:
        raise _Corrupt(problem)
    return cast(Data, data)


def _shape_problem(data: object) -> str | None:
    if not isinstance(data, dict):
        return f"its top level is a {type(data).__name__}, not an object of tables"
    for name, table in data.items():
        if not isinstance(table, dict):
            return f"its table {name!r} is not an object"
        for doc_id, doc in table.items():
            if not isinstance(doc, dict) or not doc_id.isdigit():
                return f"its table {name!r} holds a malformed document {doc_id!r}"
    return None
