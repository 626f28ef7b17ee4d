"""Several real OS processes on one cache, as on a shared server.

Four writer processes sync (new and changed conversations), queue outbox items
and append audit entries on the same path at once, released together; a reader
process parses the files with the standard json module the whole time. Nothing
written may be lost and the reader must never see a half-written file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import triage
from triage.store.cache import Cache

WRITERS = 4
OPS = 52  # per writer: 13 each of sync, re-sync, outbox, audit
TIMEOUT = 60  # seconds; the whole test normally takes a few

WRITER = """
import dataclasses, sys
from pathlib import Path
from tests.support.builders import conversation, draft
from triage.store.cache import Cache, SyncState

path, n, ops = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
c = Cache(path)
print("ready", flush=True)
sys.stdin.readline()  # released together with the other writers
for i in range(ops):
    conv = conversation(n * 1000 + i - i % 4, owner=f"w{n}", message_count=i)
    if i % 4 == 0:
        c.apply_sync(f"acc{n}", [conv], [], SyncState(f"{n}-{i}", None, {}))
    elif i % 4 == 1:  # the same thread again, changed (as the next sync round would)
        c.apply_sync(f"acc{n}", [dataclasses.replace(conv, subject=f"patched {i}")], [],
                     SyncState(f"{n}-{i - 1}", None, {}))
    elif i % 4 == 2:
        c.put_outbox(draft(f"w{n}-o{i}", f"writer {n}"))
    else:
        c.audit(f"w{n}", "escalate", conv.thread_id, str(i))
c.close()
print("done", flush=True)
"""

READER = """
import json, sys, time
from pathlib import Path

directory = Path(sys.argv[1])
files = [directory / "cache.json", directory / "outbox.json"]
stop = directory / "stop"
parses = bad = 0
sizes = set()
print("ready", flush=True)
deadline = time.monotonic() + 60
while not stop.exists() and time.monotonic() < deadline:
    for f in files:
        try:
            raw = f.read_bytes()
        except FileNotFoundError:
            continue
        try:
            json.loads(raw)
            parses += 1
            sizes.add((f.name, len(raw)))
        except ValueError:
            bad += 1
            sys.stderr.write(f"invalid JSON in {f.name}: {raw[:120]!r}\\n")
print(parses, bad, len(sizes), flush=True)
"""


def spawn(script: str, *args: object) -> subprocess.Popen[str]:
    root = Path(triage.__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(root))
    return subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=root,
    )


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for p in started:  # only if a test failed midway: end what we started
        if p.poll() is None:
            p.kill()
            p.wait(timeout=TIMEOUT)


def finish(p: subprocess.Popen[str]) -> str:
    out, err = p.communicate(timeout=TIMEOUT)
    assert p.returncode == 0, err
    return out


@pytest.mark.slow
def test_concurrent_writers_lose_nothing_and_readers_never_see_a_torn_file(
    tmp_path: Path, procs: list[subprocess.Popen[str]]
) -> None:
    path = tmp_path / "cache.json"
    reader = spawn(READER, tmp_path)
    procs.append(reader)
    writers = [spawn(WRITER, path, n, OPS) for n in range(WRITERS)]
    procs.extend(writers)
    for p in [reader, *writers]:
        assert p.stdout is not None
        assert p.stdout.readline().strip() == "ready", p.stderr and p.stderr.read()
    for w in writers:  # release them together
        assert w.stdin is not None
        w.stdin.write("go\n")
        w.stdin.flush()
    for w in writers:
        assert finish(w).strip() == "done"
    (tmp_path / "stop").touch()
    parses, bad, versions = map(int, finish(reader).split())
    assert bad == 0
    assert parses > 0 and versions >= 2  # it really read while the files changed
    check_everything_is_there(path)


def check_everything_is_there(path: Path) -> None:
    c = Cache(path)
    try:
        assert c.reports == []
        convs = {d.thread_id: d for d in c.conversations()}
        audit = c.audit_log(limit=10_000)
        for n in range(WRITERS):
            syncs = [i for i in range(OPS) if i % 4 == 0]
            for i in syncs:
                conv = convs[f"T{n * 1000 + i:05d}"]
                expected = (f"w{n}", f"patched {i + 1}", i + 1)  # the later round won
                assert (conv.owner, conv.subject, conv.message_count) == expected
            state = c.sync_state(f"acc{n}")
            assert state is not None and state.state == f"{n}-{syncs[-1]}"
            for i in range(2, OPS, 4):
                assert c.outbox_item(f"w{n}-o{i}") is not None
            mine = [int(e["detail"]) for e in audit if e["actor"] == f"w{n}"]
            assert mine == list(range(3, OPS, 4))  # all there, in each writer's order
        assert len(convs) == WRITERS * OPS // 4
        assert len(c.outbox()) == WRITERS * OPS // 4
    finally:
        c.close()
