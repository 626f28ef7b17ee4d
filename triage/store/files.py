"""The cache directory: created private (0700), or a team directory checked before use.

A private cache lives in a directory only its user can enter. A team cache
(`[cache] shared = true`) lives in a directory the team's admin made group-owned
with mode 2770: every file triage creates there gets that group and mode 0660,
and nobody outside the group can read cached client mail.
"""

from __future__ import annotations

import os
from pathlib import Path

from triage.store.storage import CacheError


def prepare_directory(directory: Path, shared: bool) -> int | None:
    """Create a private directory 0700, or check a team one; returns the files' group."""
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
    if st.st_gid not in os.getgroups() and st.st_gid != os.getgid():
        raise CacheError(
            f"The shared cache directory {directory} belongs to a group you are not in "
            f"(gid {st.st_gid}); ask an admin to add you to it, or use a cache.path of your own"
        )
    return st.st_gid
