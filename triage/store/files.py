"""The cache directory and its files: created private, or a team's checked; never trusted blindly.

A private cache lives in a directory only its user can change (created 0700 when
missing; an existing one must not be writable by group or others; the files in it
are 0600). A team cache (`[cache] shared = true`) lives in a directory an admin
made group-owned with mode 2770: every file triage creates there gets that group
and mode 0660, and nobody outside the group can read cached client mail.

Every time the cache is opened, the directory and each of its files are checked
before anything is read from them: owned by the user (for a team cache: in the
team's group), not writable by anyone else, and not a symbolic link, a FIFO, a
device or any other special file. Another local user who could plant or swap a
file could otherwise make this console send their text from a manager's
identity. A failed check refuses the whole cache with the exact fix; nothing
queued in it is sent. `check_open_file` repeats the file checks on the open
descriptor, so a file swapped between the check and the open is caught too.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from triage.store.storage import CacheError


class CacheRefused(CacheError):
    """The cache (or one of its files) is not safe to use; the message says how to fix it."""


def prepare_directory(directory: Path, shared: bool) -> int | None:
    """Create a private directory 0700, or check a team one; returns the files' group."""
    if shared:
        return _team_directory(directory)
    try:
        st = os.lstat(directory)
    except FileNotFoundError:
        directory.mkdir(parents=True, mode=0o700)
        os.chmod(directory, 0o700)  # mkdir's mode is narrowed by the umask only
        return None
    _refuse_unless_directory(directory, st)
    if st.st_uid != os.geteuid():
        raise CacheRefused(
            f"The cache directory {directory} belongs to another user (uid {st.st_uid}); "
            "another user could change what this console sends. Use a cache.path of your "
            f"own, or: sudo chown {os.geteuid()} {directory} && chmod 700 {directory}"
        )
    if st.st_mode & 0o022:
        raise CacheRefused(
            f"The cache directory {directory} can be written by other users "
            f"(mode {stat.S_IMODE(st.st_mode):04o}): they could swap the outbox and have this "
            f"console send their text. Fix: chmod 700 {directory}"
        )
    return None


def _team_directory(directory: Path) -> int:
    fix = f"run: chgrp TEAM {directory} && chmod 2770 {directory}"
    try:
        st = os.lstat(directory)
    except FileNotFoundError:
        raise CacheRefused(
            f"The shared cache directory {directory} does not exist; ask an admin to "
            f"create it for the team: mkdir -p {directory} && {fix.removeprefix('run: ')}"
        ) from None
    _refuse_unless_directory(directory, st)
    if st.st_mode & 0o007:
        raise CacheRefused(
            f"The shared cache directory {directory} is open to other users "
            f"(mode {stat.S_IMODE(st.st_mode):o}); cached client mail must stay within the "
            f"team: {fix}"
        )
    if st.st_mode & 0o070 != 0o070:
        raise CacheRefused(
            f"The shared cache directory {directory} is not usable by its group "
            f"(mode {stat.S_IMODE(st.st_mode):o}), so teammates cannot share it: {fix}"
        )
    if st.st_gid not in os.getgroups() and st.st_gid != os.getegid():
        raise CacheRefused(
            f"The shared cache directory {directory} belongs to a group you are not in "
            f"(gid {st.st_gid}); ask an admin to add you to it, or use a cache.path of your own"
        )
    return st.st_gid


def _refuse_unless_directory(directory: Path, st: os.stat_result) -> None:
    if stat.S_ISLNK(st.st_mode):
        raise CacheRefused(
            f"The cache directory {directory} is a symbolic link; triage does not follow "
            f"links for its cache. Use the real path in cache.path, or remove the link: "
            f"rm {directory}"
        )
    if not stat.S_ISDIR(st.st_mode):
        raise CacheRefused(f"The cache path {directory} is not a directory; check cache.path")


def check_file(path: Path, group: int | None) -> None:
    """Refuse a cache file that is not ours to trust (missing is fine: it gets created)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    check_status(path, st, group)


def check_open_file(path: Path, fd: int, group: int | None) -> None:
    """The same checks on an open descriptor (the file that was actually opened)."""
    check_status(path, os.fstat(fd), group)


def check_status(path: Path, st: os.stat_result, group: int | None) -> None:
    if stat.S_ISLNK(st.st_mode):
        raise CacheRefused(
            f"The cache file {path} is a symbolic link; triage never follows links in its "
            f"cache (someone could point it at their own file). Fix: rm {path}"
        )
    if not stat.S_ISREG(st.st_mode):
        raise CacheRefused(
            f"The cache file {path} is not a regular file (it is a FIFO, device or socket); "
            f"nothing was read from it. Fix: rm {path}"
        )
    if group is None and st.st_uid != os.geteuid():
        raise CacheRefused(
            f"The cache file {path} belongs to another user (uid {st.st_uid}); nothing in it "
            f"is used or sent. Fix: move it away (mv {path} {path}.suspect) and start again"
        )
    if group is not None and st.st_gid != group:
        raise CacheRefused(
            f"The team cache file {path} is not in the team's group (gid {st.st_gid}); "
            f"nothing in it is used or sent. Fix: chgrp {group} {path}"
        )
    writable_by = 0o002 if group is not None else 0o022
    if st.st_mode & writable_by:
        raise CacheRefused(
            f"The cache file {path} can be changed by other users "
            f"(mode {stat.S_IMODE(st.st_mode):04o}); nothing in it is used or sent. "
            f"Fix: chmod {'660' if group is not None else '600'} {path}"
        )
