"""A provider thread -> the conversation the queue shows: waiting or not, clock start, deadline.

The rules of PRODUCT.md's "Conversation": a thread is a client conversation when
at least one of its messages is from a client (anyone outside the staff domains)
and one of its messages is in the watched mailbox. It is waiting when its latest
message is from the client; the clock starts at the oldest client message after
the last staff message (a staff reply stops the clock, a new client message
restarts it), at the region's next opening when it arrived while closed. The
deadline arithmetic is `triage.domain.calendar`'s; the owner is
`triage.domain.ownership`'s; escalation and acknowledgement come from the
thread's marks and notes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from triage.domain import calendar, history, ownership, routing, signals, workflow
from triage.domain.model import (
    ACKNOWLEDGED,
    ESCALATED,
    Conversation,
    Message,
    MessageInfo,
    Note,
    NoteAction,
    Status,
    ThreadData,
    ThreadRef,
)
from triage.domain.settings import Config
from triage.domain.targets import target_for

REFERENCES_KEPT = 5  # the root and the latest few, as RFC 5322 3.6.4 suggests
STAFF_IDS_KEPT = 3


def unanswered(mail: Sequence[MessageInfo], cfg: Config) -> list[MessageInfo]:
    """Client messages after the last staff message: they keep the clock running."""
    out: list[MessageInfo] = []
    for m in mail:
        out = [] if routing.is_staff(m.sender, cfg) else [*out, m]
    return out


def derive(
    thread: ThreadData, cfg: Config, account_owners: Mapping[str, str]
) -> Conversation | None:
    """The conversation of a thread, or None when it is not an open client conversation.

    `account_owners` maps client keys to the manager an account was reassigned to."""
    mail = sorted(thread.messages, key=lambda m: m.received_at)
    clients = [m for m in mail if not routing.is_staff(m.sender, cfg)]
    if not clients or not any(m.in_watched for m in mail):
        return None
    first, latest_client = clients[0], clients[-1]
    route = routing.route(first.sender, first.sender_name, cfg)
    region = cfg.regions.get(route.region)
    notes = history.merged(thread.notes)
    flow = workflow.read(mail, notes, cfg)
    waiting_for = unanswered(mail, cfg)
    if flow.restart_after is not None:  # a client wrote after "done": a fresh clock
        waiting_for = [m for m in waiting_for if m.received_at > flow.restart_after]
    escalation = history.last(notes, NoteAction.ESCALATE)
    mark = ownership.owner_mark(mail)
    subject = first.subject or mail[0].subject or _unreadable_subject(mail)
    conv = Conversation(
        thread_id=thread.thread_id,
        subject=subject,
        client_email=first.sender,
        client_name=route.client_name,
        client_key=route.client_key,
        region=route.region,
        region_guessed=route.region_guessed,
        owner=ownership.resolve_owner(mark, route, account_owners, cfg),
        tier=route.tier,
        waiting=False,
        first_arrival=first.received_at,
        last_message_at=mail[-1].received_at,
        message_count=len(mail),
        escalated=any(ESCALATED in m.marks for m in mail),
        escalation_reason=escalation.reason if escalation else "",
        escalated_by=escalation.by if escalation else "",
        escalated_at=escalation.at if escalation else None,
        ceo_contacted=any(routing.is_ceo(a, cfg) for m in clients for a in (*m.to, *m.cc)),
        acknowledged=ACKNOWLEDGED in mail[-1].marks,
        owner_mark=mark,
        notes=notes,
        ref=_ref(thread, subject, mail, latest_client, cfg),
        impersonation=_impersonation(clients, cfg),
        problem=_problem(mail),
        status=Status.ANSWERED,
        asked_new_manager=asked_new_manager(latest_client, notes, cfg),
    )
    conv = _replying(_replied(conv, workflow.last_reply(mail, cfg, region, route)), flow)
    conv = _clock_of(conv, mail, waiting_for, flow, cfg)
    if flow.done is not None:
        return as_done(conv, flow.done)
    if flow.snooze is not None and flow.snooze.until is not None:
        return as_snoozed(conv, flow.snooze.until, cfg)
    return replace(conv, status=Status.FOLLOW_UP) if conv.follow_up else conv


def asked_new_manager(m: MessageInfo, notes: Sequence[Note], cfg: Config) -> bool:
    """The newest client message asks for another manager, and nobody has reassigned
    the conversation since (then the request was heard)."""
    if not signals.asks_new_manager(m.preview, cfg.signals.new_manager_phrases):
        return False
    return not any(n.action == NoteAction.REASSIGN and n.at >= m.received_at for n in notes)


def _clock_of(
    conv: Conversation, mail: Sequence[MessageInfo], waiting_for: Sequence[MessageInfo],
    flow: workflow.Flow, cfg: Config,
) -> Conversation:  # fmt: skip
    """The clock of the oldest unanswered client message (a first reply when no staff
    message came before it), or of a reminder that came due; else none."""
    if waiting_for:
        # The oldest unanswered message comes after every staff message, one in the same
        # second included (as last_reply reads the thread): new when there is none.
        new_request = not any(routing.is_staff(m.sender, cfg) for m in mail)
        return _clocked(conv, waiting_for[0].received_at, cfg, first=new_request)
    if flow.woken is not None and not _staff_after(mail, flow.woken.at, cfg):
        return replace(_clocked(conv, flow.woken.at, cfg, first=False), follow_up=True)
    return conv


def _staff_after(mail: Sequence[MessageInfo], at: datetime, cfg: Config) -> bool:
    return any(m.received_at > at and routing.is_staff(m.sender, cfg) for m in mail)


# ---- the workflow actions' outcomes (shown at once, before the provider confirms) ----


def as_done(c: Conversation, note: Note) -> Conversation:
    """Out of the queue: no reply needed. Its clock is kept, so a reopen restores it."""
    return replace(c, status=Status.DONE, waiting=False, done_reason=note.reason,
                   done_by=note.by, done_at=note.at, wake_at=None, snoozed_until=None)  # fmt: skip


def as_reopened(c: Conversation) -> Conversation:
    """ "Done" taken back: waiting again on the clock it had (answered if it had none)."""
    waiting = c.clock_start is not None or c.waiting_since is not None
    status = Status.WAITING if waiting else Status.ANSWERED
    return replace(c, status=status, waiting=waiting, done_reason="", done_by="", done_at=None)


def as_snoozed(c: Conversation, until: datetime, cfg: Config) -> Conversation:
    """Out of the queue until the wake; on an answered conversation, a reminder whose
    clock starts at the wake time (a follow-up)."""
    if not c.waiting or c.follow_up:
        c = replace(_clocked(c, until, cfg, first=False), follow_up=True)
    at_risk = timedelta(minutes=cfg.agency.at_risk_minutes)
    wake = until if c.follow_up else workflow.wake_at(until, c.deadline, at_risk)
    return replace(c, status=Status.SNOOZED, snoozed_until=until, wake_at=wake,
                   done_reason="", done_by="", done_at=None)  # fmt: skip


def as_woken(c: Conversation, at: datetime, cfg: Config) -> Conversation:
    """A snooze ended by hand: waiting on its own clock, or a follow-up clocked from now."""
    c = replace(c, wake_at=None, snoozed_until=None)
    if c.follow_up:
        return replace(_clocked(c, at, cfg, first=False), status=Status.FOLLOW_UP)
    return replace(c, status=Status.WAITING if c.waiting else Status.ANSWERED)


def as_unsnoozed(c: Conversation) -> Conversation:
    """A snooze taken back (undo): as it was before it, a reminder never set."""
    c = replace(c, wake_at=None, snoozed_until=None)
    if c.follow_up:
        return replace(c, status=Status.ANSWERED, waiting=False, follow_up=False,
                       waiting_since=None, clock_start=None, deadline=None, target="",
                       target_source="")  # fmt: skip
    return replace(c, status=Status.WAITING if c.waiting else Status.ANSWERED)


def _clocked(c: Conversation, since: datetime, cfg: Config, *, first: bool) -> Conversation:
    """Waiting since `since`: the clock start, and the deadline of the target that
    applies (`first`: a new request); none in an unknown region."""
    region = cfg.regions.get(c.region)
    if region is None:
        return replace(c, waiting=True, status=Status.WAITING, waiting_since=since,
                       clock_start=None, deadline=None, target="", target_source="")  # fmt: skip
    target = target_for(first, c.client_key, c.tier, region, cfg)
    return replace(c, waiting=True, status=Status.WAITING, waiting_since=since,
                   clock_start=calendar.clock_start(since, region),
                   deadline=calendar.deadline(since, region, target.within),
                   target=target.label, target_source=target.source)  # fmt: skip


def _replied(c: Conversation, reply: workflow.Reply | None) -> Conversation:
    if reply is None:
        return c
    return replace(c, replied_at=reply.at, replied_by=reply.by,
                   reply_seconds=reply.business_seconds, reply_on_time=reply.on_time)  # fmt: skip


def _replying(c: Conversation, flow: workflow.Flow) -> Conversation:
    note = flow.replying
    if note is None or note.until is None:
        return c
    return replace(c, replying=note.by, replying_until=note.until)


def _unreadable_subject(mail: list[MessageInfo]) -> str:
    broken = next((m for m in mail if m.problem), None)
    if broken is None:
        return ""
    return f"(unreadable message from {broken.sender or 'an unknown sender'})"


def _problem(mail: list[MessageInfo]) -> str:
    """The newest unreadable part of the thread, said with whom it came from."""
    for m in reversed(mail):
        if m.problem:
            return f"a message from {m.sender or 'an unknown sender'}: {m.problem}"
    return ""


def _impersonation(clients: list[MessageInfo], cfg: Config) -> str:
    """The latest client message whose sender poses as staff or the CEO says why."""
    for m in reversed(clients):
        why = routing.impersonation(m.sender_name, m.sender, cfg)
        if why:
            return why
    return ""


def _ref(
    thread: ThreadData, subject: str, mail: list[MessageInfo], latest_client: MessageInfo,
    cfg: Config,
) -> ThreadRef:  # fmt: skip
    staff = [m.message_id for m in mail if m.message_id and routing.is_staff(m.sender, cfg)]
    return ThreadRef(
        thread_id=thread.thread_id,
        subject=subject,
        message_ids=tuple(m.id for m in mail),
        note_ids=thread.note_ids,
        reply_to=latest_client.sender,
        references=reply_references(latest_client.references, latest_client.message_id),
        staff_message_ids=tuple(staff[-STAFF_IDS_KEPT:]),
    )


def reply_references(references: Sequence[str], message_id: str) -> tuple[str, ...]:
    """References for a reply to a message: the thread's root and the latest few."""
    refs = [*references, message_id] if message_id else list(references)
    if len(refs) <= REFERENCES_KEPT:
        return tuple(refs)
    return (refs[0], *refs[-(REFERENCES_KEPT - 1) :])


