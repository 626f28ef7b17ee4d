"""Run a function as another local user, for tests about a shared server.

Needs root. `local_user(name, groups)` creates a system user (once per machine);
`as_user(user, fn)` forks, drops to that user's uid and groups, runs `fn` and
returns what it returned (or re-raises what it raised, by name and message).
The child cannot import anything new after dropping root (the interpreter's own
files may sit in a directory only root can enter), so callers import first.
"""

from __future__ import annotations

import grp
import os
import pickle
import pwd
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class LocalUser:
    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]


def can_switch_users() -> bool:
    return os.geteuid() == 0


def local_group(name: str) -> int:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        subprocess.run(["groupadd", "--system", name], check=True, capture_output=True)
        return grp.getgrnam(name).gr_gid


def local_user(name: str, groups: tuple[str, ...] = ()) -> LocalUser:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/bin/false",
                        name], check=True, capture_output=True)  # fmt: skip
        entry = pwd.getpwnam(name)
    gids = tuple(local_group(g) for g in groups)
    return LocalUser(name, entry.pw_uid, entry.pw_gid, gids)


class ChildError(Exception):
    """What the function raised in the other user's process: its type name and message."""


def as_user(user: LocalUser, fn: Callable[[], T], *, umask: int = 0o022) -> T:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read)
        try:
            os.setgroups([user.gid, *user.groups])
            os.setgid(user.gid)
            os.setuid(user.uid)
            os.umask(umask)
            outcome: tuple[bool, object] = (True, fn())
        except BaseException as e:  # reported to the parent, whatever it was
            outcome = (False, f"{type(e).__name__}: {e}")
        with os.fdopen(write, "wb") as out:
            pickle.dump(outcome, out)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as inp:
        data = inp.read()
    os.waitpid(pid, 0)
    ok, value = pickle.loads(data)
    if not ok:
        raise ChildError(str(value))
    return value  # type: ignore[no-any-return]
