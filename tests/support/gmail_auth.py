"""The Gmail fake's token endpoint: service-account JWTs, refresh tokens, authorization codes.

Shaped from Google's OAuth 2.0 documentation for server-to-server apps (a JWT
signed RS256 by the service account, `iss` its address, `sub` the user it acts
for, `aud` the token URL, at most an hour) and for installed apps (authorization
code with PKCE S256, then refresh tokens). Errors are answered as Google's token
endpoint does: `{"error": "...", "error_description": "..."}`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

if TYPE_CHECKING:
    from tests.support.gmail_fake import GmailFake

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass
class ServiceAccountKey:
    """A service account: its RSA key, and the scopes its domain-wide delegation allows."""

    email: str = "triage-sync@agency-project.iam.gserviceaccount.com"
    client_id: str = "104220000000000000001"
    key_id: str = field(default_factory=lambda: secrets.token_hex(20))
    delegated: set[str] = field(default_factory=set)  # scopes granted in the Admin console
    private: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    def json_key(self, token_uri: str) -> dict[str, str]:
        pem = self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return {
            "type": "service_account",
            "project_id": "agency-project",
            "private_key_id": self.key_id,
            "private_key": pem,
            "client_email": self.email,
            "client_id": self.client_id,
            "token_uri": token_uri,
        }

    def write(self, path: Path, token_uri: str) -> Path:
        path.write_text(json.dumps(self.json_key(token_uri)))
        os.chmod(path, 0o600)
        return path


@dataclass
class OAuthClients:
    """Installed-app clients: codes handed out by a consent, refresh tokens they bought."""

    client_id: str = "123-desktop.apps.googleusercontent.com"
    client_secret: str = ""
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    refresh: dict[str, set[str]] = field(default_factory=dict)  # refresh token -> scopes
    revoked: set[str] = field(default_factory=set)

    def consent(self, redirect_uri: str, challenge: str, scope: str) -> str:
        """The user said yes in the browser: the code Google hands the loopback redirect."""
        code = "4/" + secrets.token_urlsafe(16)
        self.codes[code] = {"redirect_uri": redirect_uri, "challenge": challenge, "scope": scope}
        return code


def token_endpoint(fake: GmailFake, request: httpx.Request) -> httpx.Response:
    form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
    grant = form.get("grant_type", "")
    if grant == JWT_BEARER:
        return _jwt_grant(fake, form.get("assertion", ""), str(request.url))
    if grant == "refresh_token":
        return _refresh_grant(fake, form)
    if grant == "authorization_code":
        return _code_grant(fake, form)
    return _refuse(400, "unsupported_grant_type", f"Invalid grant_type: {grant}")


def _jwt_grant(fake: GmailFake, assertion: str, url: str) -> httpx.Response:
    try:
        head_b64, claims_b64, sig_b64 = assertion.split(".")
        header, claims = json.loads(_unb64(head_b64)), json.loads(_unb64(claims_b64))
    except ValueError:
        return _refuse(400, "invalid_grant", "Invalid JWT: malformed")
    account = fake.accounts.get(str(claims.get("iss")))
    if account is None or header.get("alg") != "RS256":
        return _refuse(401, "invalid_client", "The OAuth client was not found.")
    try:
        account.private.public_key().verify(
            _unb64(sig_b64),
            f"{head_b64}.{claims_b64}".encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except InvalidSignature:
        return _refuse(400, "invalid_grant", "Invalid JWT Signature.")
    now = int(fake.clock.now().timestamp())
    iat, exp = int(claims.get("iat", 0)), int(claims.get("exp", 0))
    if claims.get("aud") != url or exp - iat > 3600 or not iat - 300 <= now <= exp:
        return _refuse(
            400,
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token "
            "(60 minutes) and in a reasonable timeframe.",
        )
    scopes = set(str(claims.get("scope", "")).split())
    if not scopes or not scopes <= account.delegated:
        return _refuse(
            401,
            "unauthorized_client",
            "Client is unauthorized to retrieve access "
            "tokens using this method, or client not authorized for any of the "
            "scopes requested.",
        )
    if str(claims.get("sub", "")).casefold() != fake.address.casefold():
        return _refuse(400, "invalid_grant", "Invalid email or User ID")
    return _issue(fake, scopes, str(claims["sub"]))


def _refresh_grant(fake: GmailFake, form: dict[str, str]) -> httpx.Response:
    clients = fake.oauth
    if form.get("client_id") != clients.client_id or (
        clients.client_secret and form.get("client_secret") != clients.client_secret
    ):
        return _refuse(401, "invalid_client", "Unauthorized")
    token = form.get("refresh_token", "")
    if token not in clients.refresh or token in clients.revoked:
        return _refuse(400, "invalid_grant", "Token has been expired or revoked.")
    return _issue(fake, clients.refresh[token], fake.address)


def _code_grant(fake: GmailFake, form: dict[str, str]) -> httpx.Response:
    clients = fake.oauth
    if form.get("client_id") != clients.client_id or (
        clients.client_secret and form.get("client_secret") != clients.client_secret
    ):
        return _refuse(401, "invalid_client", "Unauthorized")
    code = clients.codes.pop(form.get("code", ""), None)
    if code is None:
        return _refuse(400, "invalid_grant", "Malformed auth code.")
    digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
    if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != code["challenge"]:
        return _refuse(400, "invalid_grant", "Invalid code verifier.")
    if form.get("redirect_uri") != code["redirect_uri"]:
        return _refuse(400, "redirect_uri_mismatch", "Bad Request")
    refresh = "1//" + secrets.token_urlsafe(24)
    scopes = set(code["scope"].split())
    clients.refresh[refresh] = scopes
    answer = _issue(fake, scopes, fake.address)
    body = json.loads(answer.content) | {"refresh_token": refresh, "scope": code["scope"]}
    return httpx.Response(200, json=body)


def _issue(fake: GmailFake, scopes: set[str], user: str) -> httpx.Response:
    token = fake.token(scopes, user=user, lifetime=timedelta(seconds=3599))
    return httpx.Response(
        200, json={"access_token": token, "expires_in": 3599, "token_type": "Bearer"}
    )


def _refuse(code: int, error: str, description: str) -> httpx.Response:
    return httpx.Response(code, json={"error": error, "error_description": description})


def _unb64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
