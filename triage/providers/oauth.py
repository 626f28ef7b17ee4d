"""OAuth 2.0 for a terminal app: sign-in, refresh before expiry, and the token store.

Provider-neutral: the endpoints, the client id and the scopes are parameters
(`Endpoints`), so Microsoft 365's login (device flow first, PKCE where a policy
refuses device codes) and Google's (PKCE only) call the same code.

- `device_login`: the device authorization grant (RFC 8628). The user is told, through
  `say`, a URL to open on any device and a code to type there; the token endpoint is
  polled at the interval the server asks for (longer after `slow_down`).
- `pkce_login`: the authorization-code grant with PKCE (RFC 7636) on a loopback
  redirect (RFC 8252): we listen on 127.0.0.1:PORT, say the URL to open, and redeem
  the code with the verifier. Over SSH the browser runs on the user's own machine, so
  `say` also gives the `ssh -L PORT:127.0.0.1:PORT` line that carries the redirect
  back; `TRIAGE_LOGIN_PORT` picks the port (`login_port`).
- `refresh`: the refresh-token grant. A refresh token the server refuses (revoked,
  expired, consent withdrawn) is an AuthError saying to run `triage login`; it is
  never retried.
- `TokenStore`: the tokens as JSON in the token file: mode 0600, refused unless only
  its owner can read it (`triage.config.secrets`), replaced atomically.
- `TokenSource`: the access token requests carry, refreshed a few minutes before it
  expires and again when the server rejects it (a 401), one refresh at a time within
  this process and across the user's other consoles (a lock file beside the store).

Tokens, codes and verifiers are never logged, never put in an exception message and
never shown by a repr.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import hashlib
import json
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from triage.clock import Clock
from triage.config.secrets import SecretError, read_protected
from triage.providers.base import AuthError, OfflineError, ProviderError
from triage.text.isotime import iso, parse_iso

Say = Callable[[str], None]
Sleep = Callable[[float], Awaitable[None]]
Json = dict[str, Any]

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
LOGIN_PORT_ENV = "TRIAGE_LOGIN_PORT"
DEFAULT_LOGIN_PORT = 8400
LOCK_POLL = 0.05  # seconds between tries of the store's lock
REFRESH_MARGIN = timedelta(minutes=5)  # refresh this long before the access token expires
# Refresh-token refusals that a new sign-in fixes; anything else may pass by itself.
SIGN_IN_AGAIN = frozenset({"invalid_grant", "interaction_required", "consent_required",
                           "login_required", "invalid_client", "unauthorized_client"})  # fmt: skip


class LoginError(ProviderError):
    """A sign-in that could not be completed; the message says what to do."""


class OAuthRefused(ProviderError):
    """The authorization server answered with an OAuth error (`error`, and `codes` when
    the server numbers its errors, as Microsoft's AADSTS codes)."""

    def __init__(self, what: str, error: str, description: str, codes: tuple[int, ...]) -> None:
        first = description.strip().splitlines()[0][:200] if description.strip() else ""
        super().__init__(f"{what}: {error}" + (f" ({first})" if first else ""))
        self.error, self.codes, self.description = error, codes, first


@dataclass(frozen=True)
class Endpoints:
    """One OAuth client at one authorization server."""

    client_id: str
    token_url: str
    scopes: tuple[str, ...]
    device_url: str = ""  # the device authorization endpoint ("" when there is none)
    authorize_url: str = ""  # for the PKCE flow
    client_secret: str = field(default="", repr=False)  # Google's desktop clients have one
    authorize_params: tuple[tuple[str, str], ...] = ()  # extra ones (Google: access_type)


@dataclass(frozen=True)
class Tokens:
    """What a sign-in or a refresh gave; the secrets stay out of the repr."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    scope: str = ""

    def expiring(self, now: datetime, margin: timedelta = REFRESH_MARGIN) -> bool:
        return now >= self.expires_at - margin

    def as_json(self) -> Json:
        return {"access_token": self.access_token, "refresh_token": self.refresh_token,
                "expires_at": iso(self.expires_at), "scope": self.scope}  # fmt: skip


def login_port(env: Mapping[str, str]) -> int:
    """The loopback port of the PKCE flow: TRIAGE_LOGIN_PORT, else DEFAULT_LOGIN_PORT."""
    text = env.get(LOGIN_PORT_ENV, "").strip()
    if not text:
        return DEFAULT_LOGIN_PORT
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise LoginError(f"{LOGIN_PORT_ENV}={text!r} is not a port number (1-65535, 0: any)")
    return int(text)


# -- talking to the token endpoint ------------------------------------------------------


async def _post_form(client: httpx.AsyncClient, url: str, form: Mapping[str, str]) -> Json:
    """POST a form; the JSON answer with its status under "_status" (errors included)."""
    try:
        r = await client.post(url, data=dict(form), headers={"Accept": "application/json"})
    except httpx.TransportError as e:
        host = httpx.URL(url).host or url
        raise OfflineError(f"cannot reach {host}: {type(e).__name__}") from None
    try:
        data = r.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ProviderError(f"the sign-in server answered HTTP {r.status_code} without JSON")
    return {**data, "_status": r.status_code}


def _refusal(what: str, answer: Json) -> OAuthRefused:
    codes = answer.get("error_codes")
    numbers = tuple(c for c in codes if isinstance(c, int)) if isinstance(codes, list) else ()
    error = str(answer.get("error") or f"HTTP {answer.get('_status')}")
    return OAuthRefused(what, error, str(answer.get("error_description") or ""), numbers)


def _tokens_from(answer: Json, clock: Clock, keep_refresh: str = "") -> Tokens:
    access, refresh_token = answer.get("access_token"), answer.get("refresh_token") or keep_refresh
    if not isinstance(access, str) or not access:
        raise ProviderError("the sign-in server's answer has no access token")
    if not isinstance(refresh_token, str) or not refresh_token:
        raise LoginError("the sign-in gave no refresh token: the app registration must "
                         "allow offline_access (see the README)")  # fmt: skip
    lifetime = answer.get("expires_in")
    seconds = int(lifetime) if isinstance(lifetime, int | str) and str(lifetime).isdigit() else 3600
    return Tokens(access, refresh_token, clock.now() + timedelta(seconds=seconds),
                  str(answer.get("scope") or ""))  # fmt: skip


def _client_form(ep: Endpoints, **fields: str) -> dict[str, str]:
    form = {"client_id": ep.client_id, **fields}
    if ep.client_secret:
        form["client_secret"] = ep.client_secret
    return form


# -- the device authorization grant -----------------------------------------------------


async def device_login(
    client: httpx.AsyncClient, ep: Endpoints, *, say: Say, clock: Clock,
    sleep: Sleep = asyncio.sleep,
) -> Tokens:  # fmt: skip
    """Sign in with a code typed on any device. OAuthRefused when the server refuses the
    device flow itself (a caller may fall back to `pkce_login`) or the sign-in."""
    if not ep.device_url:
        raise LoginError("this provider offers no device sign-in")
    start = await _post_form(client, ep.device_url, _client_form(ep, scope=" ".join(ep.scopes)))
    if start["_status"] != 200 or not isinstance(start.get("device_code"), str):
        raise _refusal("the device sign-in was refused", start)
    say(f"To sign in, open {start.get('verification_uri') or start.get('verification_url')} "
        f"on any device and enter the code {start.get('user_code')}")  # fmt: skip
    return await _poll(client, ep, start, clock, sleep)


async def _poll(
    client: httpx.AsyncClient, ep: Endpoints, start: Json, clock: Clock, sleep: Sleep
) -> Tokens:
    interval = max(1, _int(start.get("interval"), 5))
    left = _int(start.get("expires_in"), 900)
    form = _client_form(ep, grant_type=DEVICE_GRANT, device_code=str(start["device_code"]))
    while left > 0:
        await sleep(interval)
        left -= interval
        answer = await _post_form(client, ep.token_url, form)
        if answer["_status"] == 200:
            return _tokens_from(answer, clock)
        if answer.get("error") == "authorization_pending":
            continue
        if answer.get("error") == "slow_down":
            interval += 5  # RFC 8628 section 3.5
            continue
        raise _refusal("the sign-in did not complete", answer)
    raise LoginError("the code expired before the sign-in was completed: run `triage login` again")


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and value >= 0 else default


# -- the authorization-code grant with PKCE on a loopback port ------------------------------


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


async def pkce_login(
    client: httpx.AsyncClient, ep: Endpoints, *, say: Say, clock: Clock, port: int = 0,
    timeout: float = 600.0,
) -> Tokens:  # fmt: skip
    """Sign in in a browser that sends the code back to 127.0.0.1:`port` (0: any port)."""
    verifier, state = secrets.token_urlsafe(64), secrets.token_urlsafe(24)
    async with _loopback(port) as listener:
        redirect = f"http://127.0.0.1:{listener.port}/"
        query = {"client_id": ep.client_id, "response_type": "code", "redirect_uri": redirect,
                 "response_mode": "query", "scope": " ".join(ep.scopes), "state": state,
                 "code_challenge": _challenge(verifier), "code_challenge_method": "S256",
                 **dict(ep.authorize_params)}  # fmt: skip
        say(f"Open this address in a browser:\n  {ep.authorize_url}?{urlencode(query)}")
        say(f"Over SSH, forward the port from your own machine first: "
            f"ssh -L {listener.port}:127.0.0.1:{listener.port} <this server>")  # fmt: skip
        code = await listener.code(state, timeout)
    form = _client_form(ep, grant_type="authorization_code", code=code, redirect_uri=redirect,
                        code_verifier=verifier)  # fmt: skip
    answer = await _post_form(client, ep.token_url, form)
    if answer["_status"] != 200:
        raise _refusal("the sign-in's code was refused", answer)
    return _tokens_from(answer, clock)


class _Listener:
    """The loopback redirect's one-shot HTTP server: the first answer carrying our
    `state` ends it (other requests, a favicon say, are answered and ignored)."""

    def __init__(self) -> None:
        self.port = 0
        self.state = ""
        self.result: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def code(self, state: str, timeout: float) -> str:
        self.state = state
        try:
            return await asyncio.wait_for(asyncio.shield(self.result), timeout)
        except TimeoutError:
            minutes = f"{timeout / 60:g} minutes"
            raise LoginError(f"no answer from the browser within {minutes}: run `triage login` "
                             "again (over SSH, forward the port as shown)") from None  # fmt: skip

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(10):
                head = await reader.readuntil(b"\r\n\r\n")
            status, text = self._handle(head.split(b"\r\n", 1)[0].decode("latin-1"))
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            status, text = "400 Bad Request", "bad request"
        body = text.encode()
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        with contextlib.suppress(OSError):
            await writer.drain()
            writer.close()

    def _handle(self, request_line: str) -> tuple[str, str]:
        parts = request_line.split(" ")
        target = urlsplit(parts[1] if len(parts) == 3 else "")
        params = {k: v[0] for k, v in parse_qs(target.query).items()}
        if target.path != "/" or params.get("state") != self.state or self.result.done():
            return "404 Not Found", "not the sign-in you started"
        if "code" in params:
            self.result.set_result(params["code"])
            return "200 OK", "Signed in to triage. You can close this tab."
        error = params.get("error", "no code")
        self.result.set_exception(
            OAuthRefused(
                "the sign-in was refused in the browser",
                error,
                params.get("error_description", ""),
                (),
            )
        )
        return "200 OK", f"The sign-in failed ({error}). See the terminal."  # fmt: skip


@contextlib.asynccontextmanager
async def _loopback(port: int) -> AsyncIterator[_Listener]:
    listener = _Listener()
    try:
        server = await asyncio.start_server(listener.serve, "127.0.0.1", port)
    except OSError as e:
        raise LoginError(f"cannot listen on 127.0.0.1:{port} ({e.strerror}): set "
                         f"{LOGIN_PORT_ENV} to a free port") from None  # fmt: skip
    listener.port = server.sockets[0].getsockname()[1]
    try:
        yield listener
    finally:
        server.close()
        await server.wait_closed()


# -- refreshing ----------------------------------------------------------------------------


async def refresh(client: httpx.AsyncClient, ep: Endpoints, tokens: Tokens, clock: Clock) -> Tokens:
    """New tokens from the refresh token (the server may rotate it). A refusal that only
    a new sign-in fixes is an AuthError saying so."""
    form = _client_form(ep, grant_type="refresh_token", refresh_token=tokens.refresh_token,
                        scope=" ".join(ep.scopes))  # fmt: skip
    answer = await _post_form(client, ep.token_url, form)
    if answer["_status"] == 200:
        return _tokens_from(answer, clock, keep_refresh=tokens.refresh_token)
    refused = _refusal("the stored sign-in was refused", answer)
    if refused.error in SIGN_IN_AGAIN:
        codes = "".join(f", AADSTS{c}" for c in refused.codes)
        raise AuthError(f"the stored sign-in is no longer valid ({refused.error}{codes}): "
                        "run `triage login`") from None  # fmt: skip
    raise refused


# -- the token store -------------------------------------------------------------------------


class TokenStore:
    """The tokens `triage login` keeps: JSON, 0600, owner-checked, replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Tokens:
        if not self.path.exists():
            raise AuthError(f"not signed in yet ('{self.path}' does not exist): run `triage login`")
        try:
            data = json.loads(read_protected(self.path))
            return Tokens(
                str(data["access_token"]),
                str(data["refresh_token"]),
                parse_iso(str(data["expires_at"])),
                str(data.get("scope", "")),
            )
        except SecretError as e:
            raise AuthError(str(e)) from None
        except (ValueError, KeyError, TypeError):
            raise AuthError(f"'{self.path}' is not a sign-in kept by `triage login`: "
                            "run `triage login`") from None  # fmt: skip

    def save(self, tokens: Tokens) -> None:
        """Write a new file beside the old one, then rename it over: a reader sees the old
        tokens or the new ones, never half of either."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(tokens.as_json(), fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        _fsync_dir(self.path.parent)

    @contextlib.asynccontextmanager
    async def locked(self, wait: float = 60.0) -> AsyncIterator[None]:
        """Held while refreshing: another console of the same user waits (without blocking
        its event loop), then reads the tokens this one stored instead of refreshing."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            for _ in range(int(wait / LOCK_POLL)):
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(LOCK_POLL)
            else:
                raise ProviderError(f"another triage has held '{self.path}' for {wait:g} s")
            yield
        finally:
            os.close(fd)  # closing releases the lock


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class AccessTokens(Protocol):
    """Where a provider's HTTP layer gets the bearer token for its requests."""

    async def token(self) -> str: ...
    async def renew(self, rejected: str) -> str: ...  # the server refused `rejected`
    async def aclose(self) -> None: ...


class TokenSource:
    """Access tokens from the store, refreshed before they expire or when refused."""

    def __init__(
        self, store: TokenStore, ep: Endpoints, *, clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None, timeout: float = 30.0,
    ) -> None:  # fmt: skip
        self.store, self.ep, self.clock = store, ep, clock
        # Its own client: the token endpoint never sees the API's Authorization header.
        self._client = httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(timeout))
        self._tokens: Tokens | None = None
        self._lock = asyncio.Lock()
        self.refreshes = 0

    async def token(self) -> str:
        async with self._lock:
            if self._tokens is None or self._tokens.expiring(self.clock.now()):
                self._tokens = await self._fresh("")
            return self._tokens.access_token

    async def renew(self, rejected: str) -> str:
        async with self._lock:
            if self._tokens is None or self._tokens.access_token == rejected:
                self._tokens = await self._fresh(rejected)
            return self._tokens.access_token

    async def _fresh(self, rejected: str) -> Tokens:
        """The stored tokens if still good (another console may have just refreshed),
        else refreshed and stored."""
        async with self.store.locked():
            stored = self.store.load()
            if stored.access_token != rejected and not stored.expiring(self.clock.now()):
                return stored
            self.refreshes += 1
            tokens = await refresh(self._client, self.ep, stored, self.clock)
            self.store.save(tokens)
            return tokens

    async def aclose(self) -> None:
        await self._client.aclose()
