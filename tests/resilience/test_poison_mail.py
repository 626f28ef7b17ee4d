"""One bad email never stops sync for the team.

Very large header fields, a string the JSON decoder rejects, a message too big to
fetch even alone, a server that repeats the same page forever: each of these used
to stop every sync round for every console. Now the requests shrink, the bad email
is shown as unreadable (with a deadline), and a looping server is reported.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest

from tests.resilience.conftest import Rig
from tests.resilience.test_malformed_answers import SUMMARY, aim, emails, ready
from triage.providers.base import ProviderError
from triage.providers.jmap import http

TEAM = "team@agency.example"


def deliver(rig: Rig, n: int, subject_bytes: int) -> list[str]:
    """`n` new client threads whose subjects are `subject_bytes` long."""
    rig.clock.advance(timedelta(minutes=1))
    ids = []
    for i in range(n):
        subject = f"Order {i} " + "x" * subject_bytes
        ids.append(
            rig.demo.server.deliver(
                "Big Client",
                f"buyer{i}@bigclient.example",
                [TEAM],
                subject,
                "Please see the subject.",
                rig.clock.now(),
            )
        )
    return [rig.demo.server.emails[i].thread_id for i in ids]


async def test_answers_too_large_for_one_request_are_fetched_in_smaller_ones(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    service, _before = await ready(rig, full=False)
    threads = deliver(rig, 12, 40_000)  # together far over the limit, each one well under
    monkeypatch.setattr(http, "MAX_RESPONSE_BYTES", 200_000)
    await service.sync()
    for tid in threads:
        conv = service.conversation(tid)
        assert conv is not None and conv.subject.startswith("Order") and not conv.problem


async def test_an_email_too_large_even_alone_is_shown_as_unreadable_with_a_deadline(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    service, before = await ready(rig, full=False)
    [huge] = deliver(rig, 1, 300_000)
    monkeypatch.setattr(http, "MAX_RESPONSE_BYTES", 200_000)
    await service.sync()
    conv = service.conversation(huge)
    assert conv is not None and conv.waiting and conv.deadline is not None
    assert conv.subject == "(unreadable message from an unknown sender)"
    assert "could not be fetched" in conv.problem
    assert set(before) <= {c.thread_id for c in service.queue_view()}  # the rest as before


async def test_a_string_the_json_decoder_rejects_is_read_as_replacement_text(rig: Rig) -> None:
    service, _before = await ready(rig, full=False)
    broken = emails(subject="LONE-SURROGATE")

    def make(call: list[Any], r: Rig) -> bytes:  # a lone surrogate: strict JSON decoders refuse
        return broken(call, r).replace(b'"LONE-SURROGATE"', b'"Help \\ud800 now"')

    aim(rig, SUMMARY, make)
    await service.sync()
    conv = service.conversation(rig.demo.threads["ok-central"])
    assert conv is not None and conv.subject == "Help \ufffd now"
    await service.sync()  # and the cache, which must store valid text, took it


async def test_a_server_that_repeats_the_same_page_is_reported_not_followed(rig: Rig) -> None:
    service, before = await ready(rig, full=True)
    page = [f"M{i}" for i in range(1000)]

    def same_page(call: list[Any], r: Rig) -> bytes:
        args = {"ids": page, "position": call[1].get("position", 0), "total": 10**9}
        return orjson.dumps({"methodResponses": [["Email/query", args, call[2]]]})

    for _ in range(5):
        aim(rig, '"Email/query"', same_page)
    assert rig.transport is not None
    mark = len(rig.transport.seen)
    with pytest.raises(ProviderError, match="same page again"):
        await service.sync()
    assert sum(b'"Email/query"' in s.body for s in rig.transport.seen[mark:]) == 2
    assert [c.thread_id for c in service.queue_view()] == before


async def test_a_reply_never_goes_to_an_earlier_client_when_the_latest_has_no_sender(
    rig: Rig,
) -> None:
    """The newest client message lost its From: nobody to answer, wherever the message
    that does name a client sits (here a full page of staff mail further back)."""
    from triage.engine.outbox import TARGET_PAGE, ActionError

    server, now = rig.demo.server, rig.clock.now()
    start = now - timedelta(hours=3)
    first = server.deliver("Dana", "dana@acme.example", [TEAM], "Proofs", "page 1?", start,
                           message_id="p.0@acme.example")  # fmt: skip
    parent = "p.0@acme.example"
    for i in range(1, TARGET_PAGE + 1):
        mid = f"p.{i}@agency.example"
        server.deliver("Alice", "alice@agency.example", ["dana@acme.example"], "Re: Proofs",
                       f"note {i}", start + timedelta(minutes=i), message_id=mid,
                       in_reply_to=parent, mailbox="sent")  # fmt: skip
        parent = mid
    server.deliver("", "", [TEAM], "Re: Proofs", "who am I?", now - timedelta(minutes=5),
                   message_id="p.x@unknown.example", in_reply_to=parent)  # fmt: skip
    tid = server.emails[first].thread_id
    service = rig.open()
    await service.sync()
    draft = service.save_draft(tid, "Hello")
    with pytest.raises(ActionError, match="no client message to answer"):
        await service.send_reply(draft.id)
    assert not [e for e in server.emails.values() if "Hello" in e.text]  # nothing sent
