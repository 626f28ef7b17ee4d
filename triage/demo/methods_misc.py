"""The Mailbox/*, Thread/get, Identity/get and EmailSubmission/* methods of the server.

Owns mailbox listing, counting and editing (RFC 8621 section 2), threads as lists of
email ids, identities, and sending: EmailSubmission/set records what an SMTP server
would have received in `JmapServer.sent` and runs the onSuccess Email/set follow-up.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from triage.demo.api import Answer, Api, check_state, pick, too_many
from triage.demo.methods_email import email_set
from triage.demo.store import (
    Json,
    Mailbox,
    MethodError,
    SetError,
    StoredEmail,
    header_text,
    utc_text,
)

if TYPE_CHECKING:
    from triage.demo.server import JmapServer

RIGHTS = {r: True for r in ("mayReadItems", "mayAddItems", "mayRemoveItems", "maySetSeen",
          "maySetKeywords", "mayCreateChild", "mayRename", "mayDelete", "maySubmit")}  # fmt: skip


# ---- Mailbox/* ----


def _mailbox_json(s: JmapServer, box: Mailbox) -> Json:
    cached = s.count_cache.get(box.id)
    if cached is None or cached[0] != s.state:  # counts scan the mailbox: once per state
        s.count_cache[box.id] = cached = (s.state, _mailbox_counts(s, box))
    return {
        "id": box.id, "name": box.name, "parentId": box.parent_id, "role": box.role,
        "sortOrder": box.sort_order, **cached[1], "myRights": RIGHTS, "isSubscribed": True,
    }  # fmt: skip


def _mailbox_counts(s: JmapServer, box: Mailbox) -> dict[str, int]:
    members = s.by_mailbox[box.id]
    unread = [i for i in members if "$seen" not in s.emails[i].keywords]
    return {
        "totalEmails": len(members), "unreadEmails": len(unread),
        "totalThreads": len({s.emails[i].thread_id for i in members}),
        "unreadThreads": len({s.emails[i].thread_id for i in unread}),
    }  # fmt: skip


def mailbox_get(api: Api, args: Json) -> Answer:
    props = args.get("properties")
    return api.get("Mailbox/get", args, api.s.mailboxes,
                   lambda box: pick(_mailbox_json(api.s, box), props))  # fmt: skip


def mailbox_query(api: Api, args: Json) -> Answer:
    flt = args.get("filter") or {}
    boxes = sorted(api.s.mailboxes.values(), key=lambda b: (b.sort_order, b.name))
    for key, value in flt.items():
        if key == "role":
            boxes = [b for b in boxes if b.role == value]
        elif key == "name":
            boxes = [b for b in boxes if str(value).lower() in b.name.lower()]
        elif key == "parentId":
            boxes = [b for b in boxes if b.parent_id == value]
        elif key == "hasAnyRole":
            boxes = [b for b in boxes if (b.role is not None) == bool(value)]
        else:
            raise MethodError("unsupportedFilter", f"Mailbox filter {key!r} is not supported")
    ids = [b.id for b in boxes]
    answer = {"accountId": api.s.account_id, "queryState": str(api.s.state), "ids": ids,
              "position": 0, "total": len(ids), "canCalculateChanges": False}  # fmt: skip
    return [("Mailbox/query", answer)]


def mailbox_set(api: Api, args: Json) -> Answer:
    s = api.s
    check_state(api, args)
    too_many(api, args)
    old, created, not_created = str(s.state), {}, {}
    for cid, obj in (args.get("create") or {}).items():
        name = obj.get("name") if isinstance(obj, dict) else None
        if not isinstance(name, str) or not name.strip():
            not_created[cid] = {"type": "invalidProperties", "properties": ["name"]}
        elif any(
            b.name == name and b.parent_id == obj.get("parentId") for b in s.mailboxes.values()
        ):
            not_created[cid] = {"type": "invalidProperties", "properties": ["name"],
                                "description": f"a mailbox named {name!r} exists"}  # fmt: skip
        else:
            box_id = s.add_mailbox(name, obj.get("role"), obj.get("parentId"))
            api.created[cid] = box_id
            created[cid] = {"id": box_id}
    updated, not_updated = _mailbox_updates(api, args.get("update") or {})
    destroyed, not_destroyed = _mailbox_destroys(api, args)
    return api.set_answer("Mailbox/set", old, {
        "created": created, "notCreated": not_created, "updated": updated,
        "notUpdated": not_updated, "destroyed": destroyed, "notDestroyed": not_destroyed,
    })  # fmt: skip


def _mailbox_updates(api: Api, update: Json) -> tuple[Json, Json]:
    updated: Json = {}
    not_updated: Json = {}
    for raw, patch in update.items():
        box = api.s.mailboxes.get(api.real_id(raw))
        bad = [k for k in patch if k not in ("name", "sortOrder", "isSubscribed")]
        if box is None or bad:
            not_updated[raw] = {"type": "notFound" if box is None else "invalidProperties"}
            continue
        box.name = patch.get("name", box.name)
        box.sort_order = patch.get("sortOrder", box.sort_order)
        api.s.changed("Mailbox", box.id, "updated")
        updated[box.id] = None
    return updated, not_updated


def _mailbox_destroys(api: Api, args: Json) -> tuple[list[str], Json]:
    s, destroyed, not_destroyed = api.s, [], {}
    for raw in args.get("destroy") or []:
        box_id = api.real_id(raw)
        if box_id not in s.mailboxes:
            not_destroyed[raw] = {"type": "notFound"}
        elif s.by_mailbox[box_id] and not args.get("onDestroyRemoveEmails"):
            not_destroyed[raw] = {"type": "mailboxHasEmail"}
        else:
            for email_id in list(s.by_mailbox[box_id]):
                s.destroy(email_id)
            del s.mailboxes[box_id], s.by_mailbox[box_id]
            s.changed("Mailbox", box_id, "destroyed")
            destroyed.append(box_id)
    return destroyed, not_destroyed


# ---- Thread/get, Identity/get, EmailSubmission/* ----


def thread_get(api: Api, args: Json) -> Answer:
    def render(thread: list[tuple[datetime, str]]) -> Json:
        return {"id": api.s.emails[thread[0][1]].thread_id, "emailIds": [i for _, i in thread]}

    return api.get("Thread/get", args, api.s.threads, render)


def identity_get(api: Api, args: Json) -> Answer:
    props = args.get("properties")
    return api.get("Identity/get", args, api.s.identities, lambda i: pick(i, props))


def submission_get(api: Api, args: Json) -> Answer:
    props = args.get("properties")
    return api.get("EmailSubmission/get", args, api.s.submissions, lambda x: pick(x, props))


def _envelope(obj: Json, email: StoredEmail, identity: Json) -> tuple[str, list[str]]:
    envelope = obj.get("envelope")
    if envelope:
        return envelope["mailFrom"]["email"], [r["email"] for r in envelope["rcptTo"]]
    return identity["email"], [a["email"] for a in email.to + email.cc + email.bcc]


def _submit(api: Api, obj: Json) -> Json:
    """Send one email: what an SMTP server would receive is appended to `sent`."""
    s = api.s
    identity = s.identities.get(str(obj.get("identityId")))
    if identity is None:
        raise SetError("invalidProperties", "unknown identity", properties=["identityId"])
    email = s.emails.get(api.real_id(obj.get("emailId", "")))
    if email is None:
        raise SetError("invalidProperties", "unknown email", properties=["emailId"])
    sender = email.from_[0]["email"] if email.from_ else ""
    if sender.lower() != identity["email"].lower():
        raise SetError("forbiddenFrom", f"identity {identity['email']} may not send as {sender}")
    mail_from, rcpt_to = _envelope(obj, email, identity)
    if not rcpt_to:
        raise SetError("noRecipients", "the email has no recipients")
    sub_id, now = s.new_id("S"), utc_text(s.clock.now())
    s.sent.append({
        "from": header_text(email, "from"), "mail_from": mail_from, "rcpt_to": rcpt_to,
        "to": [a["email"] for a in email.to], "cc": [a["email"] for a in email.cc],
        "subject": email.subject, "message-id": header_text(email, "message-id"),
        "in-reply-to": header_text(email, "in-reply-to"),
        "references": header_text(email, "references"), "body": email.text or email.html or "",
        "at": now, "email_id": email.id, "submission_id": sub_id,
    })  # fmt: skip
    sub = {"id": sub_id, "identityId": identity["id"], "emailId": email.id,
           "threadId": email.thread_id, "envelope": {"mailFrom": {"email": mail_from},
           "rcptTo": [{"email": r} for r in rcpt_to]}, "sendAt": now, "undoStatus": "final",
           "deliveryStatus": None, "dsnBlobIds": [], "mdnBlobIds": []}  # fmt: skip
    s.submissions[sub_id] = sub
    return sub


def submission_set(api: Api, args: Json) -> Answer:
    s = api.s
    check_state(api, args)
    old, created, not_created = str(s.state), {}, {}
    done: dict[str, str] = {}  # "#creationId" or submission id -> email id
    for cid, obj in (args.get("create") or {}).items():
        try:
            sub = _submit(api, obj)
        except SetError as exc:
            not_created[cid] = exc.as_json()
            continue
        api.created[cid] = sub["id"]
        done["#" + cid] = done[sub["id"]] = sub["emailId"]
        created[cid] = {"id": sub["id"], "sendAt": sub["sendAt"], "undoStatus": "final"}
    answers = api.set_answer("EmailSubmission/set", old, {
        "created": created, "notCreated": not_created, "updated": {}, "destroyed": [],
    })  # fmt: skip
    # RFC 8621 7.5: the follow-up Email/set is answered as if the client had made it.
    update = {done[k]: p for k, p in (args.get("onSuccessUpdateEmail") or {}).items() if k in done}
    destroy = [done[k] for k in (args.get("onSuccessDestroyEmail") or []) if k in done]
    if update or destroy:
        answers += email_set(api, {"accountId": s.account_id, "update": update, "destroy": destroy})
    return answers
