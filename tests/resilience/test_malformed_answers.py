"""Malformed JMAP answers: a clear ProviderError, never a crash, never a wiped cache.

Each case syncs once for real (the cache holds the queue), lets a client write
again (so the next round has work to do), then answers one JMAP request with a
broken body. The round must fail with a ProviderError that says what is wrong,
leave the queue in memory and on disk as it was, and the next clean round must
catch up. A KeyError, TypeError or AttributeError escaping is a bug.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import orjson
import pytest

from tests.resilience.conftest import Rig
from tests.support import faults
from triage.providers.base import ProviderError
from triage.providers.jmap import http
from triage.service.core import TriageService

CHANGES = '"Email/changes"'
QUERY = '"Email/query"'
HEADS = '"properties":["id","threadId"]'
THREADS = '"Thread/get"'
SUMMARY = '"preview"'  # only the summary Email/get asks for previews
STATE = '"ids":[],"properties":["id"]'  # a full sync starts by asking for the state


Make = Callable[[list[Any], Rig], bytes]  # (the request's first method call, rig) -> body


def answer(*responses: object) -> bytes:
    return orjson.dumps({"methodResponses": list(responses), "sessionState": "s"})


def fixed(body: bytes) -> Make:
    return lambda call, rig: body


def reply(method: str, args: object) -> Make:
    """An answer to the call that was made, with its own call id."""
    return lambda call, rig: answer([method, args, call[2]])


def listing(items: object) -> Make:
    return lambda call, rig: answer([call[0], {"state": "9", "list": items, "notFound": []},
                                     call[2]])  # fmt: skip


def emails(**bad: object) -> Make:
    """Well-formed summaries of exactly the emails asked for, but for the `bad` fields."""

    def make(call: list[Any], rig: Rig) -> bytes:
        items = []
        for i in call[1]["ids"]:
            e = rig.demo.server.emails[i]
            good = {"id": i, "threadId": e.thread_id, "mailboxIds": e.mailbox_ids,
                    "keywords": e.keywords, "from": e.from_, "to": e.to, "cc": e.cc,
                    "subject": e.subject, "receivedAt": "2026-03-10T14:00:00Z",
                    "messageId": e.message_id, "preview": ""}  # fmt: skip
            items.append({**good, **bad})
        return listing(items)(call, rig)

    return make


def threads(email_ids: object) -> Make:
    return lambda call, rig: listing([{"id": t, "emailIds": email_ids} for t in call[1]["ids"]])(
        call, rig
    )


# (id, which request, the broken answer, what the error must say)
ANY = [
    ("no-methodResponses", fixed(b'{"sessionState": "s"}'), "no methodResponses"),
    ("methodResponses-object", fixed(b'{"methodResponses": {"c": 1}}'), "no methodResponses"),
    ("top-level-list", fixed(b"[1, 2, 3]"), "no methodResponses"),
    ("arguments-a-list", lambda call, rig: answer([call[0], [], call[2]]), "malformed"),
    ("short-triple", lambda call, rig: answer([call[0], {}]), "malformed"),
    ("unanswered-call", lambda call, rig: answer([call[0], {}, "zz"]), "did not answer"),
    ("unknown-error", reply("error", {"type": "fancyNewError"}), r"error \(fancyNewError\)"),
    ("error-not-an-object", reply("error", "boom"), "malformed"),
    ("error-type-a-number", reply("error", {"type": 7, "description": ["x"]}), r"error \(7\)"),
    ("not-json", fixed(b"<html><body>502 Bad Gateway</body></html>"), "not valid JSON"),
    ("truncated-json", fixed(b'{"methodResponses": [['), "not valid JSON"),
    ("not-utf8", fixed(b'\xff\xfe{"methodResponses": []}'), "not valid JSON"),
]
CHANGED = {"oldState": "1", "newState": "2", "hasMoreChanges": False, "updated": [],
           "destroyed": []}  # fmt: skip


def changes(**fields: object) -> Make:
    """An Email/changes answer that moves on from the state asked for, but for `fields`."""

    def make(call: list[Any], rig: Rig) -> bytes:
        since = call[1]["sinceState"]
        args = {**CHANGED, "oldState": since, "newState": since + "1", **fields}
        return answer(["Email/changes", args, call[2]])

    return make


INCREMENTAL = [
    ("changes-ids-not-strings", CHANGES, changes(created=[1, {"id": "M1"}]), "not a list of ids"),
    ("changes-created-an-object", CHANGES, changes(created={"M1": True}), "not a list of ids"),
    ("changes-created-missing", CHANGES, changes(created=None), "not a list of ids"),
]
BOTH = [
    ("heads-not-objects", HEADS, listing(["M1"]), "malformed list"),
    ("heads-without-threadId", HEADS, listing([{"id": "M1"}]), "threadId"),
    ("heads-list-an-object", HEADS, listing({"M1": {}}), "malformed list"),
    ("thread-without-id", THREADS, listing([{"emailIds": ["M1"]}]), "malformed list"),
    ("thread-list-an-object", THREADS, listing({"T1": ["M1"]}), "malformed list"),
    ("thread-emailIds-an-object", THREADS, threads({"M1": True}), "not a list of ids"),
    ("thread-emailIds-numbers", THREADS, threads([1, 2]), "not a list of ids"),
    ("email-ids-not-strings", SUMMARY, emails(id=5), "malformed list"),
    ("summary-list-an-object", SUMMARY, listing({"M1": {}}), "malformed list"),
]
FULL = [
    ("query-ids-missing", QUERY, reply("Email/query", {"ids": None, "position": 0}),
     "not a list of ids"),
    ("query-ids-not-strings", QUERY, reply("Email/query", {"ids": [1, 2], "position": 0}),
     "not a list of ids"),
    ("query-unknown-error", QUERY, reply("error", {"type": "unsupportedFilter"}),
     "unsupportedFilter"),
]  # fmt: skip


def cases(first: str, rows: list[Any]) -> Any:
    """pytest params of (needle, make, message); ANY rows hit the round's first request."""
    out = [pytest.param(first, *r[1:], id=r[0]) for r in ANY]
    return out + [pytest.param(*r[1:], id=r[0]) for r in rows]


