"""The workflow states read from a thread's marks and notes (PRODUCT.md "Workflow states"):
done, snoozed, follow-up, answered, and the rule that no deadline is ever hidden.

Times are on Tuesday 2026-11-24 (UTC); the US East office is open 14:00-22:00 UTC and
answers within one business hour; "at risk" is under 15 minutes left.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from tests.support.builders import T0, agency_config, conversation
from triage.domain import calendar
from triage.domain.conversation import (
    as_done,
    as_reopened,
    as_snoozed,
    as_unsnoozed,
    as_woken,
    derive,
)
from triage.domain.model import (
    DONE,
    SNOOZED,
    Conversation,
    MessageInfo,
    Note,
    Status,
    Targets,
    ThreadData,
    replying_mark,
)
from triage.domain.settings import Config, RoutingConfig
from triage.domain.workflow import SNOOZE_CANCELLED, status_at
from triage.text.isotime import parse_iso

AGENCY = agency_config()
US_EAST = AGENCY.regions["us-east"]
HOUR = timedelta(hours=1)
CLIENT, STAFF = "dana@acme.example", "carol@agency.example"


def at(text: str, day: int = 24) -> datetime:
    return parse_iso(f"2026-11-{day}T{text}:00Z")


def msg(n: int, when: str, sender: str, **kw: Any) -> MessageInfo:
    base: dict[str, Any] = dict(id=f"e{n}", thread_id="T", sender=sender, sender_name="",
                                to=("team@agency.example",), cc=(), subject="Invoice",
                                received_at=at(when), message_id=f"m{n}@x",
                                in_watched=sender == CLIENT)  # fmt: skip
    base.update(kw)
    return MessageInfo(**base)


def conv(*mail: MessageInfo, notes: tuple[Note, ...] = (), cfg: Config = AGENCY) -> Conversation:
    c = derive(ThreadData("T", mail, notes), cfg, {})
    assert c is not None
    return c


def marked(m: MessageInfo, *marks: Any) -> MessageInfo:
    return MessageInfo(**{**m.__dict__, "marks": frozenset(marks)})


# ---- done ----


def test_done_takes_a_waiting_conversation_out_of_the_queue_with_its_reason() -> None:
    done = Note("done", "carol", at("15:10"), reason="thanks / no question")
    c = conv(marked(msg(1, "15:00", CLIENT), DONE), notes=(done,))
    assert (c.status, c.waiting, c.done_reason, c.done_by, c.done_at) == (
        Status.DONE, False, "thanks / no question", "carol", at("15:10")
    )  # fmt: skip
    assert c.deadline == calendar.deadline(at("15:00"), US_EAST)  # kept, for a reopen


def test_a_client_message_after_done_brings_it_back_with_a_fresh_clock() -> None:
    done = Note("done", "carol", at("15:10"), reason="out of office")
    c = conv(marked(msg(1, "15:00", CLIENT), DONE), msg(2, "16:00", CLIENT), notes=(done,))
    assert (c.status, c.waiting, c.waiting_since) == (Status.WAITING, True, at("16:00"))
    assert c.deadline == calendar.deadline(at("16:00"), US_EAST)


def test_reopen_restores_the_clock_that_done_had_stopped() -> None:
    notes = (Note("done", "carol", at("15:10")), Note("reopen", "carol", at("15:20")))
    c = conv(msg(1, "15:00", CLIENT), notes=notes)  # the reopen cleared the mark
    assert (c.status, c.waiting, c.waiting_since) == (Status.WAITING, True, at("15:00"))
    assert c.done_reason == ""


# ---- snooze ----


def test_a_snoozed_waiting_conversation_wakes_at_its_time_or_at_risk_if_sooner() -> None:
    due = calendar.deadline(at("15:00"), US_EAST)  # 16:00
    soon = Note("snooze", "carol", at("15:05"), until=at("15:30"))
    c = conv(marked(msg(1, "15:00", CLIENT), SNOOZED), notes=(soon,))
    assert (c.status, c.waiting, c.deadline, c.snoozed_until) == (
        Status.SNOOZED, True, due, at("15:30")
    )  # fmt: skip
    assert c.wake_at == at("15:30")
    late = Note("snooze", "carol", at("15:05"), until=at("09:00", day=25))
    c = conv(marked(msg(1, "15:00", CLIENT), SNOOZED), notes=(late,))
    assert c.wake_at == due - timedelta(minutes=15) and c.deadline == due  # never hidden
    assert status_at(c, at("15:44")) is Status.SNOOZED
    assert status_at(c, at("15:45")) is Status.WAITING


def test_a_new_client_message_wakes_a_snooze_at_once_on_the_oldest_clock() -> None:
    snooze = Note("snooze", "carol", at("15:05"), until=at("09:00", day=25))
    c = conv(marked(msg(1, "15:00", CLIENT), SNOOZED), msg(2, "15:20", CLIENT), notes=(snooze,))
    assert (c.status, c.waiting_since) == (Status.WAITING, at("15:00"))


def test_a_snooze_on_an_answered_conversation_is_a_follow_up_clocked_from_its_wake() -> None:
    reminder = Note("snooze", "carol", at("15:30"), until=at("18:00"))
    mail = (marked(msg(1, "15:00", CLIENT), SNOOZED), marked(msg(2, "15:20", STAFF), SNOOZED))
    c = conv(*mail, notes=(reminder,))
    assert (c.status, c.waiting, c.follow_up, c.wake_at) == (
        Status.SNOOZED, True, True, at("18:00")
    )  # fmt: skip
    assert (c.clock_start, c.deadline) == (at("18:00"), calendar.deadline(at("18:00"), US_EAST))
    assert status_at(c, at("17:59")) is Status.SNOOZED
    assert status_at(c, at("18:00")) is Status.FOLLOW_UP


def test_waking_a_reminder_early_makes_a_follow_up_now_until_staff_writes() -> None:
    notes = (Note("snooze", "carol", at("15:30"), until=at("09:00", day=25)),
             Note("wake", "carol", at("16:00")))  # fmt: skip
    mail = (msg(1, "15:00", CLIENT), msg(2, "15:20", STAFF))
    c = conv(*mail, notes=notes)
    assert (c.status, c.waiting, c.clock_start) == (Status.FOLLOW_UP, True, at("16:00"))
    c = conv(*mail, msg(3, "16:30", STAFF), notes=notes)
    assert (c.status, c.waiting) == (Status.ANSWERED, False)


# ---- answered ----


def test_answered_says_who_replied_how_fast_in_business_time_and_if_on_time() -> None:
    c = conv(msg(1, "15:00", CLIENT), msg(2, "15:40", STAFF))
    assert (c.status, c.replied_at, c.replied_by, c.reply_seconds, c.reply_on_time) == (
        Status.ANSWERED, at("15:40"), "carol", 2400.0, True
    )  # fmt: skip
    overnight = conv(msg(1, "21:30", CLIENT), msg(2, "14:45", STAFF, received_at=at("14:45", 25)))
    assert overnight.reply_seconds == 75 * 60  # 30 min before closing, 45 after opening
    assert overnight.reply_on_time is False  # due 14:30 the next day


def test_business_time_counts_only_open_hours() -> None:
    assert calendar.business_time(at("21:30"), at("14:30", 25), US_EAST) == timedelta(hours=1)
    assert calendar.business_time(at("16:00"), at("15:00"), US_EAST) == timedelta(0)


# ---- someone is replying ----


def test_a_manager_replying_now_is_read_from_the_mark_and_its_note() -> None:
    note = Note("replying", "alice", at("15:05"), until=at("15:15"))
    c = conv(marked(msg(1, "15:00", CLIENT), replying_mark("alice")), notes=(note,))
    assert (c.replying, c.replying_until) == ("alice", at("15:15"))
    assert conv(msg(1, "15:00", CLIENT), notes=(note,)).replying == ""  # the mark is gone


# ---- what an action shows before the provider confirms ----


def without_notes(c: Conversation) -> Conversation:
    return replace(c, notes=())  # the engine adds the action's note to what it shows


def test_the_shown_outcome_of_each_action_equals_what_the_provider_will_say() -> None:
    waiting = conv(msg(1, "15:00", CLIENT))
    done = Note("done", "carol", at("15:10"), reason="spam or phishing")
    synced = conv(marked(msg(1, "15:00", CLIENT), DONE), notes=(done,))
    assert as_done(waiting, done) == without_notes(synced)
    assert as_reopened(as_done(waiting, done)) == waiting
    snooze = Note("snooze", "carol", at("15:05"), until=at("15:30"))
    snoozed = conv(marked(msg(1, "15:00", CLIENT), SNOOZED), notes=(snooze,))
    shown = as_snoozed(waiting, at("15:30"), AGENCY)
    assert shown == without_notes(snoozed)
    assert as_woken(shown, at("15:10"), AGENCY) == waiting
    answered = conv(msg(1, "15:00", CLIENT), msg(2, "15:20", STAFF))
    reminder = Note("snooze", "carol", at("15:30"), until=at("18:00"))
    synced = conv(*(marked(m, SNOOZED) for m in (msg(1, "15:00", CLIENT), msg(2, "15:20", STAFF))),
                  notes=(reminder,))  # fmt: skip
    assert as_snoozed(answered, at("18:00"), AGENCY) == without_notes(synced)


def test_a_client_message_the_person_had_not_seen_ends_the_done_marked_or_not() -> None:
    # Seen up to 15:00; the client wrote at 15:08 while the reason was being picked
    # (unmarked: the cache did not have it), or at 15:20 while the done was queued
    # offline (marked by the flush that came after the sync that cached it).
    done = Note("done", "carol", at("15:10"), reason="thanks / no question", seen=at("15:00"))
    for late in (msg(2, "15:08", CLIENT), marked(msg(2, "15:20", CLIENT), DONE)):
        c = conv(marked(msg(1, "15:00", CLIENT), DONE), late, notes=(done,))
        assert c.waiting and c.status is Status.WAITING
        assert c.waiting_since == late.received_at  # a fresh clock, from the new message
    alone = conv(marked(msg(1, "15:00", CLIENT), DONE), notes=(done,))
    assert alone.status is Status.DONE and not alone.waiting


def test_a_snooze_ends_with_a_client_message_after_what_was_seen() -> None:
    snooze = Note("snooze", "carol", at("15:10"), until=at("18:00"), seen=at("15:00"))
    c = conv(marked(msg(1, "15:00", CLIENT), SNOOZED), marked(msg(2, "15:05", CLIENT), SNOOZED),
             notes=(snooze,))  # fmt: skip
    assert c.status is Status.WAITING


def test_undoing_a_reminder_leaves_the_conversation_answered() -> None:
    mail = (msg(1, "15:00", CLIENT), msg(2, "15:20", STAFF))
    snooze = Note("snooze", "carol", at("15:30"), until=at("18:00"))
    cancelled = Note("wake", "carol", at("15:31"), reason=SNOOZE_CANCELLED)
    c = conv(*mail, notes=(snooze, cancelled))
    assert c.status is Status.ANSWERED and not c.follow_up and c.deadline is None
    woken = conv(*mail, notes=(snooze, Note("wake", "carol", at("15:31"))))
    assert woken.status is Status.FOLLOW_UP  # woken by hand: the reminder is due now


def test_replying_now_ends_when_a_staff_reply_is_in_the_thread() -> None:
    writing = Note("replying", "carol", at("15:30"), until=at("15:40"))
    first = marked(msg(1, "15:00", CLIENT), replying_mark("carol"))
    assert conv(first, notes=(writing,)).replying == "carol"
    assert conv(first, msg(2, "15:32", STAFF), notes=(writing,)).replying == ""


def test_a_done_undone_in_the_same_second_is_not_done() -> None:
    notes = (Note("done", "carol", at("15:10")), Note("reopen", "carol", at("15:10")))
    c = conv(msg(1, "15:00", CLIENT), notes=notes)
    assert (c.status, c.waiting, c.waiting_since) == (Status.WAITING, True, at("15:00"))


def test_a_reminder_woken_in_the_second_it_was_set_is_due_now() -> None:
    notes = (Note("snooze", "carol", at("15:30"), until=at("09:00", day=25)),
             Note("wake", "carol", at("15:30")))  # fmt: skip
    c = conv(msg(1, "15:00", CLIENT), msg(2, "15:20", STAFF), notes=notes)
    assert (c.status, c.clock_start) == (Status.FOLLOW_UP, at("15:30"))


def test_a_staff_message_already_there_when_someone_starts_replying_does_not_end_it() -> None:
    writing = Note("replying", "carol", at("15:30"), until=at("15:40"))
    first = marked(msg(1, "15:00", CLIENT), replying_mark("carol"))
    for earlier in ("15:20", "15:30"):  # before, or in the same second
        assert conv(first, msg(2, earlier, STAFF), notes=(writing,)).replying == "carol"


# ---- a reply against the target it had ----

# Acme's contract: a first reply within 30 minutes, a next one within 2 hours (the
# region's own target is 1 hour, so a reply measured against the wrong one shows).
ACME = replace(AGENCY.clients["acme.example"],
               targets=Targets(timedelta(hours=2), timedelta(minutes=30)))  # fmt: skip
CONTRACT = replace(AGENCY, clients={**AGENCY.clients, "acme.example": ACME})


def test_a_first_reply_is_measured_against_the_first_reply_target_due_inclusive() -> None:
    on_time = conv(msg(1, "15:00", CLIENT), msg(2, "15:30", STAFF), cfg=CONTRACT)
    assert (on_time.reply_seconds, on_time.reply_on_time) == (1800.0, True)  # at the deadline
    late = conv(msg(1, "15:00", CLIENT), msg(2, "15:31", STAFF), cfg=CONTRACT)
    assert late.reply_on_time is False


def test_a_next_reply_is_measured_against_the_next_reply_target() -> None:
    mail = (msg(1, "15:00", CLIENT), msg(2, "15:10", STAFF), msg(3, "16:00", CLIENT))
    c = conv(*mail, msg(4, "17:30", STAFF), cfg=CONTRACT)  # 1h30m: within 2h, not 30m or 1h
    assert (c.replied_at, c.reply_seconds, c.reply_on_time) == (at("17:30"), 5400.0, True)
    late = conv(*mail, msg(4, "18:01", STAFF), cfg=CONTRACT)
    assert late.reply_on_time is False


def test_a_reply_from_staff_not_in_the_config_is_credited_to_their_address() -> None:
    c = conv(msg(1, "15:00", CLIENT), msg(2, "15:20", "dave@agency.example"))
    assert (c.replied_by, c.reply_seconds, c.reply_on_time) == ("dave@agency.example", 1200.0, True)


# Senders nobody configured fall back to a region that does not exist: no calendar.
NO_REGION = replace(AGENCY, routing=RoutingConfig("nowhere", {}))
STRANGER = "x@shop.example"


def test_without_a_region_a_reply_is_timed_on_the_wall_clock_and_has_no_target_to_miss() -> None:
    overnight = msg(2, "14:45", STAFF, received_at=at("14:45", 25))
    c = conv(msg(1, "21:30", STRANGER, in_watched=True), overnight, cfg=NO_REGION)
    assert (c.status, c.replied_at, c.replied_by) == (Status.ANSWERED, at("14:45", 25), "carol")
    assert (c.reply_seconds, c.reply_on_time) == ((17 * 60 + 15) * 60.0, True)


def test_without_a_deadline_a_snooze_wakes_at_its_own_time() -> None:
    snooze = Note("snooze", "carol", at("15:05"), until=at("09:00", day=25))
    c = conv(marked(msg(1, "15:00", STRANGER, in_watched=True), SNOOZED), notes=(snooze,),
             cfg=NO_REGION)  # fmt: skip
    assert (c.status, c.deadline, c.wake_at) == (Status.SNOOZED, None, at("09:00", day=25))


# ---- what each action shows, on the clock it should have ----


def test_done_on_a_snoozed_conversation_leaves_no_wake_behind() -> None:
    snoozed = as_snoozed(conv(msg(1, "15:00", CLIENT)), at("15:30"), AGENCY)
    done = as_done(snoozed, Note("done", "carol", at("15:10"), reason="spam or phishing"))
    assert (done.status, done.wake_at, done.snoozed_until) == (Status.DONE, None, None)


def test_a_reopened_conversation_waits_on_its_clock_or_is_answered_if_it_had_none() -> None:
    done = Note("done", "carol", at("15:30"), reason="thanks / no question")
    answered = conv(msg(1, "15:00", CLIENT), msg(2, "15:20", STAFF))
    assert as_reopened(as_done(answered, done)) == answered
    no_deadline = conv(msg(1, "15:00", STRANGER, in_watched=True), cfg=NO_REGION)
    assert no_deadline.clock_start is None  # waiting all the same
    assert as_reopened(as_done(no_deadline, done)) == no_deadline


def test_a_reminder_is_due_on_the_next_reply_target_from_its_wake() -> None:
    answered = conv(msg(1, "15:00", CLIENT), msg(2, "15:20", STAFF), cfg=CONTRACT)
    shown = as_snoozed(answered, at("18:00"), CONTRACT)
    assert (shown.clock_start, shown.deadline) == (at("18:00"), at("20:00"))  # 2h, not 30m
    notes = (Note("snooze", "carol", at("15:30"), until=at("09:00", day=25)),
             Note("wake", "carol", at("16:00")))  # fmt: skip
    woken = conv(msg(1, "15:00", CLIENT), msg(2, "15:20", STAFF), notes=notes, cfg=CONTRACT)
    assert (woken.status, woken.deadline) == (Status.FOLLOW_UP, at("18:00"))


def test_a_reminder_comes_back_when_asked_even_if_its_target_is_shorter_than_at_risk() -> None:
    quick = replace(AGENCY, clients={**AGENCY.clients, "acme.example": replace(
        ACME, targets=Targets(timedelta(minutes=10)))})  # fmt: skip
    answered = conv(msg(1, "15:00", CLIENT), msg(2, "15:20", STAFF), cfg=quick)
    shown = as_snoozed(answered, at("18:00"), quick)
    assert (shown.wake_at, shown.deadline) == (at("18:00"), at("18:10"))


def test_waking_a_reminder_by_hand_shows_what_the_provider_will_say() -> None:
    mail = (msg(1, "15:00", CLIENT), msg(2, "15:20", STAFF))
    snooze = Note("snooze", "carol", at("15:30"), until=at("09:00", day=25))
    shown = as_snoozed(conv(*mail, cfg=CONTRACT), at("09:00", day=25), CONTRACT)
    woken = as_woken(shown, at("16:00"), CONTRACT)
    synced = conv(*mail, notes=(snooze, Note("wake", "carol", at("16:00"))), cfg=CONTRACT)
    assert woken == without_notes(synced)
    assert (woken.status, woken.deadline, woken.wake_at) == (Status.FOLLOW_UP, at("18:00"), None)


def test_a_staff_message_in_the_second_of_the_wake_does_not_answer_the_reminder() -> None:
    notes = (Note("snooze", "carol", at("15:30"), until=at("09:00", day=25)),
             Note("wake", "carol", at("16:00")))  # fmt: skip
    c = conv(msg(1, "15:00", CLIENT), msg(2, "15:20", STAFF), msg(3, "16:00", STAFF), notes=notes)
    assert c.status is Status.FOLLOW_UP


def test_a_snooze_taken_back_leaves_the_conversation_exactly_as_it_was() -> None:
    waiting = conv(msg(1, "15:00", CLIENT))
    assert as_unsnoozed(as_snoozed(waiting, at("15:30"), AGENCY)) == waiting
    answered = conv(msg(1, "15:00", CLIENT), msg(2, "15:20", STAFF))
    assert as_unsnoozed(as_snoozed(answered, at("18:00"), AGENCY)) == answered  # no reminder


def test_a_reminder_in_a_region_the_config_no_longer_has_keeps_no_old_deadline() -> None:
    # Shown from the cache, made before the region was taken out of the config.
    old = conversation(1, region="gone", status=Status.FOLLOW_UP, follow_up=True,
                       target="next reply, region Gone: 1h", target_source="region")  # fmt: skip
    for shown in (as_snoozed(old, T0 + 2 * HOUR, AGENCY), as_woken(old, T0 + 2 * HOUR, AGENCY)):
        assert (shown.waiting, shown.waiting_since) == (True, T0 + 2 * HOUR)
        assert (shown.clock_start, shown.deadline, shown.target, shown.target_source) == (
            None, None, "", "")  # fmt: skip
