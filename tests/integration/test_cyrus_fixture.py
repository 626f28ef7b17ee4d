"""Smoke tests of the Cyrus JMAP fixture itself, with plain httpx.

They pin the server behaviour the product's JMAP client relies on (session
discovery, auth, roles, receivedAt from APPEND, LMTP delivery, Email/changes,
EmailSubmission through the SMTP sink), so a broken fixture fails here first
rather than as a confusing client failure.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.integration import conftest
from tests.integration.cyrus import CyrusServer, CyrusUser, make_message
from tests.integration.smtp_sink import SmtpSink

USING = [
    "urn:ietf:params:jmap:core",
    "urn:ietf:params:jmap:mail",
    "urn:ietf:params:jmap:submission",
]
SENT_AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
RECEIVED_AT = datetime(2024, 5, 1, 12, 5, 30, tzinfo=UTC)


class Jmap:
    """A minimal JMAP caller: enough to check the fixture, not a client."""

    def __init__(self, user: CyrusUser) -> None:
        self.account = user.username
        self.http = httpx.Client(auth=(user.username, user.password), follow_redirects=True)
        response = self.http.get(user.session_url)
        response.raise_for_status()
        self.session: dict[str, Any] = response.json()
        # apiUrl is relative ("/jmap/"): resolve it against the final session URL.
        self.api_url = response.url.join(self.session["apiUrl"])

    def call(self, *calls: list[Any]) -> list[list[Any]]:
        body = {"using": USING, "methodCalls": [list(c) for c in calls]}
        response = self.http.post(self.api_url, json=body)
        response.raise_for_status()
        return list(response.json()["methodResponses"])

    def one(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """Call one method on the user's account and return its arguments."""
        [[got, result, _]] = self.call([name, {"accountId": self.account, **args}, "0"])
        assert got == name, result
        return dict(result)

    def roles(self) -> dict[str, str]:
        boxes = self.one("Mailbox/get", {"properties": ["name", "role"]})["list"]
        return {box["role"]: box["id"] for box in boxes if box["role"]}

    def emails(self, ids: list[str], *props: str) -> list[dict[str, Any]]:
        return list(self.one("Email/get", {"ids": ids, "properties": list(props)})["list"])


@pytest.fixture
def jmap(cyrus_user: CyrusUser) -> Iterator[Jmap]:
    client = Jmap(cyrus_user)
    yield client
    client.http.close()


def test_session_discovery_redirects_to_jmap_and_account_is_login(
    cyrus_user: CyrusUser,
) -> None:
    first = httpx.get(cyrus_user.session_url)
    assert first.status_code == 301
    assert first.headers["location"].endswith("/jmap")

    client = Jmap(cyrus_user)
    assert client.session["username"] == cyrus_user.username
    assert list(client.session["accounts"]) == [cyrus_user.username]
    assert client.session["primaryAccounts"]["urn:ietf:params:jmap:mail"] == cyrus_user.username
    assert client.session["apiUrl"].startswith("/jmap")


def test_basic_auth_rejects_a_wrong_password(cyrus_user: CyrusUser) -> None:
    response = httpx.get(cyrus_user.session_url, auth=(cyrus_user.username, "wrong"),
                         follow_redirects=True)  # fmt: skip
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")


def test_mailboxes_carry_special_use_roles(jmap: Jmap) -> None:
    assert set(jmap.roles()) == {"inbox", "drafts", "sent", "archive", "trash"}


def test_appended_message_keeps_its_internaldate_as_received_at(
    cyrus: CyrusServer, jmap: Jmap
) -> None:
    raw = make_message("ann@client.test", jmap.account, "Invoice 42", "Hello", SENT_AT,
                       "<inv42@client.test>", cc=["cfo@client.test"])  # fmt: skip
    cyrus.append(jmap.account, "INBOX", raw, RECEIVED_AT, flags=("\\Seen",))

    ids = jmap.one("Email/query", {"filter": {"inMailbox": jmap.roles()["inbox"]}})["ids"]
    [email] = jmap.emails(ids, "subject", "receivedAt", "sentAt", "keywords", "cc", "messageId")
    assert email["subject"] == "Invoice 42"
    assert email["receivedAt"] == "2024-05-01T12:05:30Z"
    assert email["sentAt"] == "2024-05-01T12:00:00Z"
    assert email["keywords"] == {"$seen": True}
    assert email["cc"] == [{"name": None, "email": "cfo@client.test"}]
    assert email["messageId"] == ["inv42@client.test"]


def test_lmtp_delivery_shows_up_in_email_changes(cyrus: CyrusServer, jmap: Jmap) -> None:
    state = jmap.one("Email/get", {"ids": []})["state"]
    raw = make_message("bo@client.test", jmap.account, "Urgent", "Call me", SENT_AT,
                       "<urgent@client.test>")  # fmt: skip
    cyrus.deliver(jmap.account, raw)

    changes = jmap.one("Email/changes", {"sinceState": state})
    assert changes["updated"] == [] and changes["destroyed"] == []
    [email] = jmap.emails(changes["created"], "subject", "mailboxIds")
    assert email["subject"] == "Urgent"
    assert email["mailboxIds"] == {jmap.roles()["inbox"]: True}
    assert jmap.one("Email/changes", {"sinceState": changes["newState"]})["created"] == []


