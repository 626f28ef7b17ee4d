"""Notes: their neutral JSON form, duplicates, account-level reassignments folded."""

from __future__ import annotations

from datetime import UTC, datetime

from triage.domain import history
from triage.domain.model import Note

T = datetime(2026, 11, 24, 15, tzinfo=UTC)


def test_a_note_round_trips_through_its_json_form() -> None:
    note = Note("reassign", "bob", T, reason="workload", to="alice", account=True,
                client="acme.com", previous="bob")  # fmt: skip
    assert history.decode(history.encode(note)) == note


def test_a_note_filed_twice_shows_once() -> None:
    body = '{"action": "escalate", "by": "alice", "at": "2026-11-24T15:00:00Z", "reason": "x"}'
    once = history.decode(body)
    assert once is not None
    assert history.merged([once, history.decode(body)]) == (once,)  # type: ignore[list-item]


def test_what_is_not_a_note_reads_as_none() -> None:
    for text in ("Hello, this is a person writing", "[1, 2]", '{"by": "x"}', '{"action": 3}'):
        assert history.decode(text) is None


def test_the_latest_account_reassignment_wins() -> None:
    early = Note("reassign", "bob", T, to="alice", account=True, client="acme.com")
    late = Note("reassign", "bob", T.replace(hour=16), to="carol", account=True, client="acme.com")
    one_thread = Note("reassign", "bob", T.replace(hour=17), to="dave", client="acme.com")
    owners = history.account_owners([late, early, one_thread], {})
    assert owners == {"acme.com": ("carol", late.at)}
    assert history.account_owners([early], owners) == owners  # older than what is known
