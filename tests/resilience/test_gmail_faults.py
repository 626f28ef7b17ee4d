"""The Gmail provider's failure paths, against the in-repo Gmail fake (not a live account).

A history id Gmail no longer has, the rate limit and the per-user quota, paging,
a token that expires mid-sync (renewed for a service account, named for a bearer
token), a label a colleague created meanwhile, a send whose answer is lost (found
again by Message-ID, even when search lags), and the errors whose fix triage names:
a token without the Gmail scope, the API not enabled, a mailbox not delegated.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.contract.backends import message
from tests.contract.conftest import DEMO_NOW
from tests.contract.gmail_backend import GmailBackend
from tests.support.gmail_auth import ServiceAccountKey
from triage.clock import FrozenClock
from triage.domain.model import DONE, ESCALATED, SNOOZED
from triage.domain.settings import ProviderConfig
from triage.providers.base import AuthError, OutgoingReply, ProviderError, UnclearOutcome
from triage.providers.gmail import GmailProvider, connect_provider
from triage.providers.gmail.auth import BearerToken, TokenSource, load_service_account
from triage.providers.gmail.errors import SCOPE
from triage.providers.gmail.http import GmailHttp
from triage.service.core import TriageService

USER = "team@agency.example"


class Sleeps:
    """An injected sleep: records each wait, and may let a quota minute pass."""

    def __init__(self, on_sleep: object = None) -> None:
        self.waits: list[float] = []
        self.on_sleep = on_sleep

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if callable(self.on_sleep):
            self.on_sleep()


@pytest.fixture
def backend() -> GmailBackend:
    return GmailBackend(FrozenClock(DEMO_NOW))


def provider(
    b: GmailBackend,
    tokens: TokenSource | None = None,
    sleep: Sleeps | None = None,
    user: str = USER,
) -> GmailProvider:
    tokens = tokens or BearerToken(b.token, "provider.token_env")
    http = GmailHttp(
        "https://gmail.fake.invalid",
        user,
        tokens,
        transport=b.fake.transport(),
        sleep=sleep or Sleeps(),
        clock=b.clock,
    )
    return GmailProvider(http, clock=b.clock)


def client_mail(b: GmailBackend, subject: str, minutes: int = 30) -> None:
    b.deliver(
        "Wile Coyote",
        "wile@acme.test",
        subject,
        "A question.",
        message_id=f"{subject.replace(' ', '-')}@acme.test",
        at=b.clock.now() - timedelta(minutes=minutes),
    )


@pytest.fixture
async def alice(backend: GmailBackend, tmp_path: Path) -> AsyncIterator[TriageService]:
    service = backend.service(tmp_path, "alice")
    yield service
    await service.close()


async def test_an_expired_history_id_means_a_full_sync_keeping_shared_state_and_drafts(
    backend: GmailBackend, alice: TriageService
) -> None:
    client_mail(backend, "Rocket sled")
    await alice.sync()
    [conv] = list(alice.queue_view())
    await alice.escalate(conv.thread_id, "third time asking")
    draft = alice.save_draft(conv.thread_id, "Working on it.\n")
    backend.fake.store.forget_history()

    result = await alice.sync()

    assert result.full and result.removed == ()
    assert backend.fake.routes("history") == 1  # asked, refused with 404, then the full sync
    [again] = list(alice.queue_view())
    assert again.escalated and again.escalation_reason == "third time asking"
    assert [d.body for d in alice.outbox.drafts()] == [draft.body]
    assert (await alice.send_reply(draft.id)).status == "sent"


async def test_rate_limit_answers_are_waited_out_as_google_says(backend: GmailBackend) -> None:
    client_mail(backend, "Anvils")
    backend.fake.fail_next(429, "rateLimitExceeded", retry_after="7", only="threads")
    backend.fake.fail_next(403, "userRateLimitExceeded", only="thread")
    sleeps = Sleeps()
    p = provider(backend, sleep=sleeps)

    snap = await p.full_sync()

    assert [t.messages[0].subject for t in snap.threads] == ["Anvils"]
    assert sleeps.waits[0] == 7.0 and len(sleeps.waits) == 2  # Retry-After, then a backoff
    assert backend.fake.routes("threads") == 2 and backend.fake.routes("thread") == 2
    await p.aclose()


async def test_a_write_refused_for_the_rate_limit_is_retried_but_a_failed_send_is_not(
    backend: GmailBackend,
) -> None:
    p = provider(backend)
    await p.connect()
    reply = OutgoingReply(
        "<r1.123@agency.example>", "Alice", USER, ("wile@acme.test",), (), "Hello", "Hi.", "", ()
    )
    backend.fake.fail_next(429, "rateLimitExceeded", only="send")
    await p.send(reply)  # refused before it was applied: sent on the retry
    assert len(backend.fake.sent) == 1
    backend.fake.fail_next(500, "backendError", only="send")
    with pytest.raises(UnclearOutcome):
        await p.send(reply)  # a 500 may have been applied: never sent blindly again
    assert backend.fake.routes("send") == 3
    await p.aclose()


async def test_the_quota_is_respected_with_backoff(backend: GmailBackend) -> None:
    for n in range(6):
        client_mail(backend, f"Order {n}", minutes=40 - n)
    backend.fake.quota_per_minute = 40  # a few threads.get a "minute"
    sleeps = Sleeps(on_sleep=backend.fake.reset_quota)
    p = provider(backend, sleep=sleeps)

    snap = await p.full_sync()

    assert len(snap.threads) == 6 and sleeps.waits  # waited instead of failing
    await p.aclose()


async def test_lists_are_read_page_by_page(backend: GmailBackend) -> None:
    for n in range(5):
        client_mail(backend, f"Page {n}", minutes=50 - n)
    backend.fake.page_size = 2
    p = provider(backend)

    snap = await p.full_sync()
    assert len(snap.threads) == 5 and backend.fake.routes("threads") == 3
    for n in range(5, 8):
        client_mail(backend, f"Page {n}", minutes=10 - n)
    delta = await p.changes(snap.state, {})
    assert len(delta.threads) == 3 and backend.fake.routes("history") == 2
    await p.aclose()


def service_account(b: GmailBackend, tmp_path: Path, delegated: bool = True) -> TokenSource:
    key = ServiceAccountKey(delegated={SCOPE} if delegated else set())
    b.fake.accounts[key.email] = key
    path = key.write(tmp_path / "sa.json", "https://gmail.fake.invalid/token")
    return load_service_account(path, USER, "https://gmail.fake.invalid/token", b.clock)


async def test_a_service_account_token_that_expires_mid_sync_is_renewed(
    backend: GmailBackend, tmp_path: Path
) -> None:
    for n in range(3):
        client_mail(backend, f"Thread {n}", minutes=30 - n)
    tokens = service_account(backend, tmp_path)
    p = provider(backend, tokens)
    await p.connect()
    before = len(backend.fake.grants)
    backend.fake.expire_in = 3  # profile, threads.list, the batch's first threads.get: expired

    snap = await p.full_sync()

    assert len(snap.threads) == 3 and backend.fake.routes("batch") == 2
    assert backend.fake.routes("thread") == 5  # the two refused asked again
    assert len(backend.fake.grants) == before + 1  # renewed once, not once per request
    await p.aclose()


async def test_an_expired_bearer_token_names_where_it_came_from(backend: GmailBackend) -> None:
    p = provider(backend)
    await p.connect()
    backend.fake.expire_tokens()
    with pytest.raises(AuthError, match=r"provider\.token_env"):
        await p.full_sync()
    await p.aclose()


async def test_a_service_account_not_delegated_is_told_where_to_delegate(
    backend: GmailBackend, tmp_path: Path
) -> None:
    p = provider(backend, service_account(backend, tmp_path, delegated=False))
    with pytest.raises(AuthError, match="Domain-wide delegation") as e:
        await p.connect()
    assert "104220000000000000001" in str(e.value) and SCOPE in str(e.value)
    await p.aclose()


async def test_a_label_a_colleague_created_meanwhile_is_used_not_duplicated(
    backend: GmailBackend,
) -> None:
    client_mail(backend, "Clash")
    p = provider(backend)
    [thread] = (await p.full_sync()).threads
    backend.fake.store.create_label("triage/escalated")  # another console, just now
    ref = type("Ref", (), {"thread_id": thread.thread_id})()

    await p.set_marks(ref, {ESCALATED: True})  # type: ignore[arg-type]

    names = [x["name"] for x in backend.fake.store.labels.values()]
    assert names.count("triage/escalated") == 1 and backend.fake.routes("labels+") == 1
    [again] = (await p.full_sync()).threads
    assert ESCALATED in again.messages[0].marks
    await p.aclose()


async def test_a_mark_a_colleague_set_since_we_read_the_labels_is_cleared(
    backend: GmailBackend,
) -> None:
    client_mail(backend, "Fresh label")
    p = provider(backend)
    [thread] = (await p.full_sync()).threads
    # another console marks it done, with a label it creates; we have not synced since
    label = backend.fake.store.create_label("triage/done")
    backend.fake.store.modify([m.id for m in thread.messages], [label["id"]], [])
    ref = type("Ref", (), {"thread_id": thread.thread_id})()

    await p.set_marks(ref, {DONE: False})  # type: ignore[arg-type]

    [again] = (await p.full_sync()).threads
    assert DONE not in again.messages[0].marks
    lists = backend.fake.routes("labels")
    for _ in range(3):  # a label nobody made: looked for once, not on every write
        await p.set_marks(ref, {SNOOZED: False})  # type: ignore[arg-type]
    assert backend.fake.routes("labels") == lists + 1
    assert backend.fake.routes("modify") == 1
    await p.aclose()


@pytest.mark.parametrize(
    ("setup", "error", "fix"),
    [
        ("readonly", AuthError, SCOPE),
        ("disabled", ProviderError, "Gmail API is not enabled in the Google Cloud project"),
        ("other-user", AuthError, "mail delegation set up in Gmail's settings"),
    ],
)
async def test_errors_name_their_fix(
    backend: GmailBackend, setup: str, error: type[Exception], fix: str
) -> None:
    client_mail(backend, "Needs a fix")
    token = backend.token
    if setup == "readonly":
        token = backend.fake.token({"https://www.googleapis.com/auth/gmail.readonly"})
    backend.fake.api_disabled = setup == "disabled"
    user = "ceo@agency.example" if setup == "other-user" else USER
    p = provider(backend, BearerToken(token, "provider.token_file"), user=user)
    with pytest.raises(error, match=fix.replace(".", r"\.")):
        snap = await p.full_sync()
        await p.set_marks(
            type("R", (), {"thread_id": snap.threads[0].thread_id})(),  # type: ignore[arg-type]
            {ESCALATED: True},
        )
    await p.aclose()


async def test_a_reply_whose_answer_was_lost_is_found_and_not_sent_again(
    backend: GmailBackend, alice: TriageService
) -> None:
    client_mail(backend, "Launch")
    await alice.sync()
    [conv] = list(alice.queue_view())
    draft = alice.save_draft(conv.thread_id, "Monday.\n")
    backend.fake.drop_send_answer = 1
    backend.fake.search_indexed = False  # and search has not caught up with it yet

    first = await alice.send_reply(draft.id)
    assert first.status == "unclear" and len(backend.fake.sent) == 1
    again = await alice.send_reply(draft.id)

    assert again.status == "sent" and len(backend.fake.sent) == 1
    [sent] = backend.sent()
    assert sent.message_id == first.message_id.strip("<>")
    stored = backend.fake.store
    [reply] = [m for m in stored.messages.values() if "SENT" in m.labels]
    assert reply.thread_id == conv.thread_id  # filed in the client's thread
    assert sent.in_reply_to == "Launch@acme.test" and sent.subject == "Re: Launch"


async def test_a_reply_found_by_its_message_id_search(backend: GmailBackend) -> None:
    p = provider(backend)
    await p.connect()
    mid = "found.1700000000000.abc@agency.example"
    raw = message(
        "Alice",
        USER,
        ["wile@acme.test"],
        "Re: x",
        "Hi.",
        [],
        mid,
        None,
        [],
        backend.clock.now(),
        False,
    )
    backend.fake.store.add(raw, {"SENT"})
    found = await p.find_sent(f"<{mid}>")
    assert found is not None and found.state == "sent"
    assert await p.find_sent("<never.1700000000000.x@agency.example>") is None
    await p.aclose()


def test_the_gmail_provider_is_imported_only_for_kind_gmail() -> None:
    import subprocess
    import sys

    code = (
        "import sys, triage.service.core, triage.cli, triage.providers.base; "
        "print('triage.providers.gmail' in sys.modules, 'cryptography' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "False"], out.stderr


def test_open_provider_reads_the_bearer_token_like_jmap(tmp_path: Path) -> None:
    from triage.clock import SystemClock
    from triage.config import SecretError
    from triage.providers.base import open_provider

    token = tmp_path / "token"
    token.write_text("ya29.secret\n")
    token.chmod(0o644)
    settings = ProviderConfig(kind="gmail", user=USER, token_file=token, api_url="http://x")
    with pytest.raises(SecretError, match="chmod 600"):
        open_provider(settings, env={}, clock=SystemClock())
    token.chmod(0o600)
    p = open_provider(settings, env={}, clock=SystemClock())
    assert isinstance(p, GmailProvider) and "ya29" not in repr(p.http.tokens)
    assert connect_provider is not None


async def test_reads_are_batched_and_only_the_refused_calls_asked_again(
    backend: GmailBackend,
) -> None:
    for n in range(120):
        client_mail(backend, f"Batch {n}", minutes=200 - n)
    p = provider(backend)
    await p.connect()
    backend.fake.fail_next(429, "rateLimitExceeded", only="thread", retry_after="2")

    snap = await p.full_sync()

    assert len(snap.threads) == 120
    assert backend.fake.routes("batch") == 4  # 50 + 50 + 20, then the one refused call
    assert backend.fake.routes("thread") == 121
    await p.aclose()


async def test_a_batch_answer_too_large_is_asked_again_in_halves(
    backend: GmailBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    import triage.providers.gmail.http as gmail_http

    for n in range(8):
        backend.deliver(
            "Wile Coyote",
            "wile@acme.test",
            f"Long {n}",
            "x" * 4000,
            at=backend.clock.now() - timedelta(minutes=30 - n),
        )
    p = provider(backend)
    ids = [t.messages[0].id for t in (await p.full_sync()).threads]
    monkeypatch.setattr(gmail_http, "MAX_RESPONSE_BYTES", 12_000)

    got = await p.messages(ids)

    assert [len(m.body.strip()) for m in got] == [4000] * 8
    assert backend.fake.routes("batch") > 2  # split until the answers fit
    await p.aclose()


async def test_a_label_id_gmail_does_not_list_is_looked_up_once(backend: GmailBackend) -> None:
    client_mail(backend, "Odd label")
    [m] = backend.fake.store.messages.values()
    m.labels.add("CATEGORY_UNLISTED")  # on the message, absent from labels.list
    p = provider(backend)
    snap = await p.full_sync()
    lists = backend.fake.routes("labels")
    client_mail(backend, "Later")
    await p.changes(snap.state, {m.id: m.thread_id})
    await p.full_sync()
    assert backend.fake.routes("labels") == lists  # not read again for the same unknown id
    await p.aclose()


async def test_a_note_on_a_thread_whose_subject_hides_line_breaks_stays_one_message(
    backend: GmailBackend, alice: TriageService
) -> None:
    raw = (
        b"From: Mallory <mallory@acme.test>\r\nTo: team@agency.example\r\n"
        b"Subject: =?UTF-8?Q?Hi=0D=0ABcc:_everyone@agency.example?=\r\n"
        b"Message-ID: <evil@acme.test>\r\nDate: Wed, 04 Mar 2026 14:55:00 +0000\r\n\r\nx\r\n"
    )
    backend.fake.store.add(raw, {"INBOX"}, at_ms=int(backend.clock.now().timestamp() * 1000))
    await alice.sync()
    [conv] = list(alice.queue_view())
    assert "\n" in conv.subject  # decoded as it came: made inert above the provider

    await alice.escalate(conv.thread_id, "suspicious")

    [note] = backend.fake.store.thread_messages(conv.thread_id)[1:]
    assert note.parsed["Bcc"] is None and "Bcc: everyone" in str(note.parsed["Subject"])


def test_a_service_account_key_others_can_read_is_refused(
    backend: GmailBackend, tmp_path: Path
) -> None:
    from triage.config import SecretError

    key = ServiceAccountKey(delegated={SCOPE})
    path = key.write(tmp_path / "sa.json", "https://gmail.fake.invalid/token")
    path.chmod(0o644)
    with pytest.raises(SecretError, match="chmod 600") as e:
        load_service_account(path, USER, "https://gmail.fake.invalid/token", backend.clock)
    assert "PRIVATE KEY" not in str(e.value)
    path.write_text('{"type": "authorized_user"}')
    path.chmod(0o600)
    with pytest.raises(SecretError, match="not a service account's JSON key"):
        load_service_account(path, USER, "https://gmail.fake.invalid/token", backend.clock)