def test_text_search_finds_mail_after_index(cyrus: CyrusServer, jmap: Jmap) -> None:
    raw = make_message("cy@client.test", jmap.account, "Quarterly zebra report", "Body",
                       SENT_AT, "<zebra@client.test>")  # fmt: skip
    cyrus.deliver(jmap.account, raw)
    cyrus.index(jmap.account)

    ids = jmap.one("Email/query", {"filter": {"subject": "zebra"}})["ids"]
    assert [e["subject"] for e in jmap.emails(ids, "subject")] == ["Quarterly zebra report"]
    assert jmap.one("Email/query", {"filter": {"subject": "giraffe"}})["ids"] == []


def _draft(jmap: Jmap, drafts: str, colleague: str) -> dict[str, Any]:
    return {
        "mailboxIds": {drafts: True},
        "keywords": {"$draft": True, "$seen": True},
        "from": [{"name": "Account Manager", "email": jmap.account}],
        "to": [{"email": "ann@client.test"}],
        "cc": [{"email": colleague}],
        "subject": "Re: Invoice 42",
        "inReplyTo": ["inv42@client.test"],
        "references": ["inv42@client.test"],
        "bodyValues": {"body": {"value": "Paid today."}},
        "textBody": [{"partId": "body", "type": "text/plain"}],
    }


def test_submission_reaches_smtp_sink_and_moves_draft_to_sent(
    cyrus: CyrusServer, jmap: Jmap, smtp_sink: SmtpSink
) -> None:
    colleague = cyrus.add_user(f"colleague-{jmap.account.split('@')[0]}", "pw-colleague")
    roles = jmap.roles()
    identity = jmap.one("Identity/get", {})["list"][0]["id"]
    acct = {"accountId": jmap.account}
    created, submitted, moved = jmap.call(
        ["Email/set", {**acct, "create": {"d": _draft(jmap, roles["drafts"], colleague)}}, "0"],
        ["EmailSubmission/set", {**acct, "create": {"s": {"identityId": identity, "emailId": "#d"}},
         "onSuccessUpdateEmail": {"#s": {f"mailboxIds/{roles['drafts']}": None,
                                         f"mailboxIds/{roles['sent']}": True,
                                         "keywords/$draft": None}}}, "1"],
    )  # fmt: skip
    email_id = created[1]["created"]["d"]["id"]
    assert submitted[1]["created"]["s"]["undoStatus"] == "final"
    assert moved[0] == "Email/set" and moved[1]["updated"] == {email_id: None}

    [email] = jmap.emails([email_id], "mailboxIds", "keywords")
    assert email["mailboxIds"] == {roles["sent"]: True}
    assert email["keywords"] == {"$seen": True}
    [sent] = [m for m in smtp_sink.messages if b"Subject: Re: Invoice 42" in m.data
              and m.mail_from == jmap.account]  # fmt: skip
    assert sent.rcpt_to == ("ann@client.test", colleague)
    assert b"In-Reply-To: <inv42@client.test>" in sent.data
    assert smtp_sink.relay_errors == []
    # The sink relayed the local recipient back into Cyrus: the colleague got it.
    with httpx.Client(auth=(colleague, "pw-colleague")) as http:
        body = {"using": USING, "methodCalls": [["Email/query", {"accountId": colleague}, "0"]]}
        [[_, result, _]] = http.post(jmap.api_url, json=body).json()["methodResponses"]
    assert len(result["ids"]) == 1


def test_smtp_sink_records_envelope_and_undoes_dot_stuffing() -> None:
    sink = SmtpSink()
    sink.start()
    try:
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=5) as smtp:
            smtp.sendmail("a@x.test", ["b@y.test"], b"Subject: s\r\n\r\n.hidden dot\r\n")
            smtp.rset()
            smtp.sendmail("c@x.test", ["d@y.test", "e@y.test"], b"Subject: t\r\n\r\nok\r\n")
    finally:
        sink.stop()
    first, second = sink.messages
    assert (first.mail_from, first.rcpt_to) == ("a@x.test", ("b@y.test",))
    assert first.data.endswith(b"\r\n.hidden dot\r\n")
    assert second.rcpt_to == ("d@y.test", "e@y.test")


def test_missing_cyrus_skips_or_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "cyrus_installed", lambda: False)
    monkeypatch.delenv("TRIAGE_REQUIRE_JMAP", raising=False)
    with pytest.raises(pytest.skip.Exception, match="install-cyrus"):
        conftest._require_cyrus()
    monkeypatch.setenv("TRIAGE_REQUIRE_JMAP", "1")
    with pytest.raises(pytest.fail.Exception, match="install-cyrus"):
        conftest._require_cyrus()


def test_non_root_skips_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "cyrus_installed", lambda: True)
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    monkeypatch.delenv("TRIAGE_REQUIRE_JMAP", raising=False)
    with pytest.raises(pytest.skip.Exception, match="needs root"):
        conftest._require_cyrus()
