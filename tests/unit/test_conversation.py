"""A thread -> its conversation: waiting state, clock start, owner, escalation, CEO contact."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.builders import agency_config
from triage.config import Config, load_config
from triage.domain import calendar
from triage.domain.conversation import (
    ReplyTarget,
    derive,
    reowned,
    reply_references,
    reply_subject,
    reply_target,
)
from triage.domain.model import (
    ACKNOWLEDGED,
    DONE,
    ESCALATED,
    Conversation,
    Mark,
    Message,
    MessageInfo,
    Note,
    Status,
    Targets,
    ThreadData,
    ThreadRef,
    Tier,
    owner_mark,
)
from triage.domain.settings import RoutingConfig
from triage.text.isotime import parse_iso

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


@pytest.fixture(scope="module")
def cfg() -> Config:
    return load_config(EXAMPLE, env={"HOME": "/nonexistent"})


def client_domain(cfg: Config) -> str:
    """A client domain on its region's own target (standard tier, no override)."""
    plain = [k for k, c in cfg.clients.items() if c.tier is Tier.STANDARD]
    return next(k for k in plain if "@" not in k and cfg.clients[k].targets.reply_within is None)


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


# ---- every field, on a small config whose every answer differs ----

AGENCY = agency_config()


def at(text: str) -> datetime:
    return parse_iso(f"2026-11-24T{text}:00Z")


def msg(n: int, when: str, sender: str, **kw: Any) -> MessageInfo:
    base: dict[str, Any] = dict(id=f"e{n}", thread_id="T", sender=sender, sender_name="",
                                to=("team@agency.example",), cc=(), subject="Re: Invoice",
                                received_at=at(when), message_id=f"m{n}@x",
                                in_watched=not sender.endswith("agency.example"))  # fmt: skip
    base.update(kw)
    return MessageInfo(**base)


def test_a_derived_conversation_carries_every_fact_of_its_thread() -> None:
    note = Note("escalate", "bob", at("16:05"), reason="angry")
    t = ThreadData("T", (
        msg(3, "16:00", "dana@acme.example", references=("m1@x", "m2@x"),
            marks=frozenset({ESCALATED})),
        msg(1, "15:00", "dana@acme.example", sender_name="Dana Diaz", subject="Invoice"),
        msg(2, "15:20", "carol@agency.example"),
    ), (note,), ("n1",))  # fmt: skip
    us_east = AGENCY.regions["us-east"]
    expected = Conversation(
        thread_id="T", subject="Invoice", client_email="dana@acme.example", client_name="Acme",
        client_key="acme.example", region="us-east", region_guessed=False, owner="carol",
        tier=Tier.STANDARD, waiting=True, first_arrival=at("15:00"),
        last_message_at=at("16:00"), message_count=3, waiting_since=at("16:00"),
        clock_start=calendar.clock_start(at("16:00"), us_east),
        deadline=calendar.deadline(at("16:00"), us_east), escalated=True,
        escalation_reason="angry", escalated_by="bob", escalated_at=at("16:05"),
        ceo_contacted=False, acknowledged=False, owner_mark="", notes=(note,),
        ref=ThreadRef("T", "Invoice", ("e1", "e2", "e3"), ("n1",), "dana@acme.example",
                      ("m1@x", "m2@x", "m3@x"), ("m2@x",)),
        impersonation="", status=Status.WAITING,
        # carol's reply at 15:20 answered the 15:00 question in 20 business minutes
        replied_at=at("15:20"), replied_by="carol", reply_seconds=1200.0, reply_on_time=True,
        target="next reply, region US East: 1h", target_source="region",
    )  # fmt: skip
    assert derive(t, AGENCY, {}) == expected


def test_an_unknown_client_is_named_by_its_first_message_display_name() -> None:
    t = ThreadData("T", (msg(1, "15:00", "x@shop.example", sender_name="Dana Diaz"),
                         msg(2, "15:10", "y@shop.example", sender_name="Other")))  # fmt: skip
    conv = derive(t, AGENCY, {})
    assert conv is not None and conv.client_name == "Dana Diaz" and conv.region_guessed


def test_the_subject_is_the_first_client_message_s_else_the_thread_s() -> None:
    t = ThreadData("T", (msg(1, "15:00", "carol@agency.example", subject="Proposal"),
                         msg(2, "15:10", "dana@acme.example", subject="")))  # fmt: skip
    conv = derive(t, AGENCY, {})
    assert conv is not None and conv.subject == "Proposal" and conv.thread.subject == "Proposal"


def test_the_latest_client_message_that_poses_as_staff_says_why() -> None:
    t = ThreadData("T", (msg(1, "15:00", "x@shop.example", sender_name="Alice Martin"),
                         msg(2, "15:10", "x@shop.example", sender_name="The CEO")))  # fmt: skip
    conv = derive(t, AGENCY, {})
    assert conv is not None and "says CEO" in conv.impersonation


