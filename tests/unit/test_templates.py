"""Templates and signatures: placeholders filled or left to fill, a signature added once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time

from tests.support.builders import conversation
from triage.domain.model import Manager, Region
from triage.domain.templates import (
    render,
    unfilled,
    unknown_placeholders,
    values_for,
    with_signature,
    without_signature,
)

EAST = Region("us-east", "US East", "America/New_York", "US", (time(9), time(17)))
ALICE = Manager("alice", "Alice Martin", "alice@agency.example", ("us-east",))


def test_every_placeholder_is_filled_from_the_conversation_its_contact_and_the_manager() -> None:
    conv = replace(conversation(1), deadline=datetime(2026, 12, 2, 22, 0, tzinfo=UTC))
    values = values_for(conv, "Dana Scully", ALICE, EAST)
    body = ("Hi {client_first_name} ({client_name}), {manager_first_name} here "
            "({manager_name}); by {deadline}, {region}.")  # fmt: skip
    assert render(body, values) == (
        "Hi Dana (Dana Scully), Alice here (Alice Martin); by Wed 17:00 EST, US East.")  # fmt: skip
    assert unfilled(render(body, values)) == []


def test_what_cannot_be_filled_stays_for_the_manager_and_blocks_nothing_else() -> None:
    conv = replace(conversation(1), deadline=None, client_name="Acme Corp")
    values = values_for(conv, "", None, None)  # no contact name, no manager, no region
    text = render(
        "Hi {client_first_name}, {client_name} by {deadline}. {client_first_name}", values
    )
    assert text == "Hi {client_first_name}, Acme Corp by {deadline}. {client_first_name}"
    assert unfilled(text) == ["client_first_name", "deadline"]  # in order, once each
    assert values_for(conv, "billing@acme.com", None, None).get("client_first_name") is None


def test_unknown_placeholders_are_named_and_other_braces_are_text() -> None:
    assert unknown_placeholders("Hi {client_frist_name}, {Name} {x_y} {}") == [
        "client_frist_name",
        "x_y",
    ]
    assert unfilled("a {json: 1} and {Name}") == []
    assert render("{nope}", {"nope": "x"}) == "x"  # render fills what it is given


def test_a_signature_is_added_once_after_the_separator() -> None:
    sig = "Alice Martin\nAgency"
    once = with_signature("Thanks, done.\n", sig)
    assert once == "Thanks, done.\n\n-- \nAlice Martin\nAgency"
    assert with_signature(once, sig) == once  # a re-opened draft is not signed twice
    assert with_signature(once + "\n", sig) == once + "\n"
    assert with_signature("", sig) == "\n\n-- \nAlice Martin\nAgency"  # a new reply
    assert with_signature("Hi", "") == "Hi"
    assert without_signature(once) == "Thanks, done.\n"
    assert without_signature("no signature") == "no signature"
    assert without_signature("a\n-- \nb\n-- \nc") == "a\n-- \nb"  # the last separator


def test_the_first_name_is_the_first_word_as_written_without_its_comma() -> None:
    conv = conversation(1)
    assert values_for(conv, "Dana, Acme Corp", None, None)["client_first_name"] == "Dana"
    assert values_for(conv, "Xavier Dupont", None, None)["client_first_name"] == "Xavier"
    me = Manager("xena", "Xena Roy", "xena@agency.example", ("us-east",))
    assert values_for(conv, "", me, None)["manager_first_name"] == "Xena"


def test_a_signature_is_added_as_written_only_its_blank_lines_trimmed() -> None:
    sig = "\n  Xavier Dupont\n  Agency, Montreal\n\n"
    assert with_signature("Hi", sig) == "Hi\n\n-- \n  Xavier Dupont\n  Agency, Montreal"
    assert with_signature("Hi", "Xavier\nAgency X\n") == "Hi\n\n-- \nXavier\nAgency X"


def test_the_text_above_a_separator_anywhere_is_what_the_manager_wrote() -> None:
    assert without_signature("Thanks\n-- ") == "Thanks"  # a separator with nothing under it
    assert without_signature("-- \nAlice Martin") == ""  # only a signature
    assert without_signature("\n-- \nAlice Martin") == ""


def test_the_picker_offers_the_clients_language_first() -> None:
    from triage.domain.templates import Template, for_language

    merci = Template("merci", "Merci", language="fr")
    thanks = Template("thanks", "Thanks", language="en")
    sig = Template("sig", "--")
    order = [t.name for t in for_language([thanks, sig, merci], "fr")]
    assert order == ["merci", "sig", "thanks"]
    assert [t.name for t in for_language([merci, sig, thanks], "en")] == ["thanks", "sig", "merci"]


def test_a_french_templates_deadline_reads_in_french() -> None:
    conv = replace(conversation(1), deadline=datetime(2026, 12, 2, 22, 0, tzinfo=UTC))
    assert values_for(conv, "", None, EAST, "fr")["deadline"] == "mer. 17 h 00 EST"
    assert values_for(conv, "", None, EAST)["deadline"] == "Wed 17:00 EST"
