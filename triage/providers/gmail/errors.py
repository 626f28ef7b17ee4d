"""Google's API errors, read and named with their fix.

Google answers an error with a JSON body: `{"error": {"code", "message", "status",
"errors": [{"reason", "domain", "message"}], "details": [{"reason": ...}]}}`. The
reason says what happened (`rateLimitExceeded`, `insufficientPermissions`,
`accessNotConfigured`...); `classify` turns it into what the HTTP layer does (retry,
renew the token, or raise an error whose message says what to fix).
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from triage.providers.base import AuthError, OfflineError, ProviderError, Refused

SCOPE = "https://www.googleapis.com/auth/gmail.modify"
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"})
SCOPE_REASONS = frozenset({"insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"})
DISABLED_REASONS = frozenset({"accessNotConfigured", "SERVICE_DISABLED"})


@dataclass(frozen=True)
class GoogleError:
    """One error answer: HTTP status, Google's status, its reasons and message."""

    code: int
    status: str = ""
    reasons: frozenset[str] = frozenset()
    message: str = ""

    @classmethod
    def of(cls, code: int, body: bytes) -> GoogleError:
        """Read an error body; anything unreadable leaves just the status code."""
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return cls(code)
        err = data.get("error") if isinstance(data, dict) else None
        if not isinstance(err, dict):
            return cls(code)
        reasons = {str(e.get("reason")) for e in _dicts(err.get("errors")) if e.get("reason")}
        reasons |= {str(d.get("reason")) for d in _dicts(err.get("details")) if d.get("reason")}
        return cls(code, str(err.get("status") or ""), frozenset(reasons),
                   str(err.get("message") or "")[:300])  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    """What to do about an error answer."""

    error: ProviderError
    retry: bool = False
    left: bool = False  # a retried request may have been applied (5xx)
    expired: bool = False  # renew the access token and repeat


def classify(e: GoogleError, user: str) -> Outcome:
    """The error answer -> retry, renew, or a typed error naming its fix."""
    said = f": {e.message}" if e.message else ""
    if e.code == 401:
        return Outcome(AuthError("Gmail refused the access token"), expired=True)
    if e.code == 429 or (e.code == 403 and e.reasons & RATE_REASONS):
        return Outcome(OfflineError(f"Gmail's rate limit for {user} was reached (HTTP "
                                    f"{e.code}); still refused after backing off"),
                       retry=True)  # fmt: skip
    if e.code == 403:
        return Outcome(_forbidden(e, user))
    if e.code >= 500:
        return Outcome(ProviderError(f"Gmail failed (HTTP {e.code}){said}"), retry=True, left=True)
    if e.code == 400 and (e.status == "FAILED_PRECONDITION" or "failedPrecondition" in e.reasons):
        return Outcome(ProviderError(
            f"Gmail is not enabled for {user} (HTTP 400{said}): a Workspace administrator "
            "turns Gmail on for this account in the Admin console (Apps > Google Workspace > "
            "Gmail), or provider.user names the wrong mailbox"
        ))  # fmt: skip
    return Outcome(Refused(f"Gmail refused the request (HTTP {e.code}){said}"))


def _forbidden(e: GoogleError, user: str) -> ProviderError:
    said = f" ({e.message})" if e.message else ""
    if e.reasons & SCOPE_REASONS:
        return AuthError(
            f"the access token lacks the Gmail scope triage needs{said}: grant {SCOPE} (run "
            "`triage login` again and allow it; for a service account, add it to the client's "
            "domain-wide delegation in the Admin console)"
        )
    if e.reasons & DISABLED_REASONS:
        return ProviderError(
            f"the Gmail API is not enabled in the Google Cloud project{said}: enable it in the "
            "Cloud console (APIs & Services > Library > Gmail API), wait a few minutes, retry"
        )
    if "delegation denied" in e.message.casefold():
        return AuthError(
            f"Gmail denied access to {user}{said}: mail delegation set up in Gmail's settings "
            "does not work through the API; sign in as the team mailbox itself (triage login), "
            "or use a service account with domain-wide delegation (auth = 'service_account')"
        )
    if "dailyLimitExceeded" in e.reasons:
        return ProviderError(f"the Google Cloud project's daily Gmail quota is used up{said}")
    if "domainPolicy" in e.reasons:
        return AuthError(f"the Workspace domain's policy forbids this app{said}: an "
                         "administrator allows it under Security > API controls")  # fmt: skip
    return AuthError(f"Gmail forbids this for {user} (HTTP 403){said}")


def _dicts(value: object) -> list[dict[str, object]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
