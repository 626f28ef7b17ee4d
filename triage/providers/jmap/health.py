"""`triage doctor` on JMAP: the watched and notes mailboxes' `myRights`, the account's
read-only flag and submission capability, and the server's Date header."""

from __future__ import annotations

from typing import Any

from triage.providers.health import Health, http_date
from triage.providers.jmap.account import JmapAccount
from triage.providers.jmap.http import SUBMISSION
from triage.providers.jmap.parse import objects_of

# (mailbox right, what triage cannot do without it)
WATCHED_RIGHTS = (
    ("mayReadItems", "read the watched mailbox"),
    ("maySetKeywords", "set shared-state marks (owner, escalation) in the watched mailbox"),
)
NOTES_RIGHT = ("mayAddItems", "file notes in the notes mailbox")


async def health(account: JmapAccount) -> Health:
    """Connect, then read the rights triage relies on; typed errors as connect() raises them."""
    session = await account.connect()
    ids = [i for i in (account.watched, account.notes) if i]
    props = ["id", "name", "myRights"]
    answer = await account.call("Mailbox/get", {"ids": ids, "properties": props})
    boxes = {str(m.get("id")): m for m in objects_of(answer, "Mailbox/get")}
    watched = boxes.get(account.watched, {})
    missing = [why for right, why in WATCHED_RIGHTS if not _may(watched, right)]
    if account.notes and not _may(boxes.get(account.notes, {}), NOTES_RIGHT[0]):
        missing.append(NOTES_RIGHT[1])
    acct = session_account(account)
    if acct.get("isReadOnly") is True:
        missing.append("change anything: the JMAP account is read-only")
    if SUBMISSION not in session.capabilities:
        missing.append("send replies: the server offers no JMAP submission")
    server, local = account.http.server_date
    return Health(str(watched.get("name") or account.mailbox_spec), tuple(missing),
                  http_date(server), local)  # fmt: skip


def _may(mailbox: dict[str, Any], right: str) -> bool:
    rights = mailbox.get("myRights")
    return isinstance(rights, dict) and rights.get(right) is True


def session_account(account: JmapAccount) -> dict[str, Any]:
    raw = account.http.session_accounts.get(account.id)
    return raw if isinstance(raw, dict) else {}
