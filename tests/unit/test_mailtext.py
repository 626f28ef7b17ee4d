"""Email text decoding is tolerant, cannot inject headers, and never fetches anything."""

from __future__ import annotations

import builtins
import io
import socket
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.text import mailtext
from triage.text.mailtext import (
    DAMAGED,
    address_display,
    body_text,
    decode_header_value,
    header_safe,
    html_to_text,
    parse_rfc822,
    quote,
)
from triage.text.sanitize import is_inert, sanitize_line


@pytest.fixture
def no_io(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Any socket, URL or file opened while the test runs is recorded and refused."""
    attempts: list[str] = []

    def refuse(what: str) -> Any:
        def _refuse(*args: object, **kwargs: object) -> Any:
            attempts.append(f"{what}{args!r}")
            raise OSError(f"{what} is forbidden in this test")

        return _refuse

    monkeypatch.setattr(socket, "socket", refuse("socket"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(urllib.request, "urlopen", refuse("urlopen"))
    monkeypatch.setattr(builtins, "open", refuse("open"))
    monkeypatch.setattr(io, "open", refuse("io.open"))
    yield attempts
    assert attempts == []


# -- headers ------------------------------------------------------------------

INJECTING_SUBJECT = "=?utf-8?q?Invoice=0D=0ABcc:_all@agency.example=0D=0A=1B]52;c;eA=3D=3D=07?="


def test_encoded_words_decode_controls_and_crlf() -> None:
    text, warnings = decode_header_value(INJECTING_SUBJECT, "subject")
    assert text == "Invoice\r\nBcc: all@agency.example\r\n\x1b]52;c;eA==\x07"
    assert warnings == []
    shown = sanitize_line(text)
    assert is_inert(shown, single_line=True)
    assert "\r" not in shown and "\n" not in shown and "\x1b" not in shown


def test_header_safe_stops_header_injection_in_a_reply() -> None:
    text, _ = decode_header_value(INJECTING_SUBJECT, "subject")
    name, _ = decode_header_value("=?utf-8?q?Bob=0ACc:_ceo@agency.example?=", "from")
    reply = EmailMessage()
    reply["Subject"] = "Re: " + header_safe(text)
    reply["To"] = f'"{header_safe(name)}" <bob@client.example>'
    reply["From"] = "am@agency.example"
    parsed = BytesParser(policy=policy.default).parsebytes(reply.as_bytes())
    assert sorted(parsed.keys()) == ["From", "Subject", "To"]
    assert parsed["Subject"] == "Re: Invoice Bcc: all@agency.example ]52;c;eA=="
    assert [a.addr_spec for a in parsed["To"].addresses] == ["bob@client.example"]


def test_header_safe_replaces_every_control_and_caps_length() -> None:
    assert header_safe("a\rb\nc\x00d\x85e\u2028f\u202eg\u200bh\ti") == "a b c d e f g h i"
    assert header_safe("  many   spaces  ") == "many spaces"
    assert len(header_safe("x" * 5000)) == 998


def test_unknown_charset_warns_and_replaces() -> None:
    text, warnings = decode_header_value("=?x-foo?q?caf=E9?= ok", "subject")
    assert text == "caf\ufffd ok"
    assert warnings == ["subject: unknown charset 'x-foo', shown with replacement characters"]
    text, warnings = decode_header_value("=?utf-8?q?caf=E9?=", "subject")
    assert text == "caf\ufffd" and "not valid 'utf-8'" in warnings[0]


def test_damaged_encoded_word_is_kept_as_sent() -> None:
    text, warnings = decode_header_value("=?utf-8?b?@@@?= x", "subject")
    assert text == "=?utf-8?b?@@@?= x"
    assert warnings == ["subject: a damaged encoded word is shown as it was sent"]


def test_encoded_word_spacing_and_latin1() -> None:
    text, _ = decode_header_value("Re: =?utf-8?b?w6k=?= =?utf-8?b?w6k=?= =?iso-8859-1?q?caf=E9?= !")
    assert text == "Re: éécafé !"
    assert decode_header_value("plain\r\n folded") == ("plain folded", [])


# -- addresses ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "email", "shown"),
    [
        ("Bob Smith", "bob@client.example", "Bob Smith <bob@client.example>"),
        ("", "bob@client.example", "bob@client.example"),
        ("BOB@client.example", "bob@client.example", "bob@client.example"),
        ("Bob (bob@c.example)", "bob@c.example", "Bob (bob@c.example) <bob@c.example>"),
        ("support@bank.com", "x@evil.example", 'x@evil.example ⚠ "support@bank.com"'),
        ("Bank <support@bank.com>", "x@evil.example", 'x@evil.example ⚠ "Bank <support@bank.com>"'),
        ("support＠bank.com", "x@evil.example", 'x@evil.example ⚠ "support＠bank.com"'),
    ],
)  # fmt: skip
def test_address_display(name: str, email: str, shown: str) -> None:
    assert address_display(name, email) == shown


def test_spoofed_sender_in_a_raw_message_shows_the_real_address() -> None:
    raw = b'From: "support@bank.com" <x@evil.example>\r\nSubject: hi\r\n\r\nbody\r\n'
    mail = parse_rfc822(raw)
    assert (mail.from_name, mail.from_email) == ("support@bank.com", "x@evil.example")
    assert address_display(mail.from_name, mail.from_email).startswith("x@evil.example ⚠")


def test_encoded_name_cannot_change_the_address() -> None:
    raw = b"From: =?utf-8?q?Bank_=3Csupport@bank.com=3E=2C?= <x@evil.example>\r\n\r\nb\r\n"
    mail = parse_rfc822(raw)
    assert mail.from_email == "x@evil.example"
    assert mail.from_name == "Bank <support@bank.com>,"
    look_alike = b"From: =EW0= =?utf-8?q?=3Cx=40y=3E?= <x@evil.example>\r\n\r\nb\r\n"
    mail = parse_rfc822(look_alike)
    assert (mail.from_name, mail.from_email) == ("=EW0= <x@y>", "x@evil.example")


# -- HTML -----------------------------------------------------------------------

HOSTILE_PAGE = """<!DOCTYPE html><html><head><title>Secret title</title>
<link rel="stylesheet" href="http://evil.example/style.css">
<style>body { background: url(http://evil.example/bg.png) }</style>
<script src="http://evil.example/x.js"></script><script>fetch("http://evil.example/")</script>
</head><body><h1>Invoice &amp; terms</h1>
<p>Dear   client,<br>please
   pay.</p><ul><li>one</li><li>two</li></ul>
<p>Read <a href="https://bank.example/pay">the terms</a>,
write <a href="mailto:a@b.example">a@b.example</a>
<a href="javascript:alert(1)">click</a></p>
<img src="http://evil.example/logo.png" alt="Logo">
<img src="http://evil.example/track.gif?id=42" width="1" height="1">
<div style="background:url('http://evil.example/div.png')">&lt;b&gt; \x1b[2J&#x1b; done</div>
<pre>  keep
    this</pre><!-- http://evil.example/comment --></body></html>"""


def test_html_to_text_reads_the_page_without_any_io(no_io: list[str]) -> None:
    text = html_to_text(HOSTILE_PAGE)
    assert text == (
        "Invoice & terms\n\n"
        "Dear client,\nplease pay.\n\n"
        "- one\n- two\n\n"
        "Read the terms (https://bank.example/pay), write a@b.example click\n"
        "[image: Logo]\n"
        "<b> \x1b[2J done\n\n"  # html.unescape drops control charrefs; raw ones stay
        "  keep\n    this"
    )
    assert "evil.example" not in text and "Secret title" not in text
    assert no_io == []


def test_the_io_guard_itself_works(no_io: list[str]) -> None:
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", 9))
    no_io.clear()  # the guard saw it; clear so the fixture's own check passes


def test_image_without_alt_and_unclosed_head() -> None:
    assert html_to_text('<img src="x.png"> after') == "[image] after"
    assert html_to_text('<img src="t.gif" width="1">a<img src="t.gif" height=0>b') == "ab"
    assert html_to_text("<title>never closed<body><p>visible</p>") == "visible"
    assert html_to_text("<style>a{}") == ""


@given(st.text(alphabet=st.sampled_from(list("<>/=\"'&;#!-[] abpscriptyle\n\x00é"))))
@settings(max_examples=300)
def test_html_to_text_never_raises(html: str) -> None:
    assert isinstance(html_to_text(html), str)


def test_body_text_prefers_plain_text() -> None:
    assert body_text("plain\r\nline", "<p>html</p>") == "plain\nline"
    assert body_text("  \n", "<p>html</p>") == "html"
    assert body_text(None, None) == ""


def test_quote() -> None:
    out = quote("hi\r\n\r\n> earlier\nbye\n\n", "Bob <b@x.example>", "Mon 2 Mar 2026, 10:00")
    assert out == "On Mon 2 Mar 2026, 10:00, Bob <b@x.example> wrote:\n> hi\n>\n>> earlier\n> bye\n"


# -- raw messages ---------------------------------------------------------------

GOOD = (
    b"From: =?utf-8?q?Jos=C3=A9?= <jose@client.example>\r\n"
    b"To: am@agency.example, Other <o@agency.example>\r\n"
    b"Cc: ceo@agency.example\r\n"
    b"Subject: =?utf-8?q?Caf=C3=A9?= order\r\n"
    b"Date: Mon, 02 Mar 2026 10:15:00 -0500\r\n"
    b"Message-ID: <m2@client.example>\r\n"
    b"In-Reply-To: <m1@agency.example>\r\n"
    b"References: <m0@client.example>\r\n <m1@agency.example>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Hello\r\nthere\r\n"
)


def test_parse_a_good_message() -> None:
    mail = parse_rfc822(GOOD)
    assert mail.subject == "Café order"
    assert (mail.from_name, mail.from_email) == ("José", "jose@client.example")
    assert mail.to == ("am@agency.example", "o@agency.example")
    assert mail.cc == ("ceo@agency.example",)
    assert mail.date == datetime(2026, 3, 2, 15, 15, tzinfo=UTC)
    assert mail.message_id == "<m2@client.example>"
    assert mail.in_reply_to == ("<m1@agency.example>",)
    assert mail.references == ("<m0@client.example>", "<m1@agency.example>")
    assert mail.text == "Hello\nthere\n"
    assert mail.warnings == ()


TRUNCATED = (
    b"From: a@client.example\r\nSubject: x\r\n"
    b"Content-Type: multipart/alternative; boundary=XX\r\n\r\n"
    b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello there\r\nsecond\r\n"
    b"--XX\r\nContent-Type: text/html\r\n\r\n<p>Hel"
)
NO_BOUNDARY = b"From: a@client.example\r\nContent-Type: multipart/mixed\r\n\r\nhello body\r\n"
WRONG_BOUNDARY = (
    b"From: a@client.example\r\nContent-Type: multipart/mixed; boundary=ZZ\r\n\r\n"
    b"hello body\r\n--YY\r\nstuff\r\n"
)
BAD_BASE64 = (
    b"From: a@client.example\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\nSGVsbG8gd29ybGQ@@@!!\r\nSGk"
)


@pytest.mark.parametrize(
    ("raw", "start"),
    [
        (TRUNCATED, "Hello there\nsecond"),
        (NO_BOUNDARY, "hello body"),
        (WRONG_BOUNDARY, "hello body\n--YY"),
        (BAD_BASE64, "Hello world"),
    ],
    ids=["truncated", "no-boundary", "wrong-boundary", "bad-base64"],
)
def test_damaged_messages_warn_and_show_what_was_read(raw: bytes, start: str) -> None:
    mail = parse_rfc822(raw)
    assert mail.text.startswith(start)
    assert DAMAGED in mail.warnings
    assert mail.from_email == "a@client.example"


def test_unknown_body_charset_and_raw_8bit_headers() -> None:
    raw = (
        b"From: Jos\xc3\xa9 <j@client.example>\r\nSubject: caf\xc3\xa9\r\n"
        b"Date: yesterday-ish\r\nContent-Type: text/plain; charset=x-foo\r\n\r\ncaf\xe9\r\n"
    )
    mail = parse_rfc822(raw)
    assert (mail.subject, mail.from_name) == ("café", "José")
    assert mail.text == "caf\ufffd\n"
    assert mail.date is None
    assert mail.warnings == (
        "date: could not read 'yesterday-ish'",
        "body: unknown charset 'x-foo', shown with replacement characters",
    )


def test_unlabelled_utf8_body_is_read_without_a_warning() -> None:
    mail = parse_rfc822(b"From: a@client.example\r\n\r\ncaf\xc3\xa9\r\n")
    assert (mail.text, mail.warnings) == ("café\n", ())


@pytest.mark.parametrize("raw", [b"", b"\x00\x01\xff\xfe", b"From:\r\n\r\n", b"From: <<<,,,@>\r\n"])
def test_garbage_never_raises(raw: bytes) -> None:
    mail = parse_rfc822(raw)
    assert mail.from_email == ""


def test_an_unexpected_failure_still_returns_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object) -> str:
        raise RuntimeError("bug")

    monkeypatch.setattr(mailtext, "_body", explode)
    mail = parse_rfc822(b"From: a@client.example\r\n\r\nbody\r\n")
    assert mail.warnings == (f"{DAMAGED} (RuntimeError)",)
    assert "body" in mail.text


@given(st.binary(max_size=400))
@settings(max_examples=200)
def test_random_bytes_never_raise(raw: bytes) -> None:
    parse_rfc822(b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n" + raw)
    parse_rfc822(raw)
