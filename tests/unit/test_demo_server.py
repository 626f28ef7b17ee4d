"""The in-memory JMAP server, spoken to by hand over httpx, and the seeded demo mailbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from triage.clock import FrozenClock
from triage.demo.mailbox import DemoMailbox
from triage.demo.server import JmapServer
from triage.demo.store import CORE, MAIL, SUBMISSION
from triage.domain import calendar, routing, urgency
from triage.domain.targets import target_for

# Tuesday 10 March 2026, 11:00 in New York (EDT since 8 March), 08:00 in Los Angeles.
TUESDAY_11_NY = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
SATURDAY_NOON_NY = datetime(2026, 3, 14, 16, 0, tzinfo=UTC)
WEDNESDAY_2AM_NY = datetime(2026, 3, 11, 6, 0, tzinfo=UTC)
ACCOUNT = "team@agency.example"
USING = [CORE, MAIL, SUBMISSION]
Json = dict[str, Any]


def client_for(server: JmapServer, auth: Any = (ACCOUNT, "demo")) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=server.transport(), base_url="https://demo.invalid", auth=auth,
        follow_redirects=True,
    )  # fmt: skip


async def api(
    client: httpx.AsyncClient, *calls: tuple[str, Json], using: list[str] = USING
) -> list[Any]:
    body = {"using": using, "methodCalls": [[n, {"accountId": ACCOUNT, **a}, str(i)]
                                             for i, (n, a) in enumerate(calls)]}  # fmt: skip
    response = await client.post("/jmap/api/", json=body)
    assert response.status_code == 200, response.text
    return list(response.json()["methodResponses"])


def fresh() -> tuple[JmapServer, FrozenClock]:
    clock = FrozenClock(TUESDAY_11_NY)
    return JmapServer(clock), clock


def deliver(server: JmapServer, subject: str, minutes_ago: int, **kw: Any) -> str:
    at = server.clock.now() - timedelta(minutes=minutes_ago)
    return server.deliver(
        "Dana", "dana@client.example", [ACCOUNT], subject, f"about {subject}", at, **kw
    )


# ---- session and auth ----


async def test_session_redirects_then_answers_relative_urls() -> None:
    server, _ = fresh()
    async with httpx.AsyncClient(
        transport=server.transport(), base_url="https://demo.invalid"
    ) as raw:
        moved = await raw.get("/.well-known/jmap")  # before any credentials, like Cyrus
    assert moved.status_code == 301 and moved.headers["location"] == "/jmap/session"
    async with client_for(server) as client:
        session = (await client.get(server.session_url)).json()
        events = await client.get("/jmap/eventsource/?types=*&closeafter=no&ping=30")
    assert session["apiUrl"] == "/jmap/api/"
    assert session["eventSourceUrl"].startswith("/jmap/eventsource/?types={types}")
    assert session["downloadUrl"].startswith("/jmap/download/{accountId}/{blobId}")
    assert session["primaryAccounts"][MAIL] == ACCOUNT
    assert session["capabilities"][CORE]["maxObjectsInGet"] == 500
    assert session["capabilities"][CORE]["maxCallsInRequest"] == 16
    assert events.status_code == 204


@pytest.mark.parametrize(
    ("auth", "status"),
    [
        (None, 401),
        ((ACCOUNT, "wrong"), 401),
        ((ACCOUNT, "demo"), 200),
        ("bearer", 200),
        ("bad", 401),
    ],
)
async def test_credentials_are_required(auth: Any, status: int) -> None:
    server, _ = fresh()
    headers = {"Authorization": "Bearer demo-token"} if auth == "bearer" else {}
    headers = {"Authorization": "Bearer nope"} if auth == "bad" else headers
    auth = auth if isinstance(auth, tuple) else None
    async with client_for(server, auth) as client:
        session = await client.get("/jmap/session", headers=headers)
        post = await client.post(
            "/jmap/api/", headers=headers, json={"using": USING, "methodCalls": []}
        )
    assert (session.status_code, post.status_code) == (status, status)


# ---- reading ----


async def test_query_then_get_through_result_references() -> None:
    server, _ = fresh()
    old = deliver(server, "old", 90, message_id="<old@client.example>")
    new = deliver(server, "new", 5)
    deliver(server, "sent", 1, mailbox="sent")
    inbox = server.mailbox_id("inbox")
    async with client_for(server) as client:
        newest_first = [{"property": "receivedAt", "isAscending": False}]
        props = ["threadId", "subject", "header:Message-ID:asMessageIds", "bodyValues", "textBody"]
        query, get, threads = await api(
            client,
            ("Email/query", {"filter": {"inMailbox": inbox}, "sort": newest_first,
                             "calculateTotal": True}),
            ("Email/get", {"#ids": {"resultOf": "0", "name": "Email/query", "path": "/ids"},
                           "properties": props, "fetchTextBodyValues": True}),
            ("Thread/get", {"#ids": {"resultOf": "1", "name": "Email/get",
                                     "path": "/list/*/threadId"}}),
        )  # fmt: skip
    assert query[1]["ids"] == [new, old] and query[1]["total"] == 2
    emails = get[1]["list"]
    assert [e["subject"] for e in emails] == ["new", "old"]
    assert emails[1]["header:Message-ID:asMessageIds"] == ["old@client.example"]
    part = emails[1]["textBody"][0]["partId"]
    assert emails[1]["bodyValues"][part]["value"] == "about old"
    assert [t["emailIds"] for t in threads[1]["list"]] == [[new], [old]]


async def test_a_bad_reference_is_an_invalid_result_reference() -> None:
    server, _ = fresh()
    async with client_for(server) as client:
        (answer,) = await api(
            client,
            ("Email/get", {"#ids": {"resultOf": "9", "name": "Email/query", "path": "/ids"}}),
        )
    assert answer[0] == "error" and answer[1]["type"] == "invalidResultReference"


async def test_threads_join_by_references_like_cyrus() -> None:
    server, _ = fresh()
    first = deliver(server, "plan", 60, message_id="<plan@client.example>")
    by_refs = deliver(server, "Re: plan", 30, references=["plan@client.example"])
    other = deliver(server, "unrelated", 20)
    server.add_identity("alice@agency.example", "Alice")
    drafts = server.mailbox_id("drafts")
    reply = {"mailboxIds": {drafts: True}, "from": [{"email": "alice@agency.example"}],
             "to": [{"email": "dana@client.example"}], "subject": "Re: plan",
             "inReplyTo": ["plan@client.example"], "bodyValues": {"1": {"value": "ok"}},
             "textBody": [{"partId": "1", "type": "text/plain"}]}  # fmt: skip
    async with client_for(server) as client:
        (created,) = await api(client, ("Email/set", {"create": {"r": reply}}))
        thread_id = server.emails[first].thread_id
        (threads,) = await api(client, ("Thread/get", {"ids": [thread_id]}))
    reply_id = created[1]["created"]["r"]["id"]
    assert created[1]["created"]["r"]["threadId"] == thread_id
    assert threads[1]["list"][0]["emailIds"] == [first, by_refs, reply_id]
    assert server.emails[other].thread_id != thread_id


async def test_query_filters_header_text_keywords_dates_and_paging() -> None:
    server, _ = fresh()
    a = deliver(server, "alpha", 50, message_id="<a@x>", keywords=["$seen"])
    b = deliver(server, "beta budget", 40, in_reply_to="<a@x>")
    c = deliver(server, "gamma", 30)
    since = (TUESDAY_11_NY - timedelta(minutes=45)).isoformat()

    async def ids(flt: Json, **extra: Any) -> list[str]:
        async with client_for(server) as client:
            (q,) = await api(
                client,
                ("Email/query", {"filter": flt, "sort": [{"property": "receivedAt"}], **extra}),
            )
        return list(q[1]["ids"])

    assert await ids({"header": ["Message-ID", "<a@x>"]}) == [a]
    assert await ids({"text": "BUDGET"}) == [b]
    assert await ids({"notKeyword": "$seen", "after": since}) == [b, c]
    assert await ids(
        {"operator": "OR", "conditions": [{"hasKeyword": "$SEEN"}, {"subject": "gamma"}]}
    ) == [a, c]
    assert await ids({}, collapseThreads=True) == [a, c]
    assert await ids({}, position=1, limit=1) == [b]


# ---- change tracking ----


async def test_email_changes_are_incremental_and_can_be_lost() -> None:
    server, _ = fresh()
    deliver(server, "before", 10)
    async with client_for(server) as client:
        (got,) = await api(client, ("Email/get", {"ids": []}))
        state = got[1]["state"]
        first = deliver(server, "one", 5)
        second = deliver(server, "two", 4)
        server.set_keywords(first, add=["$Seen"])
        (page,) = await api(client, ("Email/changes", {"sinceState": state, "maxChanges": 1}))
        (rest,) = await api(client, ("Email/changes", {"sinceState": page[1]["newState"]}))
        (all_,) = await api(client, ("Email/changes", {"sinceState": state}))
        server.forget_changes()
        (lost,) = await api(client, ("Email/changes", {"sinceState": state}))
    assert page[1]["hasMoreChanges"] is True and page[1]["created"] == [first]
    assert rest[1]["created"] == [second] and rest[1]["updated"] == [first]
    assert all_[1]["created"] == [first, second] and all_[1]["updated"] == []
    assert lost[0] == "error" and lost[1]["type"] == "cannotCalculateChanges"


async def test_keyword_patches_are_lowercased_and_empty_maps_are_null() -> None:
    server, _ = fresh()
    email = deliver(server, "hello", 5)
    async with client_for(server) as client:
        (ok,) = await api(
            client, ("Email/set", {"update": {email: {"keywords/Triage-Owner-Bob": True}}})
        )
        (bad,) = await api(client, ("Email/set", {"update": {email: {"keywords/has space": True}}}))
        (got,) = await api(client, ("Email/get", {"ids": [email], "properties": ["keywords"]}))
    assert ok[1]["updated"] == {email: None}
    assert ok[1]["created"] is None and ok[1]["destroyed"] is None and ok[1]["notUpdated"] is None
    assert bad[1]["notUpdated"][email]["type"] == "invalidProperties"
    assert got[1]["list"][0]["keywords"] == {"triage-owner-bob": True}


# ---- sending ----


async def test_submission_records_the_send_and_moves_the_email_to_sent() -> None:
    server, _ = fresh()
    parent = deliver(server, "plan", 30, message_id="<plan@client.example>")
    alice = server.add_identity("alice@agency.example", "Alice Martin")
    drafts, sent = server.mailbox_id("drafts"), server.mailbox_id("sent")
    draft = {"mailboxIds": {drafts: True}, "keywords": {"$draft": True, "$seen": True},
             "from": [{"name": "Alice Martin", "email": "alice@agency.example"}],
             "to": [{"email": "dana@client.example"}], "subject": "Re: plan",
             "messageId": ["r1@agency.example"], "inReplyTo": ["plan@client.example"],
             "references": ["plan@client.example"], "bodyValues": {"b": {"value": "Done."}},
             "textBody": [{"partId": "b", "type": "text/plain"}]}  # fmt: skip
    patch = {f"mailboxIds/{drafts}": None, f"mailboxIds/{sent}": True, "keywords/$draft": None}
    async with client_for(server) as client:
        answers = await api(
            client,
            ("Email/set", {"create": {"r": draft}}),
            ("EmailSubmission/set", {"create": {"s": {"identityId": alice, "emailId": "#r"}},
                                     "onSuccessUpdateEmail": {"#s": patch}}),
        )  # fmt: skip
    assert [a[0] for a in answers] == ["Email/set", "EmailSubmission/set", "Email/set"]
    email_id = answers[0][1]["created"]["r"]["id"]
    assert answers[2][1]["updated"] == {email_id: None}
    (mail,) = server.sent
    assert mail["message-id"] == "<r1@agency.example>" and mail["rcpt_to"] == [
        "dana@client.example"
    ]
    assert mail["body"] == "Done." and mail["in-reply-to"] == "<plan@client.example>"
    email = server.emails[email_id]
    assert email.mailbox_ids == {sent: True} and "$draft" not in email.keywords
    assert email.thread_id == server.emails[parent].thread_id


async def test_submission_refuses_another_identitys_from() -> None:
    server, _ = fresh()
    bob = server.add_identity("bob@agency.example", "Bob")
    email = server.deliver(
        "Alice",
        "alice@agency.example",
        ["x@client.example"],
        "s",
        "t",
        TUESDAY_11_NY,
        mailbox="drafts",
    )
    async with client_for(server) as client:
        (answer,) = await api(
            client,
            ("EmailSubmission/set", {"create": {"s": {"identityId": bob, "emailId": email}}}),
        )
    assert answer[1]["notCreated"]["s"]["type"] == "forbiddenFrom"
    assert server.sent == []


# ---- limits and errors ----


async def test_limits_are_enforced() -> None:
    server, _ = fresh()
    async with client_for(server) as client:
        (too_many_ids,) = await api(client, ("Email/get", {"ids": [f"M{i}" for i in range(501)]}))
        (too_many_sets,) = await api(
            client, ("Email/set", {"destroy": [f"M{i}" for i in range(501)]})
        )
        calls = [["Core/echo", {}, str(i)] for i in range(17)]
        too_many_calls = await client.post(
            "/jmap/api/", json={"using": USING, "methodCalls": calls}
        )
        (fine,) = await api(client, ("Email/get", {"ids": [f"M{i}" for i in range(500)]}))
    assert too_many_ids[1]["type"] == "requestTooLarge"
    assert too_many_sets[1]["type"] == "requestTooLarge"
    assert too_many_calls.status_code == 400
    assert too_many_calls.json()["type"] == "urn:ietf:params:jmap:error:limit"
    assert too_many_calls.json()["limit"] == "maxCallsInRequest"
    assert len(fine[1]["notFound"]) == 500


async def test_method_and_request_errors() -> None:
    server, _ = fresh()
    async with client_for(server) as client:
        (unknown,) = await api(client, ("Email/frobnicate", {}))
        (no_cap,) = await api(client, ("Email/get", {"ids": []}), using=[CORE])
        bad_account = await client.post(
            "/jmap/api/",
            json={
                "using": USING,
                "methodCalls": [["Email/get", {"accountId": "nobody", "ids": []}, "0"]],
            },
        )
        bad_args = await api(client, ("Email/query", {"filter": {"after": "yesterday"}}))
        cap = await client.post("/jmap/api/", json={"using": ["urn:x:nope"], "methodCalls": []})
        not_json = await client.post("/jmap/api/", content=b"{nope")
    assert unknown[1]["type"] == no_cap[1]["type"] == "unknownMethod"
    assert bad_account.json()["methodResponses"][0][1]["type"] == "accountNotFound"
    assert bad_args[0][1]["type"] == "invalidArguments"
    assert (cap.status_code, cap.json()["type"]) == (
        400,
        "urn:ietf:params:jmap:error:unknownCapability",
    )
    assert (not_json.status_code, not_json.json()["type"]) == (
        400,
        "urn:ietf:params:jmap:error:notJSON",
    )


async def test_mailbox_set_and_query_by_role() -> None:
    server, _ = fresh()
    async with client_for(server) as client:
        (made,) = await api(client, ("Mailbox/set", {"create": {"n": {"name": "Triage Notes"}}}))
        (again,) = await api(client, ("Mailbox/set", {"create": {"n": {"name": "Triage Notes"}}}))
        (sent,) = await api(client, ("Mailbox/query", {"filter": {"role": "sent"}}))
    assert server.mailboxes[made[1]["created"]["n"]["id"]].name == "Triage Notes"
    assert again[1]["notCreated"]["n"]["type"] == "invalidProperties"
    assert sent[1]["ids"] == [server.mailbox_id("sent")]


async def test_html_only_mail_offers_its_html_part_and_truncates() -> None:
    server, _ = fresh()
    email = server.deliver(
        "Ken", "ken@c.example", [ACCOUNT], "html", "", TUESDAY_11_NY, html="<p>Hé there</p>"
    )
    async with client_for(server) as client:
        args = {"ids": [email], "properties": ["textBody", "bodyValues", "preview"],
                "fetchTextBodyValues": True, "maxBodyValueBytes": 5}  # fmt: skip
        (got,) = await api(client, ("Email/get", args))
    found = got[1]["list"][0]
    assert found["textBody"][0]["type"] == "text/html"
    value = found["bodyValues"][found["textBody"][0]["partId"]]
    assert value == {"value": "<p>H", "isEncodingProblem": False, "isTruncated": True}
    assert found["preview"] == "Hé there"


# ---- the demo mailbox ----


def classify(demo: DemoMailbox, now: datetime) -> dict[str, str]:
    """Each scene's queue state, computed with the project's own routing and SLA code."""
    cfg, states = demo.config, {}
    at_risk = timedelta(minutes=cfg.agency.at_risk_minutes)
    for key, thread_id in demo.threads.items():
        mail = [e for e in demo.server.thread_emails(thread_id) if "triage-note" not in e.keywords]
        staff = [i for i, e in enumerate(mail) if routing.is_staff(e.from_[0]["email"], cfg)]
        unanswered = mail[staff[-1] + 1 :] if staff else mail
        if not unanswered:
            states[key] = "answered"
            continue
        first = unanswered[0]
        route = routing.route(first.from_[0]["email"], "", cfg)
        region = cfg.regions[route.region]
        target = target_for(not staff, route.client_key, route.tier, region, cfg)
        deadline = calendar.deadline(first.received_at, region, target.within)
        states[key] = str(urgency.state(deadline, now, at_risk))
    return states


@pytest.mark.parametrize(
    ("now", "breached", "at_risk"),
    [(TUESDAY_11_NY, 6, 3), (SATURDAY_NOON_NY, 6, 1), (WEDNESDAY_2AM_NY, 6, 1)],
)
def test_demo_day_has_breached_at_risk_and_answered_threads(
    now: datetime, breached: int, at_risk: int
) -> None:
    demo = DemoMailbox(FrozenClock(now), live=False)
    states = classify(demo, now)
    counts = {s: list(states.values()).count(s) for s in ("breached", "at_risk", "ok", "answered")}
    assert counts["breached"] >= breached and counts["at_risk"] >= at_risk
    assert counts["answered"] >= 4 and counts["ok"] >= 6
    assert states["breached-east"] == states["ceo"] == states["escalated"] == "breached"
    assert states["support-at-risk"] == "at_risk"  # 24x7: at risk at any hour
    assert all(e.received_at <= now for e in demo.server.emails.values())


def test_demo_tuesday_has_at_risk_us_threads_and_reopened_ones() -> None:
    states = classify(DemoMailbox(FrozenClock(TUESDAY_11_NY), live=False), TUESDAY_11_NY)
    assert states["at-risk-east"] == states["at-risk-mountain"] == "at_risk"
    assert states["reopened-central"] == "ok"  # the client wrote again after Bob's reply
    assert states["answered-east"] == "answered"


def test_demo_has_ceo_escalated_html_and_hostile_mail() -> None:
    demo = DemoMailbox(FrozenClock(TUESDAY_11_NY), live=False)
    ceo_mail = demo.server.thread_emails(demo.threads["ceo"])[-1]
    assert ceo_mail.to == [{"name": None, "email": "ceo@agency.example"}]
    escalated = demo.server.thread_emails(demo.threads["escalated"])
    assert all({"triage-escalated", "triage-owner-alice"} <= set(e.keywords) for e in escalated)
    (note,) = [e for e in escalated if "triage-note" in e.keywords]
    assert note.mailbox_ids == {demo.server.mailbox_id("Triage Notes"): True}
    body = json.loads(note.text)
    assert (body["action"], body["by"], body["reason"]) == ("escalate", "alice", "client unhappy")
    assert datetime.fromisoformat(body["at"]) <= TUESDAY_11_NY
    (html,) = demo.server.thread_emails(demo.threads["html-only"])
    assert html.text == "" and html.html and "<b>" in html.html
    (hostile,) = demo.server.thread_emails(demo.threads["hostile"])
    assert "\x1b]52" in hostile.subject and "[@click=app.quit]" in hostile.subject
    assert "\u202e" in hostile.from_[0]["name"]


def test_demo_is_deterministic_for_a_given_instant_and_seed() -> None:
    def story(seed: int) -> list[tuple[str, datetime]]:
        demo = DemoMailbox(FrozenClock(TUESDAY_11_NY), seed=seed, live=False)
        return [(e.subject, e.received_at) for e in demo.server.emails.values()]

    assert story(1) == story(1)
    assert story(1) != story(2)


async def test_demo_serves_its_day_over_http_with_its_credentials() -> None:
    demo = DemoMailbox(FrozenClock(TUESDAY_11_NY), live=False)
    user, password = demo.login.username, demo.login.password
    async with httpx.AsyncClient(
        transport=demo.transport(), auth=(user, password), follow_redirects=True
    ) as client:
        session = (await client.get(demo.session_url)).json()
        body = {
            "using": USING,
            "methodCalls": [
                [
                    "Email/query",
                    {"accountId": session["primaryAccounts"][MAIL], "calculateTotal": True},
                    "q",
                ]
            ],
        }
        answer = (
            await client.post(httpx.URL(demo.session_url).join(session["apiUrl"]), json=body)
        ).json()
    assert answer["methodResponses"][0][1]["total"] == len(demo.server.emails) > 40


async def test_live_arrivals_come_only_when_the_clock_passes_them() -> None:
    clock = FrozenClock(TUESDAY_11_NY)
    demo = DemoMailbox(clock)
    before = len(demo.server.emails)
    async with client_for(demo.server) as client:
        await client.get("/jmap/session")
        assert len(demo.server.emails) == before  # a frozen clock is a frozen mailbox
        clock.advance(timedelta(seconds=44))
        await client.get("/jmap/session")
        assert len(demo.server.emails) == before  # the first arrival is 45-90 s away
        clock.advance(timedelta(minutes=10))
        assert len(demo.server.emails) == before  # delivered lazily, on a request
        await client.get("/jmap/session")
    arrived = sorted(demo.server.emails.values(), key=lambda e: int(e.id[1:]))[before:]
    assert 6 <= len(arrived) == demo.delivered_live <= 14
    assert all(TUESDAY_11_NY < e.received_at <= clock.now() for e in arrived)
    assert all(demo.server.mailbox_id("inbox") in e.mailbox_ids for e in arrived)


def test_live_false_and_benchmark_fill() -> None:
    clock = FrozenClock(TUESDAY_11_NY)
    quiet = DemoMailbox(clock, live=False)
    clock.advance(timedelta(hours=1))
    assert quiet.server.on_request is None
    bench = DemoMailbox.for_benchmark(300, seed=3, now=TUESDAY_11_NY)
    assert len(bench.server.threads) == 300
    assert 300 <= len(bench.server.emails) <= 1500
    assert all(e.received_at <= TUESDAY_11_NY for e in bench.server.emails.values())
    assert bench.server.by_mailbox[bench.server.mailbox_id("sent")]
