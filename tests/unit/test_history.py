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


def test_a_note_body_keeps_non_ascii_text_readable() -> None:
    body = history.encode(Note("escalate", "bob", T, reason="client fâché"))
    assert "client fâché" in body and "\\u" not in body


def test_notes_read_oldest_first_whatever_order_they_were_listed_in() -> None:
    early, late = Note("escalate", "bob", T), Note("ack", "ceo", T.replace(hour=16))
    assert history.merged([late, early, late]) == (early, late)


def test_the_last_note_of_an_action_is_the_latest_listed() -> None:
    first = Note("escalate", "bob", T, reason="first")
    second = Note("escalate", "alice", T.replace(hour=16), reason="second")
    third = Note("escalate", "carol", T.replace(hour=17), reason="third")
    ack = Note("ack", "ceo", T.replace(hour=18))
    assert history.last([first, second, third, ack], "escalate") == third
    assert history.last([ack], "escalate") is None


def test_notes_that_are_not_account_reassignments_are_skipped_not_the_end() -> None:
    one_thread = Note("reassign", "bob", T, to="dave", client="acme.com")
    account = Note("reassign", "bob", T.replace(hour=16), to="carol", account=True,
                   client="acme.com")  # fmt: skip
    assert history.account_owners([one_thread, account], {}) == {"acme.com": ("carol", account.at)}


def test_an_account_note_as_recent_as_what_is_known_replaces_it() -> None:
    note = Note("reassign", "bob", T, to="carol", account=True, client="acme.com")
    known = {"acme.com": ("alice", T)}
    assert history.account_owners([note], known) == {"acme.com": ("carol", T)}


def test_missing_or_mistyped_fields_read_as_empty_and_an_unreadable_time_sorts_first() -> None:
    epoch = datetime.min.replace(tzinfo=UTC)
    assert history.decode('{"action": "escalate"}') == Note("escalate", "", epoch)
    odd = history.decode('{"action": "escalate", "by": 3, "at": 5, "reason": ["x"]}')
    assert odd == Note("escalate", "", epoch)
    assert history.decode('{"action": "ack", "at": "not a time"}') == Note("ack", "", epoch)
