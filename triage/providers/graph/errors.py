"""Microsoft Graph's error answers as typed errors whose messages name the fix.

Graph answers an error with an HTTP status and `{"error": {"code", "message"}}`
(learn.microsoft.com/graph/errors). The code decides the type: a lost delta token
is CannotCalculateChanges (a full sync follows), a mailbox the user may not open
names the Exchange permission and the app permission it needs, a changed item
(412, If-Match) is a Conflict the writer re-reads and retries.
"""

from __future__ import annotations

from typing import Any

from triage.providers.base import (
    AuthError,
    CannotCalculateChanges,
    ProviderError,
    Refused,
)

SYNC_RESET = frozenset({"syncstatenotfound", "syncstateinvalid", "resyncrequired",
                        "errorinvalidsyncstatedata"})  # fmt: skip
NO_MAILBOX = frozenset({"errornonexistentmailbox", "mailboxnotenabledforrestapi",
                        "mailboxnotsupportedforrestapi", "resourcenotfound"})  # fmt: skip
SEND_DENIED = frozenset({"errorsendasdenied", "errorsubmissionquotaexceeded"})


class NotFound(Refused):
    """The item asked for is not in the mailbox (any more)."""


class Conflict(Refused):
    """The item changed since we read it (If-Match failed): read it again and retry."""


def error_of(body: Any) -> tuple[str, str]:
    """(code, message) of a Graph error answer; ("", "") when it has none."""
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return "", ""
    message = str(err.get("message") or "").strip().splitlines()
    return str(err.get("code") or ""), (message[0][:200] if message else "")


def graph_error(status: int, body: Any, mailbox: str) -> ProviderError:
    """The typed error of a 4xx answer (401 and the retried statuses are the HTTP layer's)."""
    code, message = error_of(body)
    key = code.casefold()
    said = f"HTTP {status}" + (f" {code}" if code else "") + (f": {message}" if message else "")
    if status == 410 or key in SYNC_RESET:
        return CannotCalculateChanges(f"Microsoft Graph lost our sync state ({said})")
    if status == 403:
        return _forbidden(key, said, mailbox)
    if status == 404 and key in NO_MAILBOX:
        return ProviderError(
            f"the mailbox {mailbox} was not found ({said}): check provider.mailbox (the shared "
            "mailbox's address) and provider.tenant (the mailbox's Microsoft 365 tenant)"
        )
    if status == 404:
        return NotFound(f"not found in the mailbox ({said})")
    if status == 412:
        return Conflict(f"changed by someone else meanwhile ({said})")
    return Refused(f"Microsoft Graph refused the request ({said})")


def _forbidden(key: str, said: str, mailbox: str) -> ProviderError:
    if key in SEND_DENIED:
        return AuthError(
            f"Microsoft 365 refused to send as {mailbox} ({said}): an Exchange admin must give "
            "the signed-in user Send As on the shared mailbox, and the app registration needs "
            "the delegated permission Mail.Send.Shared"
        )
    if mailbox == "me":
        return AuthError(
            f"Microsoft 365 refused access to your mailbox ({said}): the app registration "
            "needs the delegated permission Mail.ReadWrite.Shared (admin consent); then run "
            "`triage login` again"
        )
    return AuthError(
        f"Microsoft 365 refused access to the shared mailbox {mailbox} ({said}): an Exchange "
        "admin must give the signed-in user Full Access to it, and the app registration needs "
        "the delegated permission Mail.ReadWrite.Shared (admin consent); then run `triage "
        "login` again"
    )


def sign_in_refused(status: int, body: Any, secret_key: str) -> AuthError:
    """A 401 that a fresh token did not cure."""
    code, message = error_of(body)
    said = f"HTTP {status}" + (f" {code}" if code else "") + (f": {message}" if message else "")
    if secret_key:
        return AuthError(f"Microsoft Graph refused the access token ({said}): check {secret_key}")
    return AuthError(f"Microsoft 365 refused the sign-in ({said}): run `triage login`")
