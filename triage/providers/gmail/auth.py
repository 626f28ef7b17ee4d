"""Where the Gmail provider's access tokens come from: a bearer token, or a service account.

`BearerToken` is an access token minted by someone else (token_file or token_env):
it cannot be renewed, so a 401 names the key to fix. `ServiceAccount` signs a JWT
with the account's key (RS256, domain-wide delegation: `sub` is the mailbox it
impersonates) and exchanges it at the token endpoint for an hour's token, renewed
before it runs out or when Google says it expired. The crypto library is imported
only when a service account signs.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx
import orjson

from triage.clock import Clock
from triage.config.secrets import SecretError, read_protected
from triage.providers.base import AuthError, OfflineError, ProviderError
from triage.providers.gmail.errors import SCOPE

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LIFETIME = timedelta(hours=1)  # the longest a service account's assertion may ask for
EARLY = timedelta(minutes=5)  # renew this long before the token runs out


class TokenSource(Protocol):
    """Access tokens for the Gmail API, and what to tell the user when they are refused."""

    async def token(self, client: httpx.AsyncClient) -> str: ...
    async def refreshed(self, client: httpx.AsyncClient, stale: str) -> str | None: ...
    def refused_hint(self) -> str: ...
    async def aclose(self) -> None: ...


class BearerToken:
    """A token someone else minted; `secret_key` names where it was read from."""

    def __init__(self, secret: str, secret_key: str) -> None:
        self._secret = secret
        self.secret_key = secret_key

    async def token(self, client: httpx.AsyncClient) -> str:
        return self._secret

    async def refreshed(self, client: httpx.AsyncClient, stale: str) -> str | None:
        return None  # nothing to renew it with

    def refused_hint(self) -> str:
        return (f"Gmail refused the access token (HTTP 401: expired or revoked): put a fresh "
                f"one in {self.secret_key}")  # fmt: skip

    async def aclose(self) -> None:
        pass

    def __repr__(self) -> str:  # never show the secret, even in a traceback
        return f"BearerToken(secret_key={self.secret_key!r}, secret=***)"


class ServiceAccount:
    """A service account with domain-wide delegation, impersonating `subject`."""

    def __init__(self, key: Mapping[str, Any], subject: str, token_url: str, clock: Clock) -> None:
        self.email = str(key.get("client_email") or "")
        self.client_id = str(key.get("client_id") or "")
        self._private_key = str(key.get("private_key") or "")
        self._key_id = str(key.get("private_key_id") or "")
        self.audience = str(key.get("token_uri") or token_url)
        self.token_url = token_url
        self.subject = subject
        self._clock = clock
        self._token = ""
        self._until: datetime | None = None

    async def token(self, client: httpx.AsyncClient) -> str:
        now = self._clock.now()
        if self._token and self._until is not None and now < self._until - EARLY:
            return self._token
        return await self._exchange(client)

    async def refreshed(self, client: httpx.AsyncClient, stale: str) -> str | None:
        if self._token != stale:  # another request renewed it meanwhile
            return self._token
        return await self._exchange(client)

    def refused_hint(self) -> str:
        return (f"Gmail refused the service account's fresh token for {self.subject}: check "
                f"the domain-wide delegation of client {self.client_id} in the Admin console "
                f"(Security > API controls), with the scope {SCOPE}")  # fmt: skip

    async def _exchange(self, client: httpx.AsyncClient) -> str:
        form = {"grant_type": JWT_BEARER, "assertion": self.assertion()}
        answer = await post_token(client, self.token_url, form, self._fix)
        self._token, lifetime = answer
        self._until = self._clock.now() + lifetime
        return self._token

    def assertion(self) -> str:
        """The signed JWT: who we are, whom we act for, for which scope, until when."""
        now = int(self._clock.now().timestamp())
        header = {"alg": "RS256", "typ": "JWT", "kid": self._key_id}
        claims = {"iss": self.email, "sub": self.subject, "scope": SCOPE, "aud": self.audience,
                  "iat": now, "exp": now + int(LIFETIME.total_seconds())}  # fmt: skip
        signing_input = f"{_b64(orjson.dumps(header))}.{_b64(orjson.dumps(claims))}"
        signature = sign_rs256(self._private_key, signing_input.encode("ascii"))
        return f"{signing_input}.{_b64(signature)}"

    def _fix(self, error: str, description: str) -> str:
        said = f" ({error}: {description})" if description else f" ({error})"
        if error == "unauthorized_client":
            return (f"the service account {self.email} may not act for {self.subject}{said}: a "
                    "Workspace administrator adds its client id "
                    f"{self.client_id} under Security > API controls > Domain-wide delegation, "
                    f"with the scope {SCOPE}")  # fmt: skip
        if error == "invalid_grant":
            return (f"Google refused the service account's sign-in{said}: check that "
                    f"provider.user ({self.subject}) is a mailbox of the domain, that the key "
                    "in provider.key_file is valid and this machine's clock is right")  # fmt: skip
        return f"Google refused the service account's sign-in{said}: check provider.key_file"

    async def aclose(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"ServiceAccount(email={self.email!r}, subject={self.subject!r}, key=***)"


def load_service_account(
    key_file: Path, subject: str, token_url: str, clock: Clock
) -> ServiceAccount:
    """The service account of a JSON key file (only its owner may read it, as with tokens)."""
    try:
        key = json.loads(read_protected(key_file))
    except SecretError as e:
        raise SecretError(str(e).replace("provider.token_file", "provider.key_file")) from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise SecretError(f"provider.key_file: '{key_file}' is not a readable JSON key "
                          f"({type(e).__name__})") from None  # fmt: skip
    if not isinstance(key, dict) or key.get("type") != "service_account":
        raise SecretError(
            f"provider.key_file: '{key_file}' is not a service account's JSON "
            "key (make one in the Cloud console: IAM > Service accounts > Keys)"
        )
    missing = [k for k in ("client_email", "private_key") if not key.get(k)]
    if missing:
        raise SecretError(f"provider.key_file: '{key_file}' has no {', '.join(missing)}")
    return ServiceAccount(key, subject, token_url, clock)


async def post_token(
    client: httpx.AsyncClient, url: str, form: Mapping[str, str], fix: Any
) -> tuple[str, timedelta]:
    """POST a grant to the token endpoint: (access token, lifetime), or an error from `fix`."""
    try:
        r = await client.post(url, data=dict(form), headers={"Accept": "application/json"})
    except httpx.TransportError as e:
        raise OfflineError(f"cannot reach the token endpoint {httpx.URL(url).host}: "
                           f"{type(e).__name__}") from None  # fmt: skip
    try:
        data = r.json()
    except ValueError:
        data = {}
    data = data if isinstance(data, dict) else {}
    if r.status_code >= 500:
        raise OfflineError(f"the token endpoint failed (HTTP {r.status_code})")
    if r.status_code >= 400 or not isinstance(data.get("access_token"), str):
        raise AuthError(fix(str(data.get("error") or f"HTTP {r.status_code}"),
                            str(data.get("error_description") or "")[:200]))  # fmt: skip
    seconds = data.get("expires_in")
    lifetime = timedelta(seconds=seconds if isinstance(seconds, int) and seconds > 0 else 3600)
    return str(data["access_token"]), lifetime


def sign_rs256(pem: str, data: bytes) -> bytes:
    """An RS256 (RSASSA-PKCS1-v1_5, SHA-256) signature with a PEM private key."""
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
    except ImportError:
        raise ProviderError("auth = 'service_account' needs the cryptography package: "
                            "pip install 'triage[gmail]'") from None  # fmt: skip
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError):
        raise SecretError("provider.key_file: its private_key is not a PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SecretError("provider.key_file: its private_key is not an RSA key")
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
