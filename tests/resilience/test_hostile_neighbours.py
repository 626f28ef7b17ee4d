"""Another local user must never act through your console.

A neighbour on a shared server who can write into your cache directory could
plant an outbox that your console would send From a manager's identity. Every
open checks the directory and every file (owner, mode, regular file, no link),
refuses with the fix, and sends nothing. The planted files here are made by a
real second user where the tests run as root; FIFOs and links are real too.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.builders import draft
from tests.support.users import as_user, can_switch_users, local_user
from triage.store.cache import Cache, CacheError, CacheRefused


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A directory other users can reach (pytest's own tmp dirs are 0700)."""
    parent = Path(tempfile.mkdtemp(prefix="triage-neighbours-", dir="/tmp"))
    os.chmod(parent, 0o755)
    yield parent
    shutil.rmtree(parent)


def opened_in_time(path: Path, seconds: float = 10) -> BaseException | None:
    """Open the cache in a thread: what it raised, or a failure if it hung."""
    result: list[BaseException | None] = []

    def run() -> None:
        try:
            Cache(path).close()
            result.append(None)
        except BaseException as e:  # what the open raised is the test's answer
            result.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert result, f"opening the cache hung for {seconds} s"
    return result[0]


def test_a_directory_open_to_everyone_is_refused_with_the_fix(shared_tmp: Path) -> None:
    cache_dir = shared_tmp / "cache"
    cache_dir.mkdir()
    os.chmod(cache_dir, 0o777)
    with pytest.raises(CacheRefused, match=r"written by other users.*chmod 700"):
        Cache(cache_dir / "cache.json")
    assert list(cache_dir.iterdir()) == []  # nothing created, nothing read


@pytest.mark.skipif(not can_switch_users(), reason="needs root to act as a second user")
def test_an_outbox_planted_by_another_user_is_never_used(shared_tmp: Path) -> None:
    """The attack as it happened: a 0777 directory, the neighbour's own outbox in it."""
    cache_dir = shared_tmp / "cache"
    mine = Cache(cache_dir / "cache.json")  # created 0700 by the victim...
    mine.put_outbox(draft("mine", "my own draft"))
    mine.close()
    os.chmod(cache_dir, 0o777)  # ...then opened up (by mistake, or by an old tool)
    mallory = local_user("triage-mallory")
    planted = {"outbox": {"1": {"id": "evil", "kind": "reply", "thread_id": "T00001",
                                "status": "queued", "body": "wire the money to me",
                                "message_id": "m@evil.example"}},
               "meta": {"1": {"schema": 1}}}  # fmt: skip

    def plant() -> None:
        outbox = cache_dir / "outbox.json"
        tmp = cache_dir / "planted.json"
        tmp.write_text(json.dumps(planted))
        os.replace(tmp, outbox)  # a 0777 directory lets anyone replace our file

    as_user(mallory, plant)
    with pytest.raises(CacheRefused, match="chmod 700"):
        Cache(cache_dir / "cache.json")
    os.chmod(cache_dir, 0o700)  # the directory fixed, the planted file is still theirs
    with pytest.raises(CacheRefused, match=r"outbox\.json belongs to another user"):
        Cache(cache_dir / "cache.json")


@pytest.mark.parametrize("name", ["cache.json", "outbox.json", "bodies.json", "outbox.json.lock"])
def test_a_file_others_can_write_is_refused(tmp_path: Path, name: str) -> None:
    Cache(tmp_path / "cache.json").close()
    os.chmod(tmp_path / name, 0o666)
    error = opened_in_time(tmp_path / "cache.json")
    assert isinstance(error, CacheRefused) and f"chmod 600 {tmp_path / name}" in str(error)


@pytest.mark.parametrize("name", ["cache.json", "outbox.json", "cache.json.lock"])
def test_a_symbolic_link_in_place_of_a_file_is_refused(tmp_path: Path, name: str) -> None:
    elsewhere = tmp_path / "theirs.json"
    elsewhere.write_text('{"meta": {"1": {"schema": 1}}}')
    cache_dir = tmp_path / "cache"
    Cache(cache_dir / "cache.json").close()
    (cache_dir / name).unlink()
    (cache_dir / name).symlink_to(elsewhere)
    error = opened_in_time(cache_dir / "cache.json")
    assert isinstance(error, CacheRefused) and "symbolic link" in str(error)
    assert elsewhere.read_text() == '{"meta": {"1": {"schema": 1}}}'  # never written through


@pytest.mark.parametrize("name", ["cache.json", "outbox.json", "outbox.json.lock"])
def test_a_fifo_never_blocks_the_start(tmp_path: Path, name: str) -> None:
    """A FIFO used to hang start-up while holding the lock, for every console and cron job."""
    cache_dir = tmp_path / "cache"
    Cache(cache_dir / "cache.json").close()
    (cache_dir / name).unlink()
    os.mkfifo(cache_dir / name, 0o600)
    error = opened_in_time(cache_dir / "cache.json")
    assert isinstance(error, CacheRefused) and "not a regular file" in str(error)


def test_a_device_behind_a_link_is_refused(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir(mode=0o700)
    (cache_dir / "cache.json").symlink_to("/dev/zero")
    error = opened_in_time(cache_dir / "cache.json")
    assert isinstance(error, CacheError) and "symbolic link" in str(error)


def test_the_cache_directory_as_a_link_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(CacheRefused, match="is a symbolic link"):
        Cache(tmp_path / "link" / "cache.json")
