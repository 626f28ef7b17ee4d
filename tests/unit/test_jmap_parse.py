"""Reading JMAP answers: bodies (mixed plain/HTML parts), sessions, odd httpx errors."""

from __future__ import annotations

import httpx
import pytest

from triage.providers.base import ProviderError
from triage.providers.jmap.http import Credentials, JmapHttp, parse_session
from triage.providers.jmap.parse import body_of

MAIL = "urn:ietf:params:jmap:mail"


def test_a_plain_part_beside_an_html_part_keeps_its_lines() -> None:
    e = {
        "textBody": [{"partId": "1", "type": "text/plain"}, {"partId": "2", "type": "text/html"}],
        "bodyValues": {"1": {"value": "line one\nline two\n\n> quoted"},
                       "2": {"value": "<p>Hi <b>there</b></p>"}},
    }  # fmt: skip
    assert body_of(e) == ("line one\nline two\n\n> quoted\nHi there", ())


def test_a_blank_text_part_falls_back_to_the_html_one() -> None:
    e = {
        "textBody": [{"partId": "1", "type": "text/plain"}],
        "htmlBody": [{"partId": "2", "type": "text/html"}],
        "bodyValues": {"1": {"value": "  \n"}, "2": {"value": "<p>Hello</p>"}},
    }
    assert body_of(e)[0] == "Hello"


def test_a_session_without_an_event_source_has_none() -> None:
    raw = {"apiUrl": "/jmap/api/", "capabilities": {MAIL: {}},
           "accounts": {"a": {}}, "primaryAccounts": {MAIL: "a"}}  # fmt: skip
    session = parse_session(raw, "https://x.invalid/jmap/session", "")
    assert session.event_source_url == "" and session.download_url == ""
    assert session.api_url == "https://x.invalid/jmap/api/"


async def test_a_redirect_loop_is_a_provider_error_not_a_crash() -> None:
    def loop(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"Location": str(request.url)})

    http = JmapHttp("https://x.invalid/jmap", Credentials("bearer", "", "t"),
                    transport=httpx.MockTransport(loop))  # fmt: skip
    with pytest.raises(ProviderError, match="bad answer"):
        await http.connect()
    await http.aclose()
