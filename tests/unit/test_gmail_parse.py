"""Reading Gmail's message resources (poison mail included), marks as labels, the quota pacer."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from triage.domain.model import Mark, MarkKind
from triage.providers.gmail.labels import label_name, mark_of
from triage.providers.gmail.parse import body_of, summary_of
from triage.providers.gmail.quota import QuotaPacer

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def part(mime: str, data: bytes, charset: str = "utf-8", **extra: object) -> dict[str, object]:
    heads = [{"name": "Content-Type", "value": f"{mime}; charset={charset}"}]
    return {"mimeType": mime, "headers": heads, "body": {"data": b64(data)}, **extra}


def test_a_message_resource_reads_as_a_summary() -> None:
    m = {
        "id": "m1",
        "threadId": "t1",
        "labelIds": ["INBOX", "Label_3"],
        "internalDate": str(int(datetime(2026, 3, 4, 14, 0, tzinfo=UTC).timestamp() * 1000)),
        "snippet": "It&#39;s &lt;urgent&gt;",
        "payload": {
            "headers": [
                {"name": "From", "value": "=?UTF-8?B?SMOpbMOobmU=?= <helene@client.ca>"},
                {"name": "To", "value": "team@agency.example, bob@agency.example"},
                {"name": "Subject", "value": "=?UTF-8?Q?R=C3=A9union?="},
                {"name": "Message-ID", "value": "<abc@client.ca>"},
                {"name": "References", "value": "<r1@x> <r2@x>"},
            ]
        },
    }
    s = summary_of(m, NOW)
    assert (s.from_name, s.from_email, s.subject) == ("Hélène", "helene@client.ca", "Réunion")
    assert s.to == ("team@agency.example", "bob@agency.example")
    assert (s.message_id, s.references) == ("abc@client.ca", ("r1@x", "r2@x"))
    assert s.received_at == datetime(2026, 3, 4, 14, 0, tzinfo=UTC) and not s.problems
    assert s.preview == "It's <urgent>" and s.label_ids == {"INBOX", "Label_3"}


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("internalDate", "soon", "arrival time is unreadable"),
        ("internalDate", str(10**17), "arrival time is unreadable"),
        ("internalDate", str(int(NOW.timestamp() * 1000) + 10**10), "dated in the future"),
        ("labelIds", "INBOX", "labels are unreadable"),
        ("threadId", 7, "thread id is unreadable"),
    ],
)
def test_a_damaged_field_is_a_problem_of_that_message_only(
    field: str, value: object, problem: str
) -> None:
    m = {
        "id": "m1",
        "threadId": "t1",
        "labelIds": ["INBOX"],
        "internalDate": "0",
        "payload": {"headers": []},
        field: value,
    }
    s = summary_of(m, NOW, thread_hint="t1")
    assert any(problem in p for p in s.problems) and s.thread_id == "t1"
    if field == "labelIds":
        assert not s.labels_known  # kept in the watched label: it stays visible


def test_plain_text_is_preferred_and_html_is_read_when_alone() -> None:
    both = {
        "payload": {
            "mimeType": "multipart/alternative",
            "parts": [part("text/plain", b"Plain words."), part("text/html", b"<p>Rich</p>")],
        }
    }
    assert body_of(both) == ("Plain words.", ())
    html_only = {"payload": part("text/html", b"<p>Hi <b>team</b></p><img src='x'>")}
    assert "Hi team" in body_of(html_only)[0] and "<" not in body_of(html_only)[0]


def test_poison_parts_are_warnings_not_crashes() -> None:
    broken = {"mimeType": "text/plain", "body": {"data": "!!!not base64"}}
    latin = part("text/plain", "Réponse".encode("latin-1"), charset="utf-8")
    unknown = part("text/plain", b"hello", charset="x-klingon")
    attachment = part("text/plain", b"secret", filename="notes.txt")
    big = {"mimeType": "text/plain", "body": {"attachmentId": "A1", "size": 9_000_000}}
    text, warnings = body_of(
        {
            "payload": {
                "mimeType": "multipart/mixed",
                "parts": [broken, latin, unknown, attachment, big],
            }
        }
    )
    assert "R\ufffdponse" in text and "hello" in text and "secret" not in text
    assert any("broken character set" in w for w in warnings)
    assert any("unknown character set" in w for w in warnings)
    assert any("too large" in w for w in warnings) and any("damaged" in w for w in warnings)


def test_a_tree_nested_without_end_is_cut_not_followed() -> None:
    node: dict[str, object] = part("text/plain", b"deep")
    for _ in range(5000):
        node = {"mimeType": "multipart/mixed", "parts": [node]}
    text, warnings = body_of({"payload": node})
    assert text == "" and any("too many parts" in w for w in warnings)


def test_a_huge_body_is_cut_with_a_warning() -> None:
    text, warnings = body_of({"payload": part("text/plain", b"x" * 3_000_000)})
    assert len(text) == 1_000_000 and any("long" in w for w in warnings)


@pytest.mark.parametrize("kind", list(MarkKind))
def test_every_mark_kind_round_trips_through_a_label_name(kind: MarkKind) -> None:
    for value in ("", "alice", "team/a%b"):
        mark = Mark(kind, value)
        assert label_name(mark).startswith(f"triage/{kind.value}")
        assert mark_of(label_name(mark)) == mark


def test_labels_that_are_not_triage_marks_are_ignored() -> None:
    assert mark_of("triage/owner/alice") == Mark(MarkKind.OWNER, "alice")
    for name in ("INBOX", "Triage Notes", "triage/someday-kind", "triage/owner/a/b", "clients"):
        assert mark_of(name) is None


async def test_the_pacer_waits_only_when_the_minute_s_units_are_spent() -> None:
    now = [0.0]
    waits: list[float] = []

    async def sleep(s: float) -> None:
        waits.append(s)
        now[0] += s

    pacer = QuotaPacer(600, monotonic=lambda: now[0], sleep=sleep)  # 10 units a second
    for _ in range(60):
        await pacer.spend(10)
    assert waits == []
    await pacer.spend(100)
    assert waits == [pytest.approx(10.0)]
    now[0] += 60
    await pacer.spend(500)
    assert len(waits) == 1