async def ready(rig: Rig, *, full: bool) -> tuple[TriageService, list[str]]:
    """A synced service, a client follow-up waiting on the server, the queue before it."""
    service = rig.open(retries=0)
    await service.sync()
    before = [c.thread_id for c in list(service.queue_view())]
    rig.clock.advance(timedelta(minutes=1))
    rig.demo.server.deliver(
        "Kyle Jensen", "kyle@prairiewind-outfitters.com", ["team@agency.example"],
        "Re: Booth size for the trade show", "And the booth colour?", rig.clock.now(),
        in_reply_to="ok-central.0.0@prairiewind-outfitters.com",
    )  # fmt: skip
    if full:
        rig.demo.server.forget_changes()  # the server lost our state: a full sync follows
    return service, before


def aim(rig: Rig, needle: str, make: Make) -> None:
    def fault(body: bytes) -> faults.Fault:
        return faults.garbage(make(orjson.loads(body)["methodCalls"][0], rig))

    assert rig.transport is not None
    rig.transport.aim(needle, fault)


async def assert_fails_cleanly(
    rig: Rig, service: TriageService, before: list[str], message: str
) -> None:
    with pytest.raises(ProviderError, match=message) as err:
        await service.sync()
    assert service.status().error == str(err.value)
    assert [c.thread_id for c in list(service.queue_view())] == before  # memory untouched
    assert [c.thread_id for c in rig.open().queue_view()] == before  # disk untouched
    result = await service.sync()  # the server behaves again: catch up
    assert rig.demo.threads["ok-central"] in result.updated + result.added
    assert service.status().error == ""


@pytest.mark.parametrize(("needle", "make", "message"), cases(CHANGES, INCREMENTAL + BOTH))
async def test_a_malformed_answer_in_an_incremental_sync(
    rig: Rig, needle: str, make: Make, message: str
) -> None:
    service, before = await ready(rig, full=False)
    aim(rig, needle, make)
    await assert_fails_cleanly(rig, service, before, message)


@pytest.mark.parametrize(("needle", "make", "message"), cases(STATE, FULL + BOTH))
async def test_a_malformed_answer_in_a_full_sync(
    rig: Rig, needle: str, make: Make, message: str
) -> None:
    service, before = await ready(rig, full=True)
    aim(rig, needle, make)
    await assert_fails_cleanly(rig, service, before, message)


# One email with a field of the wrong type: that email is flagged, the sync goes on.
ISOLATED = [
    pytest.param(emails(receivedAt=1773151200), "arrival time is missing", id="receivedAt-number"),
    pytest.param(
        emails(receivedAt="yesterday"), "arrival time is unreadable", id="receivedAt-text"
    ),
    pytest.param(emails(receivedAt="99999-01-01T00:00:00Z"), "unreadable", id="receivedAt-year"),
    pytest.param(emails(receivedAt="2999-01-01T00:00:00Z"), "in the future", id="receivedAt-2999"),
    pytest.param(emails(receivedAt="0001-01-01T00:00:00Z"), "before 1970", id="receivedAt-0001"),
    pytest.param(emails(threadId=5), "thread id is unreadable", id="threadId-a-number"),
    pytest.param(emails(mailboxIds=["b1"]), "mailboxes are unreadable", id="mailboxIds-a-list"),
    pytest.param(emails(keywords="$seen"), "flags are unreadable", id="keywords-a-string"),
    pytest.param(emails(subject=["x"]), "subject is unreadable", id="subject-a-list"),
]