def test_the_latest_three_staff_message_ids_are_kept_to_confirm_a_reply() -> None:
    staff = [msg(n, f"15:0{n}", "carol@agency.example") for n in range(1, 5)]
    t = ThreadData("T", (*staff, msg(5, "15:30", "dana@acme.example"),
                         msg(6, "15:40", "carol@agency.example", message_id="")))  # fmt: skip
    conv = derive(t, AGENCY, {})
    assert conv is not None and conv.thread.staff_message_ids == ("m2@x", "m3@x", "m4@x")


@pytest.mark.parametrize(
    ("references", "message_id", "expected"),
    [
        ((), "m@x", ("m@x",)),
        (("a", "b"), "", ("a", "b")),
        (("a", "b", "c", "d"), "m@x", ("a", "b", "c", "d", "m@x")),  # five: all kept
        (("a", "b", "c", "d", "e"), "m@x", ("a", "c", "d", "e", "m@x")),  # the root + 4
        (("a", "b", "c", "d", "e", "f"), "", ("a", "c", "d", "e", "f")),
    ],
)
def test_a_reply_cites_the_root_and_the_latest_few_references(
    references: tuple[str, ...], message_id: str, expected: tuple[str, ...]
) -> None:
    assert reply_references(references, message_id) == expected


def test_reowned_follows_the_account_owner_unless_the_conversation_has_its_own_mark() -> None:
    conv = derive(ThreadData("T", (msg(1, "15:00", "dana@acme.example"),)), AGENCY, {})
    assert conv is not None and conv.owner == "carol"
    assert reowned(conv, AGENCY, {}) is conv  # nothing changed: the same value
    moved = reowned(conv, AGENCY, {"acme.example": "bob"})
    assert moved.owner == "bob" and dataclasses.replace(moved, owner="carol") == conv
    marked = dataclasses.replace(conv, owner="zed", owner_mark="zed")
    assert reowned(marked, AGENCY, {"acme.example": "bob"}) is marked


def test_without_an_escalation_note_there_is_no_reason_author_or_time() -> None:
    t = ThreadData("T", (msg(1, "15:00", "dana@acme.example", marks=frozenset({ESCALATED})),))
    conv = derive(t, AGENCY, {})
    assert conv is not None and conv.escalated
    assert (conv.escalation_reason, conv.escalated_by, conv.escalated_at) == ("", "", None)


# ---- unreadable mail: said on the conversation, and never a nameless row ----


@pytest.mark.parametrize(
    ("sender", "named"), [("dana@acme.example", "dana@acme.example"), ("", "an unknown sender")]
)
def test_the_newest_unreadable_message_is_the_conversation_s_problem(
    sender: str, named: str
) -> None:
    t = ThreadData("T", (msg(1, "15:00", "x@shop.example", problem="the body is not UTF-8"),
                         msg(2, "15:10", sender, problem="it could not be fetched"),
                         msg(3, "15:20", "x@shop.example")))  # fmt: skip
    conv = derive(t, AGENCY, {})
    assert conv is not None and conv.problem == f"a message from {named}: it could not be fetched"


@pytest.mark.parametrize(
    ("sender", "named"), [("dana@acme.example", "dana@acme.example"), ("", "an unknown sender")]
)
def test_a_thread_without_a_subject_is_named_by_its_oldest_unreadable_message(
    sender: str, named: str
) -> None:
    messages = (
        msg(1, "15:00", "x@shop.example", subject=""),
        msg(2, "15:10", sender, subject="", problem="it could not be fetched"),
        msg(3, "15:20", "y@shop.example", subject="", problem="too big"),
    )
    t = ThreadData("T", messages)
    conv = derive(t, AGENCY, {})
    assert conv is not None and conv.subject == f"(unreadable message from {named})"
    assert conv.thread.subject == conv.subject


def test_a_readable_thread_without_a_subject_keeps_an_empty_one() -> None:
    t = ThreadData("T", (msg(1, "15:00", "x@shop.example", subject=""),))
    conv = derive(t, AGENCY, {})
    assert conv is not None and (conv.subject, conv.problem) == ("", "")


# ---- the clock: which target applies, and none without a region ----

# Acme's contract: a first reply within 30 minutes, a next one within 2 hours (the
# region's own target is 1 hour, so a clock on the wrong target shows).
ACME = dataclasses.replace(AGENCY.clients["acme.example"],
                           targets=Targets(timedelta(hours=2), timedelta(minutes=30)))  # fmt: skip
CONTRACT = dataclasses.replace(AGENCY, clients={**AGENCY.clients, "acme.example": ACME})
DANA, CAROL = "dana@acme.example", "carol@agency.example"


