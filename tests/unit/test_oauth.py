"""OAuth for a terminal: the device flow, PKCE on a loopback port, refresh, the token store
and the token source.

The authorization server is the Graph fake's (Microsoft's v2.0 endpoints as documented),
in process; what the fake does not do (`slow_down`, a server error) is a scripted
server. The device flow's waits are recorded, never slept; the PKCE redirect really
goes to a listener on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.graph_fake import CLIENT_ID, GraphFake
from triage.clock import FrozenClock
from triage.providers.base import AuthError, ProviderError
from triage.providers.oauth import (
    DEFAULT_LOGIN_PORT,
    Endpoints,
    LoginError,
    OAuthRefused,
    Tokens,
    TokenSource,
    TokenStore,
    device_login,
    login_port,
    pkce_login,
    refresh,
)

T = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
ALICE = "alice@agency.example"
SCOPES = ("offline_access", "https://graph.microsoft.com/Mail.ReadWrite.Shared")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T)


@pytest.fixture
def fake(clock: FrozenClock) -> GraphFake:
    fake = GraphFake(clock)
    fake.add_user(ALICE)
    fake.identity.browser_user = ALICE
    return fake


def endpoints(fake: GraphFake, tenant: str = "agency.example") -> Endpoints:
    base = f"{fake.login_url}/{tenant}/oauth2/v2.0"
    return Endpoints(CLIENT_ID, f"{base}/token", SCOPES, device_url=f"{base}/devicecode",
                     authorize_url=f"{base}/authorize")  # fmt: skip


@pytest.fixture
async def client(fake: GraphFake) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=fake.transport()) as c:
        yield c


def code_in(lines: list[str]) -> str:
    found = re.search(r"enter the code (\w+)", " ".join(lines))
    assert found, lines
    return found.group(1)


def scripted(answers: dict[str, list[tuple[int, dict[str, Any]]]]) -> httpx.MockTransport:
    """A server answering each path's requests from its list, in order."""

    def handle(request: httpx.Request) -> httpx.Response:
        status, body = answers[request.url.path].pop(0)
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handle)


# -- the device flow ----------------------------------------------------------------------


