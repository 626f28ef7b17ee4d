"""Who owns a conversation: its own mark, then the account's owner, then the directory,
then the first manager qualified for a guessed region."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.builders import agency_config
from triage.domain import ownership
from triage.domain.model import ESCALATED, Mark, MarkKind, MessageInfo, Route, Tier, owner_mark

CFG = agency_config()
AT = datetime(2026, 11, 24, 15, tzinfo=UTC)
KNOWN = Route("acme.example", "Acme", "us-east", Tier.STANDARD, False)
GUESSED = Route("shop.example", "shop.example", "us-east", Tier.STANDARD, True)


def msg(n: int, *marks: Mark) -> MessageInfo:
    return MessageInfo(f"e{n}", "T", "a@acme.example", "", (), (), "Help", AT,
                       marks=frozenset(marks))  # fmt: skip


def test_the_latest_owner_mark_wins_and_empty_or_other_marks_do_not_count() -> None:
    assert ownership.owner_mark([msg(1, owner_mark("bob")), msg(2, owner_mark("zed"))]) == "zed"
    empty = Mark(MarkKind.OWNER, "")
    other = Mark(MarkKind.ACK, "carol")
    assert ownership.owner_mark([msg(1, owner_mark("bob")), msg(2, empty, other)]) == "bob"
    assert ownership.owner_mark([msg(1, ESCALATED)]) == ""


def test_a_known_client_is_owned_by_its_directory_owner() -> None:
    # carol, though alice is the first manager qualified for us-east
    assert ownership.directory_owner(KNOWN, CFG) == "carol"


def test_a_guessed_sender_goes_to_the_first_manager_qualified_for_the_region() -> None:
    assert ownership.directory_owner(GUESSED, CFG) == "alice"
    quebec = Route("maple.ca", "maple.ca", "ca-qc", Tier.STANDARD, True)
    assert ownership.directory_owner(quebec, CFG) == "bob"


def test_a_guessed_route_never_takes_a_directory_owner() -> None:
    """A guessed route keyed like a client (its domain) still goes by region."""
    guessed_acme = Route("acme.example", "acme.example", "us-west", Tier.STANDARD, True)
    assert ownership.directory_owner(guessed_acme, CFG) == "alice"


def test_an_unguessed_route_missing_from_the_directory_goes_by_region() -> None:
    gone = Route("gone.example", "Gone", "ca-qc", Tier.STANDARD, False)
    assert ownership.directory_owner(gone, CFG) == "bob"


def test_nobody_owns_a_region_no_manager_is_qualified_for() -> None:
    nowhere = Route("x.example", "x.example", "eu-west", Tier.STANDARD, True)
    assert ownership.directory_owner(nowhere, CFG) == ""


def test_precedence_mark_then_account_then_directory() -> None:
    accounts = {"acme.example": "bob"}
    assert ownership.resolve_owner("zed", KNOWN, accounts, CFG) == "zed"
    assert ownership.resolve_owner("", KNOWN, accounts, CFG) == "bob"
    assert ownership.resolve_owner("", KNOWN, {"other.example": "bob"}, CFG) == "carol"