def test_a_new_request_is_due_on_the_first_reply_target_and_a_follow_on_on_the_next() -> None:
    new = derive(ThreadData("T", (msg(1, "15:00", DANA),)), CONTRACT, {})
    assert new is not None and new.deadline == at("15:30")
    assert (new.target, new.target_source) == ("first reply, client Acme: 30m", "client")
    again = (msg(1, "15:00", DANA), msg(2, "15:10", CAROL), msg(3, "16:00", DANA))
    follow_on = derive(ThreadData("T", again), CONTRACT, {})
    assert follow_on is not None and follow_on.deadline == at("18:00")
    assert follow_on.target == "next reply, client Acme: 2h"


def test_a_client_writing_again_after_done_on_a_new_request_is_still_a_new_request() -> None:
    done = Note("done", "carol", at("15:10"), reason="out of office", seen=at("15:00"))
    t = ThreadData("T", (msg(1, "15:00", DANA, marks=frozenset({DONE})), msg(2, "16:00", DANA)),
                   (done,))  # fmt: skip
    conv = derive(t, CONTRACT, {})
    assert conv is not None and (conv.waiting_since, conv.deadline) == (at("16:00"), at("16:30"))


def test_a_thread_staff_began_waits_on_the_next_reply_target_even_in_the_same_second() -> None:
    # Staff wrote first; the client answered within the second. The queue's deadline
    # and the measure of the reply that follows use the same (next reply) target.
    mail = (msg(1, "15:00", CAROL), msg(2, "15:00", DANA))
    conv = derive(ThreadData("T", mail), CONTRACT, {})
    assert conv is not None and (conv.deadline, conv.target_source) == (at("17:00"), "client")
    assert conv.target == "next reply, client Acme: 2h"
    replied = derive(ThreadData("T", (*mail, msg(3, "16:30", CAROL))), CONTRACT, {})
    assert replied is not None and replied.reply_on_time is True


# Senders nobody configured fall back to a region that does not exist: no calendar.
NO_REGION = dataclasses.replace(AGENCY, routing=RoutingConfig("nowhere", {}))


def test_a_client_in_no_known_region_waits_without_a_deadline() -> None:
    conv = derive(ThreadData("T", (msg(1, "15:00", "x@shop.example"),)), NO_REGION, {})
    assert conv is not None
    assert (conv.status, conv.waiting, conv.waiting_since) == (Status.WAITING, True, at("15:00"))
    assert (conv.clock_start, conv.deadline, conv.target, conv.target_source) == (
        None, None, "", "")  # fmt: skip


# ---- the reply: to whom, under which subject, citing what ----


def letter(n: int, when: str, sender: str, **kw: Any) -> Message:
    """A message as the provider hands it over at send time."""
    base: dict[str, Any] = dict(subject="Re: Invoice", message_id=f"m{n}@x")
    base.update(kw)
    return Message(f"e{n}", "T", sender, "", at(when), **base)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Invoice", "Re: Invoice"),
        ("  Invoice \n", "Re: Invoice"),
        ("Re: Invoice", "Re: Invoice"),
        ("RE: Invoice", "RE: Invoice"),
        ("re:Invoice", "re:Invoice"),
        ("Regarding the invoice", "Re: Regarding the invoice"),
    ],
)
def test_a_reply_subject_says_re_once(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


def test_a_reply_answers_the_thread_s_latest_client_message_whatever_order_it_came_in() -> None:
    page = (
        letter(3, "15:20", "erin@acme.example", references=("m1@x", "m2@x")),
        letter(4, "15:30", "carol@agency.example"),  # staff: never the one answered
        letter(1, "15:00", "dana@acme.example", subject="Invoice"),
        letter(2, "15:10", "x@shop.example"),
    )
    assert reply_target(page, AGENCY, "Invoice") == ReplyTarget(
        "erin@acme.example", "Re: Invoice", ("m1@x", "m2@x", "m3@x")
    )


@pytest.mark.parametrize(
    ("subject", "expected"), [("Invoice", "Re: Invoice"), ("", "Re: Invoice for March")]
)
def test_a_reply_keeps_the_conversation_s_subject_else_takes_the_message_s(
    subject: str, expected: str
) -> None:
    page = (letter(1, "15:00", "dana@acme.example", subject="Invoice for March"),)
    target = reply_target(page, AGENCY, subject)
    assert target is not None and target.subject == expected


NO_ONE_TO_ANSWER = {
    "no message": (),
    "staff only": (letter(1, "15:00", "carol@agency.example"),
                   letter(2, "15:10", "alice@agency.ca")),
    # the latest client message says no sender: no guessing from the ones before it
    "the latest client message has no sender": (letter(1, "15:00", "dana@acme.example"),
                                                letter(2, "15:10", "erin@acme.example"),
                                                letter(3, "15:20", "")),
}  # fmt: skip


@pytest.mark.parametrize("page", NO_ONE_TO_ANSWER.values(), ids=NO_ONE_TO_ANSWER.keys())
def test_no_reply_target_without_a_client_to_answer(page: tuple[Message, ...]) -> None:
    assert reply_target(page, AGENCY, "Invoice") is None