async def test_the_device_flow_signs_in_once_the_user_has_entered_the_code(
    fake: GraphFake, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    said: list[str] = []
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:  # the user needs a moment: two polls find the sign-in pending
            fake.identity.approve(code_in(said), ALICE)

    tokens = await device_login(client, endpoints(fake), say=said.append, clock=clock, sleep=sleep)

    assert f"{fake.base}/devicelogin" in said[0]
    assert waits == [1, 1, 1] and fake.identity.polls == 3
    grant = fake.identity.who(tokens.access_token)
    assert grant is not None and grant.user == ALICE
    assert tokens.expires_at == T + timedelta(hours=1) and tokens.refresh_token


async def test_slow_down_lengthens_the_interval_by_five_seconds(clock: FrozenClock) -> None:
    transport = scripted({
        "/t/devicecode": [(200, {"device_code": "d", "user_code": "U", "interval": 2,
                                 "verification_uri": "https://x.test/dev", "expires_in": 60})],
        "/t/token": [(400, {"error": "slow_down"}), (400, {"error": "authorization_pending"}),
                     (200, {"access_token": "a", "refresh_token": "r", "expires_in": 60})],
    })  # fmt: skip
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    ep = Endpoints("c", "https://x.test/t/token", SCOPES, device_url="https://x.test/t/devicecode")
    async with httpx.AsyncClient(transport=transport) as c:
        tokens = await device_login(c, ep, say=lambda _: None, clock=clock, sleep=sleep)
    assert waits == [2, 7, 7] and tokens.access_token == "a"


async def test_a_code_nobody_enters_runs_out_and_says_to_log_in_again(clock: FrozenClock) -> None:
    pending = (400, {"error": "authorization_pending"})
    transport = scripted({
        "/t/devicecode": [(200, {"device_code": "d", "user_code": "U", "interval": 5,
                                 "verification_uri": "https://x.test/dev", "expires_in": 12})],
        "/t/token": [pending, pending, pending, pending],
    })  # fmt: skip

    async def sleep(seconds: float) -> None:
        pass

    ep = Endpoints("c", "https://x.test/t/token", SCOPES, device_url="https://x.test/t/devicecode")
    async with httpx.AsyncClient(transport=transport) as c:
        with pytest.raises(LoginError, match=r"expired.*triage login"):
            await device_login(c, ep, say=lambda _: None, clock=clock, sleep=sleep)


@pytest.mark.parametrize("how", ["declined", "expired"])
async def test_a_declined_or_expired_sign_in_stops_polling(
    fake: GraphFake, client: httpx.AsyncClient, clock: FrozenClock, how: str
) -> None:
    said: list[str] = []

    async def sleep(seconds: float) -> None:
        if how == "declined":
            fake.identity.decline(code_in(said))
        else:
            clock.advance(timedelta(minutes=16))

    with pytest.raises(OAuthRefused) as refused:
        await device_login(client, endpoints(fake), say=said.append, clock=clock, sleep=sleep)
    assert refused.value.error == ("authorization_declined" if how == "declined" else
                                   "expired_token")  # fmt: skip
    assert fake.identity.polls == 1


async def test_a_refused_device_request_is_an_oauth_refusal_with_its_codes(
    fake: GraphFake, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    with pytest.raises(OAuthRefused) as refused:
        await device_login(client, endpoints(fake, tenant="nowhere.example"),
                           say=lambda _: None, clock=clock)  # fmt: skip
    assert refused.value.codes == (90002,) and "Tenant 'nowhere.example' not found" in str(
        refused.value
    )


# -- PKCE on a loopback port ----------------------------------------------------------------


async def browse(fake: GraphFake, said: list[str], *, state: str | None = None) -> httpx.Response:
    """The user's browser: open the printed address, follow the redirect to 127.0.0.1."""
    for _ in range(500):
        urls = [u for s in said for u in re.findall(r"https?://\S+/authorize\?\S+", s)]
        if urls:
            break
        await asyncio.sleep(0.01)
    async with httpx.AsyncClient(transport=fake.transport()) as c:
        redirect = (await c.get(urls[0])).headers["location"]
    if state is not None:
        redirect = re.sub(r"state=[^&]+", f"state={state}", redirect)
    async with httpx.AsyncClient() as loopback:
        return await loopback.get(redirect)


async def test_pkce_signs_in_through_the_browser_and_says_how_to_forward_the_port(
    fake: GraphFake, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    said: list[str] = []
    browser = asyncio.create_task(browse(fake, said))

    tokens = await pkce_login(client, endpoints(fake), say=said.append, clock=clock, port=0)

    page = await browser
    assert page.status_code == 200 and "Signed in" in page.text
    port = re.search(r"127\.0\.0\.1%3A(\d+)", said[0])
    assert port, said
    assert f"ssh -L {port.group(1)}:127.0.0.1:{port.group(1)}" in said[1]
    assert "code_challenge_method=S256" in said[0] and "code_verifier" not in said[0]
    grant = fake.identity.who(tokens.access_token)
    assert grant is not None and grant.user == ALICE


async def test_a_redirect_with_another_state_is_ignored(
    fake: GraphFake, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    said: list[str] = []
    forged = asyncio.create_task(browse(fake, said, state="forged"))
    with pytest.raises(LoginError, match="no answer from the browser"):
        await pkce_login(client, endpoints(fake), say=said.append, clock=clock, timeout=0.5)
    assert (await forged).status_code == 404


async def test_a_refusal_in_the_browser_ends_the_sign_in(
    fake: GraphFake, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    fake.identity.consented = False
    said: list[str] = []
    browser = asyncio.create_task(browse(fake, said))
    with pytest.raises(OAuthRefused, match=r"consent_required.*AADSTS65001"):
        await pkce_login(client, endpoints(fake), say=said.append, clock=clock)
    assert "failed" in (await browser).text


async def test_a_port_in_use_names_the_variable_that_picks_another(
    fake: GraphFake, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(LoginError, match=f"127.0.0.1:{port}.*TRIAGE_LOGIN_PORT"):
            await pkce_login(client, endpoints(fake), say=lambda _: None, clock=clock, port=port)


@pytest.mark.parametrize(("value", "port"), [("", DEFAULT_LOGIN_PORT), ("0", 0), ("8765", 8765)])
def test_the_login_port_comes_from_the_environment(value: str, port: int) -> None:
    assert login_port({"TRIAGE_LOGIN_PORT": value} if value else {}) == port


@pytest.mark.parametrize("value", ["http", "-1", "70000"])
def test_a_login_port_that_is_not_one_is_refused(value: str) -> None:
    with pytest.raises(LoginError, match="TRIAGE_LOGIN_PORT"):
        login_port({"TRIAGE_LOGIN_PORT": value})


# -- refresh ---------------------------------------------------------------------------------


def issued(fake: GraphFake, clock: FrozenClock, minutes: int = 60) -> Tokens:
    answer = fake.identity.issue(ALICE)
    return Tokens(answer["access_token"], answer["refresh_token"],
                  clock.now() + timedelta(minutes=minutes))  # fmt: skip


async def test_refresh_gives_new_tokens(
    fake: GraphFake, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    old = issued(fake, clock)
    new = await refresh(client, endpoints(fake), old, clock)
    assert new.access_token != old.access_token and new.refresh_token != old.refresh_token
    assert fake.identity.who(new.access_token) is not None


async def test_a_refresh_without_a_new_refresh_token_keeps_the_old_one(clock: FrozenClock) -> None:
    transport = scripted({"/t/token": [(200, {"access_token": "a2", "expires_in": 60})]})
    ep = Endpoints("c", "https://x.test/t/token", SCOPES)
    async with httpx.AsyncClient(transport=transport) as c:
        new = await refresh(c, ep, Tokens("a1", "keep-me", T), clock)
    assert (new.access_token, new.refresh_token) == ("a2", "keep-me")


async def test_a_revoked_refresh_token_says_run_triage_login_and_is_not_retried(
    fake: GraphFake, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    old = issued(fake, clock)
    fake.identity.revoke(ALICE)
    with pytest.raises(AuthError) as refused:
        await refresh(client, endpoints(fake), old, clock)
    text = str(refused.value)
    assert "run `triage login`" in text and "invalid_grant" in text and "AADSTS50173" in text
    assert old.refresh_token not in text and old.access_token not in text
    assert fake.identity.refreshes == 1


async def test_a_server_error_on_refresh_is_not_a_call_to_sign_in_again(clock: FrozenClock) -> None:
    transport = scripted({"/t/token": [(503, {"error": "temporarily_unavailable"})]})
    ep = Endpoints("c", "https://x.test/t/token", SCOPES)
    async with httpx.AsyncClient(transport=transport) as c:
        with pytest.raises(ProviderError) as failed:
            await refresh(c, ep, Tokens("a", "r", T), clock)
    assert not isinstance(failed.value, AuthError)


# -- the token store ---------------------------------------------------------------------------


def test_the_store_writes_0600_json_and_reads_it_back(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "new-dir" / "graph-token.json")
    tokens = Tokens("access-secret", "refresh-secret", T, "Mail.ReadWrite.Shared")
    store.save(tokens)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    assert json.loads(store.path.read_text())["refresh_token"] == "refresh-secret"
    assert store.load() == tokens
    assert "secret" not in repr(tokens) and "secret" not in repr(store.load())
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["graph-token.json"]


def test_a_failed_save_keeps_the_old_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = TokenStore(tmp_path / "graph-token.json")
    store.save(Tokens("a1", "r1", T))

    def broken(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        store.save(Tokens("a2", "r2", T))
    monkeypatch.undo()
    assert store.load().access_token == "a1"
    assert [p.name for p in tmp_path.iterdir()] == ["graph-token.json"]


def test_a_store_others_can_read_is_refused_with_the_fix(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "graph-token.json")
    store.save(Tokens("a1", "r1", T))
    store.path.chmod(0o640)
    with pytest.raises(AuthError, match=r"too open.*chmod 600"):
        store.load()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_store_owned_by_someone_else_is_refused(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "graph-token.json")
    store.save(Tokens("a1", "r1", T))
    os.chown(store.path, 65534, 65534)
    with pytest.raises(AuthError, match="not owned by you"):
        store.load()


@pytest.mark.parametrize("content", [None, "not json", '{"access_token": "a"}'])
def test_no_store_or_a_broken_one_says_run_triage_login(
    tmp_path: Path, content: str | None
) -> None:
    store = TokenStore(tmp_path / "graph-token.json")
    if content is not None:
        store.path.write_text(content)
        store.path.chmod(0o600)
    with pytest.raises(AuthError, match="run `triage login`"):
        store.load()


# -- the token source ---------------------------------------------------------------------------


def source(fake: GraphFake, store: TokenStore, clock: FrozenClock) -> TokenSource:
    return TokenSource(store, endpoints(fake), clock=clock, transport=fake.transport())


@pytest.mark.parametrize(("minutes_left", "refreshed"), [(30, 0), (4, 1), (-5, 1)])
async def test_the_token_is_refreshed_a_few_minutes_before_it_expires(
    fake: GraphFake, clock: FrozenClock, tmp_path: Path, minutes_left: int, refreshed: int
) -> None:
    store = TokenStore(tmp_path / "t.json")
    store.save(issued(fake, clock, minutes_left))
    tokens = source(fake, store, clock)
    token = await tokens.token()
    await tokens.aclose()
    assert fake.identity.refreshes == refreshed and fake.identity.who(token) is not None
    assert store.load().access_token == token  # a refreshed token is kept for next time


async def test_requests_at_once_share_one_refresh(
    fake: GraphFake, clock: FrozenClock, tmp_path: Path
) -> None:
    store = TokenStore(tmp_path / "t.json")
    store.save(issued(fake, clock, minutes=1))
    tokens = source(fake, store, clock)
    got = await asyncio.gather(*(tokens.token() for _ in range(10)))
    await tokens.aclose()
    assert len(set(got)) == 1 and fake.identity.refreshes == 1


async def test_a_refused_token_is_renewed_once_even_when_many_saw_it_refused(
    fake: GraphFake, clock: FrozenClock, tmp_path: Path
) -> None:
    store = TokenStore(tmp_path / "t.json")
    store.save(issued(fake, clock))
    tokens = source(fake, store, clock)
    first = await tokens.token()
    renewed = await asyncio.gather(*(tokens.renew(first) for _ in range(5)))
    await tokens.aclose()
    assert fake.identity.refreshes == 1 and set(renewed) == {renewed[0]} != {first}


async def test_a_console_reuses_the_refresh_another_console_just_stored(
    fake: GraphFake, clock: FrozenClock, tmp_path: Path
) -> None:
    store = TokenStore(tmp_path / "t.json")
    store.save(issued(fake, clock))
    mine, theirs = source(fake, store, clock), source(fake, TokenStore(store.path), clock)
    old = await mine.token()
    assert await theirs.token() == old
    new = await theirs.renew(old)
    assert await mine.renew(old) == new
    await mine.aclose()
    await theirs.aclose()
    assert fake.identity.refreshes == 1
