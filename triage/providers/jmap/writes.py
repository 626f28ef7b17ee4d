"""JMAP writes: marks as keywords, notes as emails, replies, and the sent-reply lookup.

A reply is created and submitted in one request (`Email/set` + `EmailSubmission/set`
with `onSuccessUpdateEmail` moving it from Drafts to Sent). Its Message-ID is ours,
chosen before the request, so a retry can first look it up (`find_sent`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from triage.domain import history
from triage.domain.model import Mark, Note, ThreadRef
from triage.domain.outbox import message_id_time
from triage.providers.base import (
    OutgoingReply,
    ProviderError,
    SentLookup,
    SentState,
    UnclearOutcome,
)
from triage.providers.jmap.account import JmapAccount
from triage.providers.jmap.marks import KW_ACCOUNT_NOTE, KW_NOTE, keyword, marks_of
from triage.providers.jmap.parse import (
    Unanswered,
    as_list,
    check_set,
    chunks,
    reply_email,
    result,
)
from triage.text.isotime import iso

# Around the time our Message-ID was made: wider than any clock skew between us and
# the server, narrow enough that a busy mailbox is read in a few requests.
LOOKUP_WINDOW = timedelta(hours=12)


async def set_marks(account: JmapAccount, thread: ThreadRef, marks: Mapping[Mark, bool]) -> None:
    """Set (True) or clear (False) each mark on every message of the thread."""
    await account.ready()
    patch = {f"keywords/{keyword(m)}": (True if on else None) for m, on in marks.items()}
    ids = list(thread.message_ids)
    for chunk in chunks(ids, account.limits.max_set):
        r = await account.call("Email/set", {"update": {i: patch for i in chunk}})
        check_set(r, "notUpdated", "could not update the conversation's flags")


async def add_note(account: JmapAccount, thread: ThreadRef, note: Note) -> None:
    """File a note email (reasons, history) that joins the thread but is never a reply."""
    await account.ready()
    mailbox = await _notes_mailbox(account)
    keywords = {KW_NOTE: True, "$seen": True}
    if note.account:
        keywords[KW_ACCOUNT_NOTE] = True
    email: dict[str, Any] = {
        "mailboxIds": {mailbox: True},
        "keywords": keywords,
        "from": [{"name": "triage", "email": account.identity()["email"]}],
        "subject": "triage note",
        "bodyValues": {"1": {"value": history.encode(note)}},
        "textBody": [{"partId": "1", "type": "text/plain"}],
    }
    if thread.references:
        # References make the note join the client's thread (Cyrus also wants "Re:").
        email["subject"] = "Re: " + thread.subject
        email["references"] = [r.strip("<>") for r in thread.references]
        email["inReplyTo"] = email["references"][-1:]
    r = await account.call("Email/set", {"create": {"note": email}})
    check_set(r, "notCreated", "could not file the triage note")


async def _notes_mailbox(account: JmapAccount) -> str:
    if account.notes:
        return account.notes
    r = await account.call("Mailbox/set", {"create": {"nb": {"name": account.notes_name}}})
    created = (r.get("created") or {}).get("nb")
    if not isinstance(created, dict) or "id" not in created:
        await account.connect()  # a colleague's console may have made it since we looked
        if account.notes:
            return account.notes
        raise ProviderError(f"could not create the mailbox {account.notes_name!r}: {r}")
    account.notes = str(created["id"])
    return account.notes


def _move_to_sent(account: JmapAccount, drafts: str) -> dict[str, Any]:
    on_success: dict[str, Any] = {"keywords/$draft": None}
    if account.sent and account.sent != drafts:
        on_success[f"mailboxIds/{drafts}"] = None
        on_success[f"mailboxIds/{account.sent}"] = True
    return on_success


async def send(account: JmapAccount, reply: OutgoingReply) -> None:
    """Create the reply and submit it in one request; the draft moves to Sent."""
    await account.ready()
    ident = account.identity(reply.from_email)
    if not ident.get("id"):
        raise ProviderError("the server offers no sending identity for this account")
    drafts = account.drafts or account.sent or account.watched
    calls = [
        ["Email/set", {"accountId": account.id,
                       "create": {"r": reply_email(reply, str(ident["email"]), drafts)}}, "e"],
        ["EmailSubmission/set", {
            "accountId": account.id,
            "create": {"s": {"identityId": ident["id"], "emailId": "#r"}},
            "onSuccessUpdateEmail": {"#s": _move_to_sent(account, drafts)},
        }, "s"],
    ]  # fmt: skip
    responses = await account.http.call(calls, idempotent=False)
    [created] = _answers(responses, ("e", "Email/set"))
    check_set(created, "notCreated", "could not create the reply")  # nothing exists: definite
    [submitted] = _answers(responses, ("s", "EmailSubmission/set"))
    check_set(submitted, "notCreated", "the server refused to send the reply")


def _answers(responses: list[list[Any]], *wanted: tuple[str, str]) -> list[dict[str, Any]]:
    """The answers to a write's calls. A call left unanswered (or partly failed) is not a
    refusal: the write may have happened, so the outcome is unclear."""
    try:
        return [result(responses, call_id, method) for call_id, method in wanted]
    except Unanswered as e:
        raise UnclearOutcome(f"{e}; it may or may not have been sent") from None


async def find_sent(account: JmapAccount, message_id: str) -> SentLookup | None:
    """Look our Message-ID up in Sent and Drafts, exactly, however busy the mailbox.

    Every message of both mailboxes received within LOOKUP_WINDOW of when the
    Message-ID was made is read (page after page, to the end), instead of a header
    search: servers index new mail for search with a delay, which is exactly when a
    retry asks. A Message-ID that does not say when it was made (an older one) has
    the whole of both mailboxes read. Any failure on the way raises: an incomplete
    lookup must never read as "not sent"."""
    await account.ready()
    wanted = message_id.strip("<>")
    made = message_id_time(wanted)
    for mailbox, state in ((account.sent, SentState.SENT), (account.drafts, SentState.DRAFTED)):
        if not mailbox:
            continue
        flt: dict[str, Any] = {"inMailbox": mailbox}
        if made is not None:
            flt |= {"after": iso(made - LOOKUP_WINDOW), "before": iso(made + LOOKUP_WINDOW)}
        ids = await account.query_all(flt, collapse=False)
        for chunk in chunks(ids, account.limits.max_get):
            for e in await account.get_emails(chunk, ["id", "messageId"]):
                if wanted in [str(m).strip("<>") for m in as_list(e.get("messageId"))]:
                    return SentLookup(state, str(e["id"]))
    return None


async def submit_existing(account: JmapAccount, email_id: str, from_email: str) -> None:
    """Send a reply whose draft exists already (created before a lost connection)."""
    await account.ready()
    ident = account.identity(from_email)
    on_success: dict[str, Any] = {"keywords/$draft": None}
    if account.sent and account.drafts:
        on_success[f"mailboxIds/{account.drafts}"] = None
        on_success[f"mailboxIds/{account.sent}"] = True
    args = {
        "create": {"s": {"identityId": ident.get("id", ""), "emailId": email_id}},
        "onSuccessUpdateEmail": {"#s": on_success},
    }
    responses = await account.http.call(
        [["EmailSubmission/set", {"accountId": account.id, **args}, "c"]], idempotent=False
    )
    [r] = _answers(responses, ("c", "EmailSubmission/set"))
    check_set(r, "notCreated", "could not send")


CLAIM_ROUNDS = 8  # reads and conditional writes while other writers keep changing state


async def claim(
    account: JmapAccount, thread: ThreadRef, mark: Mark, blocked: Callable[[frozenset[Mark]], bool]
) -> frozenset[Mark] | None:
    """Compare-and-set `mark` on the thread's first message: read its keywords and the
    Email state, and write with `ifInState`, so of any number of racing writers exactly
    one succeeds from a state; the others (stateMismatch) read again and see its mark.
    The marks found before, when this call set it; None when `blocked` said no."""
    await account.ready()
    first = thread.message_ids[0]
    for _ in range(CLAIM_ROUNDS):
        got = await account.call("Email/get", {"ids": [first], "properties": ["keywords"]})
        found = as_list(got.get("list"))
        if not found:
            raise ProviderError("the conversation's first message is gone")
        marks = marks_of(found[0].get("keywords") or {})
        if blocked(marks):
            return None
        args = {"accountId": account.id, "ifInState": got.get("state"),
                "update": {first: {f"keywords/{keyword(mark)}": True}}}  # fmt: skip
        responses = await account.http.call([["Email/set", args, "c"]], idempotent=False)
        if any(name == "error" and a.get("type") == "stateMismatch" for name, a, _ in responses):
            continue
        check_set(result(responses, "c", "Email/set"), "notUpdated", "could not claim")
        return marks
    raise ProviderError("the mailbox kept changing while claiming a nudge: try again")