@dataclass(frozen=True)
class ReplyTarget:
    """Whom a reply goes to and how it joins the thread, read from the thread itself."""

    to: str
    subject: str
    references: tuple[str, ...]


def reply_target(messages: Sequence[Message], cfg: Config, subject: str) -> ReplyTarget | None:
    """The reply to a thread answers its latest client message: that sender, in the thread.

    Computed from the provider's messages at the moment of sending, never from a
    cached field alone, so nothing written to the cache can pick the recipient.
    `subject` is the conversation's (it says what the reply is about, not to whom)."""
    mail = sorted(messages, key=lambda m: m.received_at)
    clients = [m for m in mail if not routing.is_staff(m.sender, cfg)]
    if not clients or not clients[-1].sender:
        return None
    latest = clients[-1]
    subject = reply_subject(subject or latest.subject)
    return ReplyTarget(latest.sender, subject, reply_references(latest.references,
                                                                latest.message_id))  # fmt: skip


def reply_subject(subject: str) -> str:
    """'Re: <subject>' without stacking 'Re: Re:'."""
    subject = subject.strip()
    return subject if subject[:3].casefold() == "re:" else f"Re: {subject}"


def reowned(c: Conversation, cfg: Config, account_owners: Mapping[str, str]) -> Conversation:
    """The conversation after the account owners changed (its own mark still wins)."""
    route = routing.route(c.client_email, "", cfg)
    owner = ownership.resolve_owner(c.owner_mark, route, account_owners, cfg)
    return c if owner == c.owner else replace(c, owner=owner)
