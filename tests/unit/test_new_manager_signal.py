"""The "asked for a new manager" signal: real phrasings in English and French match, and
what must not (negations, praise, quoted or forwarded text, a newsletter's subject) does
not; the conversation is flagged, a reassignment clears it, the report counts it per
manager (the one who owned it when the client wrote); `[signals]` extends the phrases."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.builders import agency_config
from tests.unit.test_config import BASE, ENV, with_token, write
from triage import config as C
from triage.domain import conversation, signals
from triage.domain.model import MessageInfo, Note, ThreadData
from triage.domain.report import report
from triage.domain.settings import SignalsConfig
from triage.store.conversation_docs import conversation_doc, conversation_from_doc

PHRASES = signals.phrases()

ASKS = [
    "I want someone else on our account. This is the third missed deadline.",
    "Honestly, can I speak to a different account manager?",
    "Could we have a different account manager going forward please",
    "We would like a new account manager for the spring campaign.",
    "Please assign someone else to our file.",
    "I’d like someone else to handle this — no offence to Carol.",  # typographic apostrophe
    "CAN I TALK TO SOMEONE ELSE",
    "Bonjour, je veux un autre directeur de comptes. Merci.",
    "Pourrais-je parler à quelqu’un d’autre ?",
    "pourrais je parler a quelqu'un d'autre",  # no hyphen, no accent
    "Nous voudrions un autre gestionnaire de compte à partir de lundi.",
    "Je   veux\n quelqu'un   d'autre.",  # whitespace folded
    "Allô, nous voulons changer de directeur de comptes.",
]
DOES_NOT = [
    "I don't want someone else, I want Alice to call me back.",
    "We are very happy with our account manager, thanks!",
    "Not that I want someone else, but this is late.",
    "Someone else from our team will send the files.",
    "Thanks! On Tue, 3 Nov 2026 at 10:02, Alice <alice@agency.example> wrote: > can I speak "
    "to a different account manager? was what your other client said",
    "Merci! Le mar. 3 nov. 2026 à 10:02, Alice Martin a écrit : > je veux quelqu'un d'autre",
    "See below. > I want someone else",
    "FYI ---------- Forwarded message --------- From: newsletter I want someone else",
    "Je ne veux pas quelqu'un d'autre, je veux une réponse.",
    "Nous sommes contents de notre directeur de comptes.",
    "The elsewhere team wants someone elsewhere",  # whole words only
    "",
]


@pytest.mark.parametrize("text", ASKS)
def test_real_requests_match(text: str) -> None:
    assert signals.asks_new_manager(text, PHRASES)


@pytest.mark.parametrize("text", DOES_NOT)
def test_what_is_not_a_request_does_not_match(text: str) -> None:
    assert signals.asks_new_manager(text, PHRASES) == ""


def test_a_configured_phrase_is_added_folded() -> None:
    mine = signals.phrases(["Give us SOMEBODY NEW"])
    assert "give us somebody new" in mine and set(PHRASES) < set(mine)
    assert signals.asks_new_manager("ok, give us somebody new.", mine)
    assert not signals.asks_new_manager("ok, give us somebody new.", PHRASES)


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


ACME, CAROL = "pat@acme.example", "carol@agency.example"


def mail(n: int, at: str, sender: str, preview: str, subject: str = "Spring campaign"
         ) -> MessageInfo:  # fmt: skip
    return MessageInfo(f"m{n}", "T1", sender, "", ("team@agency.example",), (), subject, z(at),
                       f"{n}@x", in_watched=True, preview=preview)  # fmt: skip


ASKING = (
    mail(1, "2026-11-03T15:00", ACME, "Where are the files?"),
    mail(2, "2026-11-03T15:20", CAROL, "Here they are."),
    mail(3, "2026-11-04T15:00", ACME, "Still wrong. I want someone else on this account."),
)


def test_the_newest_client_message_flags_the_conversation_until_it_is_reassigned() -> None:
    cfg = agency_config()
    conv = conversation.derive(ThreadData("T1", ASKING), cfg, {})
    assert conv is not None and conv.asked_new_manager and conv.owner == "carol"
    # An older request, answered since, and a newer message that does not ask: not flagged.
    later = (*ASKING, mail(4, "2026-11-04T15:30", CAROL, "Sorry."),
             mail(5, "2026-11-04T16:00", ACME, "Thanks, that works."))  # fmt: skip
    calm = conversation.derive(ThreadData("T1", later), cfg, {})
    assert calm is not None and not calm.asked_new_manager
    moved = Note("reassign", "ceo", z("2026-11-04T15:10"), "client asked for someone else",
                 "alice", previous="carol")  # fmt: skip
    heard = conversation.derive(ThreadData("T1", ASKING, (moved,)), cfg, {})
    assert heard is not None and not heard.asked_new_manager


def test_a_forwarded_newsletter_with_the_phrase_in_its_subject_is_not_flagged() -> None:
    letter = mail(
        1,
        "2026-11-03T15:00",
        ACME,
        "FYI, see the article below.",
        subject="Fwd: Ten signs you want someone else as your account manager",
    )
    conv = conversation.derive(ThreadData("T1", (letter,)), agency_config(), {})
    assert conv is not None and not conv.asked_new_manager


def test_the_report_counts_it_for_the_manager_who_owned_it_then() -> None:
    moved = Note("reassign", "ceo", z("2026-11-04T15:10"), "client asked for someone else",
                 "alice", previous="carol")  # fmt: skip
    thread = ThreadData("T1", ASKING, (moved,))
    start, end = z("2026-11-02T00:00"), z("2026-11-06T00:00")
    rows = {r["group"]: r for r in report([thread], agency_config(), start, end, "manager")}
    assert rows["carol"]["asked_new_manager"] == 1  # Carol's when the client asked
    assert rows["ceo"]["reassigned"] == 1 and rows["ceo"]["asked_new_manager"] == 0
    [east] = report([thread], agency_config(), start, end, "region")
    assert east["asked_new_manager"] == 1
    before = report([thread], agency_config(), start, z("2026-11-04T00:00"), "manager")
    assert all(r["asked_new_manager"] == 0 for r in before)  # the request came after


def test_no_phrases_no_signal() -> None:
    cfg = dataclasses.replace(agency_config(), signals=SignalsConfig(()))
    conv = conversation.derive(ThreadData("T1", ASKING), cfg, {})
    assert conv is not None and not conv.asked_new_manager


def test_the_flag_survives_the_cache_and_an_older_document_reads_as_not_asked() -> None:
    conv = conversation.derive(ThreadData("T1", ASKING), agency_config(), {})
    assert conv is not None
    doc = conversation_doc(conv)
    assert doc["am"] is True and conversation_from_doc(doc).asked_new_manager
    old = {k: v for k, v in doc.items() if k != "am"}
    assert conversation_from_doc(old).asked_new_manager is False


def test_check_config_takes_phrases_and_refuses_short_or_wrong_ones(tmp_path: Path) -> None:
    with_token(tmp_path)

    def check(phrases: str) -> C.ConfigCheck:
        text = f"{BASE}\n[signals]\nnew_manager_phrases = {phrases}\n"
        return C.check_config(write(tmp_path, text), ENV)

    ok = check('["Give us somebody new", "on veut du neuf svp"]')
    assert ok.code == 0 and ok.config is not None, ok.problems
    assert "give us somebody new" in ok.config.signals.new_manager_phrases
    assert "je veux un autre directeur de comptes" in ok.config.signals.new_manager_phrases
    assert [p.key for p in check('["someone else", 3]').problems] == [
        "signals.new_manager_phrases"]  # fmt: skip
    short = check('["someone else"]').problems
    assert [p.key for p in short] == ["signals.new_manager_phrases[0]"]
    assert "3 words or more" in short[0].message
    assert [p.key for p in check('"x"').problems] == ["signals.new_manager_phrases"]
