"""A team cache on a shared server: two real users in one group-owned 2770 directory.

Each teammate runs as their own uid (forked from the root test process): both can
read and write the same cache files, every file stays in the team's group with
mode 0660, and someone outside the group is told the fix instead of getting a
bare "Permission denied".
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.builders import conversation, draft
from tests.support.users import ChildError, as_user, can_switch_users, local_group, local_user
from triage.store.cache import Cache, SyncState

pytestmark = pytest.mark.skipif(not can_switch_users(), reason="needs root to act as two users")
TEAM = "triage-team"


@pytest.fixture
def team_dir() -> Iterator[Path]:
    # Not under pytest's tmp dir: that is 0700, and the teammates must reach this one.
    parent = Path(tempfile.mkdtemp(prefix="triage-team-", dir="/tmp"))
    os.chmod(parent, 0o755)
    directory = parent / "cache"
    directory.mkdir()
    os.chown(directory, 0, local_group(TEAM))
    os.chmod(directory, 0o2770)
    yield directory
    shutil.rmtree(parent)


def state(text: str) -> SyncState:
    return SyncState(text, None, {})


def test_two_teammates_read_and_write_one_cache(team_dir: Path) -> None:
    ann, ben = local_user("triage-ann", (TEAM,)), local_user("triage-ben", (TEAM,))
    path = team_dir / "cache.json"

    def first(n: int) -> list[str]:
        c = Cache(path, shared=True)
        seen = sorted(x.thread_id for x in c.conversations())
        c.apply_sync("team@agency.example", [conversation(n)], [], state(f"s{n}"))
        c.put_outbox(draft(f"o{n}", f"draft {n}"))
        c.audit(f"user{n}", "escalate", f"T{n}", "x")
        c.close()
        return seen

    assert as_user(ann, lambda: first(1), umask=0o077) == []  # a strict umask changes nothing
    assert as_user(ben, lambda: first(2)) == ["T00001"]
    assert as_user(ann, lambda: first(3)) == ["T00001", "T00002"]
    team_gid = local_group(TEAM)
    for p in team_dir.iterdir():
        st = p.stat()
        assert stat.S_IMODE(st.st_mode) == 0o660 and st.st_gid == team_gid, p.name
    owners = {p.stat().st_uid for p in team_dir.iterdir()}
    assert owners <= {ann.uid, ben.uid}


def test_someone_outside_the_team_is_told_the_fix(team_dir: Path) -> None:
    eve = local_user("triage-eve")
    with pytest.raises(ChildError, match=r"CacheRefused: .*group you are not in.*cache\.path"):
        as_user(eve, lambda: Cache(team_dir / "cache.json", shared=True))
