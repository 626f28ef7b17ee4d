"""A thread -> its conversation: waiting state, clock start, owner, escalation, CEO contact."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from triage.config import Config, load_config
from triage.domain import calendar
from triage.domain.conversation import derive
from triage.domain.model import (
    ACKNOWLEDGED,
    ESCALATED,
    Mark,
    MessageInfo,
    Note,
    ThreadData,
    owner_mark,
)
from triage.text.isotime import parse_iso

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


@pytest.fixture(scope="module")
def cfg() -> Config:
    return load_config(EXAMPLE, env={"HOME": "/nonexistent"})


def client_domain(cfg: Config) -> str:
    return next(k for k in cfg.clients if "@" not in k)


def mail(
    at: str,
    sender: str,
    *,
    marks: tuple[Mark, ...] = (),
    to: tuple[str, ...] = ("team@agency.example",),
    cc: tuple[str, ...] = (),
    n: list[int] = [0],  # noqa: B006 - a counter shared by every call: unique ids
) -> MessageInfo:
    n[0] += 1
    staff = sender.endswith("@agency.example")
    return MessageInfo(id=f"e{n[0]}", thread_id="T", sender=sender, sender_name="", to=to,
                       cc=cc, subject="Help", received_at=parse_iso(at),
                       message_id=f"m{n[0]}@x", in_watched=not staff,
                       marks=frozenset(marks))  # fmt: skip


def thread(*messages: MessageInfo, notes: tuple[Note, ...] = ()) -> ThreadData:
    return ThreadData("T", messages, notes, tuple(f"n{i}" for i in range(len(notes))))


def test_client_message_waits_with_a_regional_deadline(cfg: Config) -> None:
    d = client_domain(cfg)
    conv = derive(thread(mail("2026-11-24T15:00:00Z", f"a@{d}")), cfg, {})
    assert conv is not None and conv.waiting
    region = cfg.regions[cfg.clients[d].region]
    arrival = datetime(2026, 11, 24, 15, tzinfo=UTC)
    assert conv.deadline == calendar.deadline(arrival, region)
    assert conv.clock_start == calendar.clock_start(arrival, region)


def test_staff_reply_stops_the_clock(cfg: Config) -> None:
    d = client_domain(cfg)
    t = thread(mail("2026-11-24T15:00:00Z", f"a@{d}"),
               mail("2026-11-24T15:20:00Z", "alice@agency.example"))  # fmt: skip
    conv = derive(t, cfg, {})
    assert conv is not None and not conv.waiting and conv.deadline is None
    assert conv.waiting_since is None and conv.clock_start is None


def test_new_client_message_restarts_the_clock_from_the_oldest_unanswered(cfg: Config) -> None:
    d = client_domain(cfg)
    t = thread(mail("2026-11-24T15:00:00Z", f"a@{d}"),
               mail("2026-11-24T15:20:00Z", "alice@agency.example"),
               mail("2026-11-24T16:00:00Z", f"a@{d}"),
               mail("2026-11-24T16:30:00Z", f"b@{d}"))  # fmt: skip
    conv = derive(t, cfg, {})
    assert conv is not None and conv.waiting
    assert conv.waiting_since == datetime(2026, 11, 24, 16, tzinfo=UTC)
    assert conv.thread.reply_to == f"b@{d}"  # the reply answers the latest client message


def test_staff_only_thread_is_not_a_conversation(cfg: Config) -> None:
    assert derive(thread(mail("2026-11-24T15:00:00Z", "alice@agency.example")), cfg, {}) is None


def test_a_thread_outside_the_watched_mailbox_is_not_a_conversation(cfg: Config) -> None:
    d = client_domain(cfg)
    m = mail("2026-11-24T15:00:00Z", f"a@{d}")
    elsewhere = MessageInfo(**{**m.__dict__, "in_watched": False})
    assert derive(thread(elsewhere), cfg, {}) is None


def test_notes_never_count_as_a_reply(cfg: Config) -> None:
    d = client_domain(cfg)
    note = Note("escalate", "alice", datetime(2026, 11, 24, 15, 10, tzinfo=UTC), reason="x")
    conv = derive(thread(mail("2026-11-24T15:00:00Z", f"a@{d}"), notes=(note,)), cfg, {})
    assert conv is not None and conv.waiting and conv.message_count == 1
    assert conv.thread.note_ids == ("n0",)


def test_owner_mark_beats_account_owner_beats_directory(cfg: Config) -> None:
    d = client_domain(cfg)
    directory = cfg.clients[d].owner
    other = next(m for m in cfg.managers if m != directory)
    plain = thread(mail("2026-11-24T15:00:00Z", f"a@{d}"))
    assert derive(plain, cfg, {}).owner == directory  # type: ignore[union-attr]
    assert derive(plain, cfg, {d: other}).owner == other  # type: ignore[union-attr]
    tagged = thread(mail("2026-11-24T15:00:00Z", f"a@{d}", marks=(owner_mark("zed"),)))
    conv = derive(tagged, cfg, {d: other})
    assert conv is not None and conv.owner == "zed" and conv.owner_mark == "zed"


def test_escalation_reason_comes_from_the_latest_note(cfg: Config) -> None:
    d = client_domain(cfg)
    notes = (
        Note("escalate", "bob", datetime(2026, 11, 24, 15, 6, tzinfo=UTC), reason="second"),
        Note("escalate", "alice", datetime(2026, 11, 24, 15, 5, tzinfo=UTC), reason="first"),
    )
    t = thread(mail("2026-11-24T15:00:00Z", f"a@{d}", marks=(ESCALATED,)), notes=notes)
    conv = derive(t, cfg, {})
    assert conv is not None and conv.escalated
    assert (conv.escalation_reason, conv.escalated_by) == ("second", "bob")
    assert [n.reason for n in conv.notes] == ["first", "second"]


def test_ceo_in_copy_marks_the_conversation(cfg: Config) -> None:
    d = client_domain(cfg)
    conv = derive(thread(mail("2026-11-24T15:00:00Z", f"a@{d}", cc=(cfg.agency.ceo,))), cfg, {})
    assert conv is not None and conv.ceo_contacted


def test_acknowledged_only_until_the_client_writes_again(cfg: Config) -> None:
    d = client_domain(cfg)
    acked = mail("2026-11-24T15:00:00Z", f"a@{d}", marks=(ESCALATED, ACKNOWLEDGED))
    assert derive(thread(acked), cfg, {}).acknowledged  # type: ignore[union-attr]
    again = thread(acked, mail("2026-11-24T16:00:00Z", f"a@{d}"))
    assert not derive(again, cfg, {}).acknowledged  # type: ignore[union-attr]
