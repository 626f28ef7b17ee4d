"""The outbox's states: which change is allowed, what each state promises, how attempts
and errors are counted, and when a refused shared-state action gives up."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.builders import T0, action, draft
from triage.domain.outbox import MAX_ATTEMPTS, OutboxStatus, TransitionError

S = OutboxStatus
LATER = T0 + timedelta(minutes=5)

# Written out here, independently of the module's table.
REPLY_MOVES = {
    (S.DRAFT, S.DRAFT), (S.DRAFT, S.SENDING), (S.DRAFT, S.QUEUED),
    (S.FAILED, S.DRAFT), (S.FAILED, S.SENDING), (S.FAILED, S.QUEUED),
    (S.QUEUED, S.SENDING), (S.QUEUED, S.QUEUED), (S.QUEUED, S.FAILED), (S.QUEUED, S.DRAFT),
    (S.SENDING, S.SENT), (S.SENDING, S.QUEUED), (S.SENDING, S.UNCLEAR), (S.SENDING, S.FAILED),
    (S.UNCLEAR, S.SENDING), (S.UNCLEAR, S.SENT), (S.UNCLEAR, S.UNCLEAR),
}  # fmt: skip
ACTION_MOVES = {(S.QUEUED, S.QUEUED), (S.QUEUED, S.FAILED), (S.FAILED, S.QUEUED)}
PAIRS = [(a, b) for a in S for b in S]


@pytest.mark.parametrize(("start", "to"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_a_reply_moves_only_along_the_allowed_transitions(start: S, to: S) -> None:
    d = draft("o1", status=start)
    if (start, to) in REPLY_MOVES:
        assert d.moved(to).status is to
    else:
        with pytest.raises(TransitionError, match=f"a {start} reply cannot become {to}"):
            d.moved(to)


ACTION_STEPS = {
    "waiting": lambda a: a.waiting("offline", LATER),
    "refused": lambda a: a.refused("409", LATER),
    "refused finally": lambda a: a.refused("403", LATER, final=True),
    "retried": lambda a: a.retried(LATER),
}
ACTION_ALLOWED = {
    (S.QUEUED, "waiting"), (S.QUEUED, "refused"), (S.QUEUED, "refused finally"),
    (S.FAILED, "retried"),
}  # fmt: skip
ACTION_CASES = [(a, step) for a in S for step in ACTION_STEPS]


@pytest.mark.parametrize(
    ("start", "step"), ACTION_CASES, ids=[f"{a}-{step}" for a, step in ACTION_CASES]
)
def test_an_action_moves_only_between_queued_and_failed(start: S, step: str) -> None:
    a = action("a1", status=start)
    if (start, step) in ACTION_ALLOWED:
        assert ACTION_STEPS[step](a).status in (S.QUEUED, S.FAILED)
    else:
        said = step.split()[0]  # "refused finally" is still a refusal
        with pytest.raises(TransitionError, match=f"^a {start} action cannot become {said}$"):
            ACTION_STEPS[step](a)


def test_an_offline_wait_counts_no_refusal_and_a_retry_resets_them() -> None:
    a = action("a1", attempts=2)
    waited = a.waiting("offline", LATER)
    assert (waited.status, waited.attempts, waited.error, waited.updated_at) == (
        S.QUEUED, 2, "offline", LATER
    )  # fmt: skip
    gave_up = a.refused("403 forbidden", LATER, final=True)
    assert (gave_up.status, gave_up.attempts) == (S.FAILED, 3)
    again = gave_up.retried(LATER + timedelta(minutes=1))
    assert (again.status, again.attempts, again.error, again.updated_at) == (
        S.QUEUED, 0, "", LATER + timedelta(minutes=1)
    )  # fmt: skip


def test_what_each_state_promises() -> None:
    assert {s for s in S if s.editable} == {S.DRAFT, S.FAILED}
    assert {s for s in S if s.on_its_way} == {S.QUEUED, S.SENDING, S.UNCLEAR}
    assert {s for s in S if s.awaiting_provider} == {S.QUEUED, S.SENDING, S.UNCLEAR, S.SENT}
    assert {s for s in S if s.discardable} == {S.DRAFT, S.FAILED, S.QUEUED}


@pytest.mark.parametrize(
    ("start", "to", "counted"),
    [(S.SENDING, S.QUEUED, 1), (S.SENDING, S.UNCLEAR, 1), (S.SENDING, S.FAILED, 1),
     (S.SENDING, S.SENT, 0), (S.DRAFT, S.SENDING, 0), (S.DRAFT, S.DRAFT, 0)],
)  # fmt: skip
def test_an_attempt_is_counted_when_a_send_did_not_go_through(
    start: S, to: S, counted: int
) -> None:
    assert draft("o1", status=start, attempts=2).moved(to).attempts == 2 + counted


def test_a_move_records_its_error_and_time_and_clears_an_old_error() -> None:
    failed = draft("o1", status=S.SENDING).moved(S.FAILED, error="550 refused", at=LATER)
    assert (failed.error, failed.updated_at, failed.body) == ("550 refused", LATER, "Hello")
    again = failed.moved(S.SENDING)
    assert (again.error, again.updated_at) == ("", LATER)  # no time given: the last one kept


def test_the_message_id_is_chosen_once_at_the_first_send() -> None:
    first = draft("o1").sending("<a@x>", LATER)
    assert (first.status, first.message_id, first.updated_at) == (S.SENDING, "<a@x>", LATER)
    retry = first.moved(S.UNCLEAR).sending("<b@x>", LATER)
    assert retry.message_id == "<a@x>"


def test_editing_a_failed_reply_makes_a_draft_that_keeps_its_message_id() -> None:
    failed = draft("o1", status=S.FAILED, message_id="<a@x>", error="550", attempts=1)
    edited = failed.edited("New text", LATER)
    assert (edited.status, edited.body, edited.message_id, edited.error, edited.updated_at) == (
        S.DRAFT, "New text", "<a@x>", "", LATER
    )  # fmt: skip
    assert edited.sending("<b@x>", LATER).message_id == "<a@x>"  # looked up before resending
    assert edited.attempts == 1


@pytest.mark.parametrize("status", [S.QUEUED, S.SENDING, S.UNCLEAR, S.SENT])
def test_a_reply_on_its_way_can_no_longer_be_edited(status: S) -> None:
    with pytest.raises(TransitionError, match=f"a {status} reply can no longer be edited"):
        draft("o1", status=status).edited("x", LATER)


def test_an_action_is_retried_until_the_last_allowed_refusal_then_fails() -> None:
    a = action("a1")
    for n in range(1, MAX_ATTEMPTS):
        a = a.refused(f"refusal {n}", LATER)
        assert (a.status, a.attempts, a.error, a.updated_at) == (
            S.QUEUED, n, f"refusal {n}", LATER
        )  # fmt: skip
    a = a.refused("the last", LATER)
    assert (a.status, a.attempts, a.error) == (S.FAILED, MAX_ATTEMPTS, "the last")
    requeued = a.retried(LATER)
    assert (requeued.status, requeued.attempts, requeued.error) == (S.QUEUED, 0, "")


def test_a_reply_sent_with_an_undo_delay_is_held_until_the_delay_ends() -> None:
    held = draft("o1", status=S.QUEUED, not_before=LATER)
    assert held.held(T0) and held.held(LATER - timedelta(microseconds=1))
    assert not held.held(LATER)  # the time has come: it goes
    assert not draft("o1", status=S.QUEUED).held(T0)  # queued with no delay: it goes
    for status in (S.DRAFT, S.SENDING, S.UNCLEAR, S.SENT, S.FAILED):  # no longer on hold
        assert not draft("o1", status=status, not_before=LATER).held(T0)
