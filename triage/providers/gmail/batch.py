"""Many Gmail reads in few HTTP requests: Google's batch endpoint (`/batch/gmail/v1`).

A batch is one `multipart/mixed` POST whose parts are whole HTTP requests
(`Content-ID: <itemN>`); the answer holds one HTTP response per part
(`Content-ID: <response-itemN>`), in any order. Batching saves round trips, not
quota: each call costs its units, so the pacer is charged for all of them.
Google allows 100 calls a batch and advises staying under 50. Each part is
judged on its own: answered, not found (None), or to be asked again (rate
limited, a server error, an expired token) in the next, smaller round.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Sequence
from email import message_from_bytes
from email.message import Message
from typing import Any

import httpx

from triage.providers.base import ProviderError
from triage.providers.common import Undecodable, decode_json
from triage.providers.gmail.http import (
    AnswerTooLarge,
    Expired,
    GmailHttp,
    Json,
    NotFound,
    Params,
    Retry,
    Wire,
    query_params,
)

BATCH = 50
_ITEM = re.compile(r"item(\d+)")
Call = tuple[str, Params]  # a path under the user, and its query


async def get_each(http: GmailHttp, calls: Sequence[Call], *, units: int) -> list[Json | None]:
    """GET every call, batched; each answer in order, None for what is not there (404)."""
    if len(calls) == 1:
        return [await _single(http, calls[0], units)]
    results: dict[int, Json | None] = {}
    pending = list(range(len(calls)))
    for attempt in range(1, http.retries + 2):
        groups = [pending[i : i + BATCH] for i in range(0, len(pending), BATCH)]
        outcomes = await asyncio.gather(*(_round(http, calls, g, units) for g in groups))
        again: list[int] = []
        problem: Retry | None = None
        for done, retry, failed in outcomes:
            results.update(done)
            again += retry
            problem = failed or problem
        if not again:
            return [results[i] for i in range(len(calls))]
        if attempt > http.retries:
            break
        await http.sleep(problem.delay if problem and problem.delay is not None
                         else http.backoff(attempt))  # fmt: skip
        pending = again
    raise (problem.error if problem else ProviderError("batch: Gmail left calls unanswered"))


async def _single(http: GmailHttp, call: Call, units: int) -> Json | None:
    try:
        return await http.get(call[0], call[1], units=units)
    except (NotFound, AnswerTooLarge, Undecodable):
        return None


Outcome = tuple[dict[int, Json | None], list[int], Retry | None]


async def _round(http: GmailHttp, calls: Sequence[Call], group: list[int], units: int) -> Outcome:
    """One batch request: the answers, the calls to ask again, and why."""
    boundary = f"batch_{uuid.uuid4().hex}"
    parts = [_part(http, boundary, i, calls[i]) for i in group]
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    wire = Wire("POST", f"{http.api_url}/batch/gmail/v1", None, body,
                f"multipart/mixed; boundary={boundary}")  # fmt: skip
    try:
        kind, data = await http.exchange(wire, units=units * len(group), idempotent=True)
    except AnswerTooLarge:
        if len(group) == 1:
            return {group[0]: None}, [], None  # this one cannot be had: shown as unreadable
        half = len(group) // 2
        a, b = await asyncio.gather(_round(http, calls, group[:half], units),
                                    _round(http, calls, group[half:], units))  # fmt: skip
        return {**a[0], **b[0]}, a[1] + b[1], a[2] or b[2]
    return await _judge(http, group, _responses(kind, data))


def _part(http: GmailHttp, boundary: str, n: int, call: Call) -> bytes:
    target = httpx.URL(http.base + call[0], params=query_params(call[1])).raw_path.decode("ascii")
    return (f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <item{n}>\r\n\r\n"
            f"GET {target} HTTP/1.1\r\n\r\n").encode()  # fmt: skip


async def _judge(http: GmailHttp, group: list[int], answers: dict[int, tuple[int, str, bytes]]
                 ) -> Outcome:  # fmt: skip
    done: dict[int, Json | None] = {}
    again: list[int] = []
    problem: Retry | None = None
    expired = False
    for i in group:
        if i not in answers:
            again.append(i)
            problem = problem or Retry(ProviderError("Gmail left a call of a batch unanswered"),
                                       left=False)  # fmt: skip
            continue
        status, retry_after, data = answers[i]
        try:
            http.check(status, retry_after or None, data)
            done[i] = _object(data)
        except NotFound:
            done[i] = None
        except Retry as e:
            again.append(i)
            problem = e
        except Expired:
            again.append(i)
            expired = True
    if expired:
        await http.renew()
    return done, again, problem


def _object(data: bytes) -> Json | None:
    try:
        answer: Any = decode_json(data)
    except Undecodable:
        return None
    return answer if isinstance(answer, dict) else None


def _responses(content_type: str, data: bytes) -> dict[int, tuple[int, str, bytes]]:
    """The batch answer's parts by call: (HTTP status, Retry-After, body)."""
    head = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n"
    outer = message_from_bytes(head + data)
    if not outer.is_multipart():
        raise ProviderError("batch: Gmail's answer is not a multipart answer")
    out: dict[int, tuple[int, str, bytes]] = {}
    for part in outer.get_payload():
        assert isinstance(part, Message)
        found = _ITEM.search(str(part.get("Content-ID", "")))
        payload = part.get_payload(decode=True)
        if found and isinstance(payload, bytes):
            out[int(found.group(1))] = _http_response(payload)
    return out


def _http_response(raw: bytes) -> tuple[int, str, bytes]:
    head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    lines = head.decode("latin-1").split("\n")
    words = lines[0].split()
    status = int(words[1]) if len(words) > 1 and words[1].isdigit() else 500
    heads = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
    retry_after = next((v.strip() for k, v in heads.items() if k.casefold() == "retry-after"), "")
    return status, retry_after, body
