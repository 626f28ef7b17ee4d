"""The Microsoft identity platform of the fake: users, the app registration, and the v2.0
endpoints `triage login` and the token refresh call.

Shaped from learn.microsoft.com/entra/identity-platform (v2-oauth2-device-code,
v2-oauth2-auth-code-flow, reply-url): `/{tenant}/oauth2/v2.0/devicecode`, `/token`
(device code, authorization code with PKCE S256, refresh token grants) and
`/authorize` (which plays the user's browser: it signs in `browser_user` and redirects
to the loopback URI, whose port does not count when matching, as for localhost).
Errors carry the documented OAuth `error` and AADSTS `error_codes`. A test plays the
user with `approve(user_code)`, revokes a sign-in with `revoke(user)`, and blocks the
device flow by policy (`device_flow = "blocked"`, AADSTS53003) or by the app's
settings (`device_flow = "no-public-client"`, AADSTS7000218).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from triage.clock import Clock

Json = dict[str, Any]
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
GRAPH = "https://graph.microsoft.com/"


@dataclass
class FakeUser:
    upn: str
    full_access: set[str] = field(default_factory=set)  # shared mailboxes it may open
    send_as: set[str] = field(default_factory=set)


@dataclass
class Grant:
    user: str
    scopes: frozenset[str]
    expires: datetime
    revoked: bool = False


def _scopes(text: str) -> frozenset[str]:
    """Scope names without the resource ("Mail.ReadWrite.Shared", "offline_access")."""
    return frozenset(s.removeprefix(GRAPH) for s in text.split() if s)


def oauth_error(error: str, code: int, text: str, status: int = 400) -> tuple[int, Json]:
    return status, {
        "error": error,
        "error_description": f"AADSTS{code}: {text}\r\nTrace ID: x",
        "error_codes": [code],
    }


class Identity:
    """Tenants, the app registration, users, and every token issued."""

    def __init__(self, clock: Clock, *, tenant: str, client_id: str) -> None:
        self.clock = clock
        self.tenants = {"organizations", "common", tenant.casefold()}
        self.client_id = client_id
        self.users: dict[str, FakeUser] = {}
        self.device_flow = "allowed"  # | "blocked" | "no-public-client"
        self.consented = True
        self.browser_user = ""
        self.token_lifetime = timedelta(hours=1)
        self.access: dict[str, Grant] = {}
        self.refresh: dict[str, Grant] = {}
        self.devices: dict[str, Json] = {}
        self.codes: dict[str, Json] = {}
        self.polls = 0

    # -- the test's hands ------------------------------------------------------------

    def add_user(
        self, upn: str, *, full_access: Iterable[str] = (), send_as: Iterable[str] = ()
    ) -> FakeUser:
        user = FakeUser(
            upn.casefold(), {a.casefold() for a in full_access}, {a.casefold() for a in send_as}
        )
        self.users[user.upn] = user
        return user

    def issue(self, upn: str, scopes: str = "") -> Json:
        """Tokens for `upn` as a finished sign-in gives them (the token endpoint's answer)."""
        granted = _scopes(scopes) or frozenset(
            {"Mail.ReadWrite.Shared", "Mail.Send.Shared", "offline_access"}
        )
        access, refresh = "at-" + secrets.token_urlsafe(24), "rt-" + secrets.token_urlsafe(32)
        expires = self.clock.now() + self.token_lifetime
        self.access[access] = Grant(upn.casefold(), granted, expires)
        self.refresh[refresh] = Grant(upn.casefold(), granted, expires + timedelta(days=90))
        return {
            "token_type": "Bearer",
            "scope": " ".join(sorted(granted)),
            "expires_in": int(self.token_lifetime.total_seconds()),
            "access_token": access,
            "refresh_token": refresh,
        }

    def approve(self, user_code: str, upn: str) -> None:
        """The user typed the code at the verification page and signed in."""
        for d in self.devices.values():
            if d["user_code"] == user_code:
                d["user"] = upn.casefold()
                return
        raise KeyError(user_code)

    def decline(self, user_code: str) -> None:
        for d in self.devices.values():
            if d["user_code"] == user_code:
                d["declined"] = True

    def revoke(self, upn: str) -> None:
        """An admin revoked the user's sessions: refresh tokens stop working."""
        for g in self.refresh.values():
            if g.user == upn.casefold():
                g.revoked = True

    def expire_access_tokens(self) -> None:
        """Every access token issued so far expires now (the server's view, not the client's)."""
        for g in self.access.values():
            g.expires = self.clock.now() - timedelta(seconds=1)

    def who(self, token: str) -> Grant | None:
        g = self.access.get(token)
        return g if g is not None and g.expires > self.clock.now() else None

    # -- the endpoints ------------------------------------------------------------------

    def handle(
        self, method: str, path: str, form: dict[str, str], query: dict[str, str], api_base: str
    ) -> tuple[int, Json | str]:
        parts = path.strip("/").split("/")
        if len(parts) != 4 or parts[1:3] != ["oauth2", "v2.0"]:
            return 404, {"error": "not_found"}
        if parts[0].casefold() not in self.tenants:
            return oauth_error("invalid_request", 90002, f"Tenant '{parts[0]}' not found.")
        endpoint = parts[3]
        if endpoint == "authorize" and method == "GET":
            return self._authorize(query)
        client = form.get("client_id", "")
        if client != self.client_id:
            return oauth_error(
                "unauthorized_client",
                700016,
                f"Application with identifier '{client}' was not found.",
            )
        if endpoint == "devicecode":
            return self._device(form, api_base)
        if endpoint == "token":
            return self._token(form)
        return 404, {"error": "not_found"}

    def _device(self, form: dict[str, str], api_base: str) -> tuple[int, Json]:
        code = "dc-" + secrets.token_urlsafe(24)
        user_code = secrets.token_hex(4).upper()
        self.devices[code] = {
            "user_code": user_code,
            "user": "",
            "declined": False,
            "scopes": form.get("scope", ""),
            "expires": self.clock.now() + timedelta(minutes=15),
        }
        return 200, {
            "device_code": code,
            "user_code": user_code,
            "interval": 1,
            "verification_uri": f"{api_base}/devicelogin",
            "expires_in": 900,
            "message": f"To sign in, enter the code {user_code}.",
        }

    def _token(self, form: dict[str, str]) -> tuple[int, Json]:
        grant = form.get("grant_type")
        if grant == DEVICE_GRANT:
            return self._device_token(form.get("device_code", ""))
        if grant == "authorization_code":
            return self._code_token(form)
        if grant == "refresh_token":
            return self._refresh_token(form)
        return oauth_error("unsupported_grant_type", 70003, f"grant {grant!r} not supported")

    def _device_token(self, device_code: str) -> tuple[int, Json]:
        self.polls += 1
        d = self.devices.get(device_code)
        if d is None:
            return oauth_error("bad_verification_code", 70019, "device code not recognized")
        if self.device_flow == "blocked":
            return oauth_error(
                "invalid_grant", 53003, "Access has been blocked by Conditional Access policies."
            )
        if self.device_flow == "no-public-client":
            return oauth_error(
                "invalid_client",
                7000218,
                "The request body must contain 'client_assertion' or 'client_secret'.",
            )
        if d["declined"]:
            return oauth_error("authorization_declined", 70000, "the user declined")
        if self.clock.now() > d["expires"]:
            return oauth_error("expired_token", 70020, "the device code expired")
        if not d["user"]:
            return oauth_error("authorization_pending", 70016, "not yet authorized by the user")
        del self.devices[device_code]
        return 200, self.issue(d["user"], d["scopes"])

    def _authorize(self, q: dict[str, str]) -> tuple[int, str]:
        redirect = q.get("redirect_uri", "")
        target = urlsplit(redirect)
        if target.scheme != "http" or target.hostname != "127.0.0.1" or target.path != "/":
            return 400, "AADSTS50011: the redirect URI does not match the app's (http://127.0.0.1)"
        if q.get("client_id") != self.client_id or q.get("code_challenge_method") != "S256":
            return 400, "AADSTS700016 or a missing PKCE challenge"
        if not self.consented:
            answer = {
                "error": "consent_required",
                "error_description": "AADSTS65001: no consent",
                "state": q.get("state", ""),
            }
            return 302, redirect + "?" + urlencode(answer)
        code = "ac-" + secrets.token_urlsafe(24)
        self.codes[code] = {
            "redirect": redirect,
            "challenge": q.get("code_challenge", ""),
            "user": self.browser_user,
            "scopes": q.get("scope", ""),
        }
        return 302, redirect + "?" + urlencode({"code": code, "state": q.get("state", "")})

    def _code_token(self, form: dict[str, str]) -> tuple[int, Json]:
        c = self.codes.pop(form.get("code", ""), None)
        if c is None or c["redirect"] != form.get("redirect_uri"):
            return oauth_error("invalid_grant", 70008, "the code is unknown or was used already")
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).decode().rstrip("=") != c["challenge"]:
            return oauth_error("invalid_grant", 501481, "The Code_Verifier does not match")
        return 200, self.issue(c["user"], c["scopes"])

    def _refresh_token(self, form: dict[str, str]) -> tuple[int, Json]:
        g = self.refresh.get(form.get("refresh_token", ""))
        if g is None or g.revoked or g.expires <= self.clock.now():
            return oauth_error(
                "invalid_grant", 50173, "The provided grant has expired due to it being revoked."
            )
        return 200, self.issue(g.user, " ".join(g.scopes))