@pytest.mark.parametrize(("make", "problem"), ISOLATED)
@pytest.mark.parametrize("full", [False, True], ids=["incremental", "full"])
async def test_one_malformed_email_is_flagged_and_the_sync_goes_on(
    rig: Rig, make: Make, problem: str, full: bool
) -> None:
    service, before = await ready(rig, full=full)
    aim(rig, SUMMARY, make)
    await service.sync()  # no error: the round completes
    thread = rig.demo.threads["ok-central"]
    conv = service.conversation(thread)
    assert conv is not None and conv.waiting and conv.deadline is not None  # nothing hidden
    assert problem in conv.problem and "kyle@prairiewind-outfitters.com" in conv.problem
    assert set(before) <= {c.thread_id for c in service.queue_view()}


async def test_a_server_that_never_stops_having_more_changes_is_cut_off(rig: Rig) -> None:
    service, before = await ready(rig, full=False)

    def endless(call: list[Any], rig: Rig) -> bytes:
        state = call[1]["sinceState"]  # "more changes", yet the state never moves
        return changes(newState=state, hasMoreChanges=True, created=[])(call, rig)

    for _ in range(50):
        aim(rig, CHANGES, endless)
    with pytest.raises(ProviderError, match="more changes"):
        await service.sync()
    assert rig.transport is not None
    assert sum(CHANGES.encode() in s.body for s in rig.transport.seen) < 5
    assert [c.thread_id for c in list(service.queue_view())] == before


async def test_a_huge_answer_is_refused_without_reading_it_all(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    service, before = await ready(rig, full=False)
    assert rig.transport is not None
    monkeypatch.setattr(http, "MAX_RESPONSE_BYTES", 4096)
    huge = answer(["Email/changes", {"created": ["M1"] * 5000}, "c"])
    rig.transport.aim(CHANGES, faults.garbage(huge))
    with pytest.raises(ProviderError, match="larger than"):
        await service.sync()
    assert [c.thread_id for c in list(service.queue_view())] == before
    monkeypatch.undo()
    await service.sync()


async def test_a_malformed_session_is_a_clear_error(rig: Rig) -> None:
    cases = [
        (b'{"apiUrl": 5}', "no apiUrl"),
        (b'{"apiUrl": "/api", "capabilities": ["urn:ietf:params:jmap:mail"]}', "JMAP mail"),
        (b'{"apiUrl": "/api", "capabilities": {"urn:ietf:params:jmap:mail": {},'
         b' "urn:ietf:params:jmap:core": []}, "accounts": {"a": {}},'
         b' "primaryAccounts": {"urn:ietf:params:jmap:mail": "a"}}', None),
        (b'{"apiUrl": "/api", "capabilities": {"urn:ietf:params:jmap:mail": {}},'
         b' "accounts": ["a"], "primaryAccounts": ["a"]}', "account"),
    ]  # fmt: skip
    for body, message in cases:
        service = rig.open(retries=0)
        assert rig.transport is not None
        rig.transport.aim("", faults.ok(), faults.garbage(body))  # the redirect, the session
        try:
            await service.sync()
        except ProviderError as e:
            assert message is None or message in str(e), (body, e)
        else:
            assert message is None, body


BODIES = '"fetchTextBodyValues"'


@pytest.mark.parametrize(
    "make",
    [
        emails(bodyValues=["hello"], textBody=[{"partId": "1", "type": "text/plain"}]),
        emails(bodyValues={"1": {"value": "hi"}}, textBody=[{"partId": ["1"]}]),
        emails(bodyValues={"1": "hi"}, textBody={"partId": "1"}, htmlBody="<p>"),
        listing({"M1": {}}),
    ],
    ids=["bodyValues-a-list", "partId-a-list", "parts-not-lists", "list-an-object"],
)
async def test_a_malformed_body_answer_still_opens_the_thread(rig: Rig, make: Make) -> None:
    service = rig.open(retries=0)
    await service.sync()
    thread = rig.demo.threads["breached-east"]
    aim(rig, BODIES, make)
    view = await service.thread(thread)  # no crash: empty text or the offline view
    assert view.messages and view.conversation.thread_id == thread


@pytest.mark.parametrize(
    "args",
    [{"notUpdated": ["M1"]}, {"notUpdated": {"M1": "nope"}}, {"notUpdated": {"M1": None}}],
    ids=["a-list", "a-string", "null"],
)
async def test_a_malformed_set_answer_to_an_action_keeps_it_queued_with_the_reason(
    rig: Rig, args: dict[str, Any]
) -> None:
    service = rig.open(retries=0)
    await service.sync()
    thread = rig.demo.threads["ok-central"]
    aim(rig, '"Email/set"', reply("Email/set", args))
    assert await service.escalate(thread, "client unhappy") is False  # queued, not done
    [queued] = service.cache.outbox()
    assert "could not update the conversation's flags" in queued.error
    assert service.status().outbox_count == 1  # kept, to be tried again
    await service.sync()
    assert service.status().outbox_count == 0
    server = rig.demo.server
    assert all(e.keywords.get("triage-escalated") for e in server.thread_emails(thread)
               if "triage-note" not in e.keywords)  # fmt: skip
