"""Conversation records: waiting state, clock start, owner and escalation from a thread."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from triage.config.loader import Config, load_config
from triage.domain import calendar as sla
from triage.domain.conversation import derive, fold_account_notes, parse_notes, to_conversation

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
    staff: bool = False,
    kw: tuple[str, ...] = (),
    note: bool = False,
    to_ceo: bool = False,
    n: list[int] = [0],  # noqa: B006 - a counter shared by every call: unique ids
) -> dict[str, Any]:
    n[0] += 1
    return {"id": f"e{n[0]}", "from": sender, "name": "", "at": at, "mid": f"m{n[0]}@x",
            "refs": [], "subject": "Help", "kw": list(kw), "watched": not staff,
            "staff": staff, "note": note, "to_ceo": to_ceo}  # fmt: skip


def test_client_message_waits_with_a_regional_deadline(cfg: Config) -> None:
    d = client_domain(cfg)
    doc = derive("T1", [mail("2026-11-24T15:00:00Z", f"a@{d}")], [], cfg, {})
    assert doc is not None and doc["waiting"]
    region = cfg.regions[cfg.clients[d].region]
    arrival = datetime(2026, 11, 24, 15, tzinfo=UTC)
    assert doc["deadline"] == sla.deadline(arrival, region).isoformat().replace("+00:00", "Z")


def test_staff_reply_stops_the_clock(cfg: Config) -> None:
    d = client_domain(cfg)
    emails = [mail("2026-11-24T15:00:00Z", f"a@{d}"),
              mail("2026-11-24T15:20:00Z", "alice@agency.example", staff=True)]  # fmt: skip
    doc = derive("T1", emails, [], cfg, {})
    assert doc is not None and not doc["waiting"] and doc["deadline"] is None


def test_new_client_message_restarts_the_clock_from_the_oldest_unanswered(cfg: Config) -> None:
    d = client_domain(cfg)
    emails = [mail("2026-11-24T15:00:00Z", f"a@{d}"),
              mail("2026-11-24T15:20:00Z", "alice@agency.example", staff=True),
              mail("2026-11-24T16:00:00Z", f"a@{d}"),
              mail("2026-11-24T16:30:00Z", f"b@{d}")]  # fmt: skip
    doc = derive("T1", emails, [], cfg, {})
    assert doc is not None and doc["waiting"]
    assert doc["waiting_since"] == "2026-11-24T16:00:00Z"


def test_staff_only_thread_is_not_a_conversation(cfg: Config) -> None:
    emails = [mail("2026-11-24T15:00:00Z", "alice@agency.example", staff=True)]
    assert derive("T1", emails, [], cfg, {}) is None


def test_notes_never_count_as_a_reply(cfg: Config) -> None:
    d = client_domain(cfg)
    note = mail("2026-11-24T15:10:00Z", "team@agency.example", staff=True, note=True)
    emails = [mail("2026-11-24T15:00:00Z", f"a@{d}"), note]
    doc = derive("T1", emails, [], cfg, {})
    assert doc is not None and doc["waiting"] and doc["message_count"] == 1


def test_owner_keyword_beats_account_override_beats_directory(cfg: Config) -> None:
    d = client_domain(cfg)
    directory_owner = cfg.clients[d].owner
    other = next(m for m in cfg.managers if m != directory_owner)
    plain = [mail("2026-11-24T15:00:00Z", f"a@{d}")]
    assert derive("T", plain, [], cfg, {})["owner"] == directory_owner  # type: ignore[index]
    assert derive("T", plain, [], cfg, {d: other})["owner"] == other  # type: ignore[index]
    tagged = [mail("2026-11-24T15:00:00Z", f"a@{d}", kw=("triage-owner-zed",))]
    assert derive("T", tagged, [], cfg, {d: other})["owner"] == "zed"  # type: ignore[index]


def test_escalation_reason_comes_from_the_latest_note(cfg: Config) -> None:
    d = client_domain(cfg)
    emails = [mail("2026-11-24T15:00:00Z", f"a@{d}", kw=("triage-escalated",)),
              mail("2026-11-24T15:05:00Z", "t@agency.example", staff=True, note=True),
              mail("2026-11-24T15:06:00Z", "t@agency.example", staff=True, note=True)]  # fmt: skip
    bodies = {
        emails[1]["id"]: json.dumps({"action": "escalate", "by": "alice", "reason": "first",
                                     "at": "2026-11-24T15:05:00Z"}),
        emails[2]["id"]: json.dumps({"action": "escalate", "by": "bob", "reason": "second",
                                     "at": "2026-11-24T15:06:00Z"}),
    }  # fmt: skip
    doc = derive("T", emails, parse_notes(emails, bodies), cfg, {})
    assert doc is not None and doc["escalated"]
    assert (doc["escalation_reason"], doc["escalated_by"]) == ("second", "bob")
    conv = to_conversation(doc)
    assert [n.reason for n in conv.notes] == ["first", "second"]


def test_note_that_is_not_ours_is_ignored(cfg: Config) -> None:
    emails = [mail("2026-11-24T15:05:00Z", "x@agency.example", staff=True, note=True)]
    assert parse_notes(emails, {emails[0]["id"]: "hello, not json"}) == []


def test_ceo_in_copy_marks_the_conversation(cfg: Config) -> None:
    d = client_domain(cfg)
    doc = derive("T", [mail("2026-11-24T15:00:00Z", f"a@{d}", to_ceo=True)], [], cfg, {})
    assert doc is not None and doc["ceo_contacted"]


def test_acknowledged_only_until_the_client_writes_again(cfg: Config) -> None:
    d = client_domain(cfg)
    acked = [mail("2026-11-24T15:00:00Z", f"a@{d}", kw=("triage-escalated", "triage-ack"))]
    assert derive("T", acked, [], cfg, {})["acknowledged"]  # type: ignore[index]
    again = [*acked, mail("2026-11-24T16:00:00Z", f"a@{d}")]
    assert not derive("T", again, [], cfg, {})["acknowledged"]  # type: ignore[index]


def test_account_notes_fold_latest_wins() -> None:
    notes = {
        "n1": json.dumps({"account": True, "client": "acme.com", "to": "bob",
                          "at": "2026-11-24T10:00:00Z"}),
        "n2": json.dumps({"account": True, "client": "acme.com", "to": "claire",
                          "at": "2026-11-24T11:00:00Z"}),
        "n3": json.dumps({"account": False, "client": "acme.com", "to": "zed", "at": "2026-11-25"}),
    }  # fmt: skip
    assert fold_account_notes(notes, {})["acme.com"][0] == "claire"
    known = {"acme.com": ["dan", "2026-11-25T00:00:00Z"]}
    assert fold_account_notes(notes, known)["acme.com"][0] == "dan"
