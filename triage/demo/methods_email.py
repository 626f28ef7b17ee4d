"""Email/get and Email/set of the in-memory JMAP server (RFC 8621 4.2 and 4.6).

Owns how a stored email is rendered (properties, header forms, body parts and
values) and how one is created, patched (keywords, mailboxes) or destroyed.
Email/query lives in jmap_methods_query; everything here reads and writes the
JmapServer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from triage.demo.api import Answer, Api, check_state, pick, too_many
from triage.demo.store import (
    Json,
    MethodError,
    SetError,
    StoredEmail,
    address,
    bare_id,
    check_keywords,
    header_text,
    is_keyword,
    parse_utc,
    utc_text,
)

if TYPE_CHECKING:
    pass

EMAIL_PROPERTIES = [
    "id", "blobId", "threadId", "mailboxIds", "keywords", "size", "receivedAt", "messageId",
    "inReplyTo", "references", "sender", "from", "to", "cc", "bcc", "replyTo", "subject",
    "sentAt", "hasAttachment", "preview", "bodyValues", "textBody", "htmlBody", "attachments",
]  # fmt: skip
EMAIL_CREATE = {
    "mailboxIds", "keywords", "from", "to", "cc", "bcc", "replyTo", "sender", "subject",
    "messageId", "inReplyTo", "references", "sentAt", "receivedAt", "bodyValues", "textBody",
    "htmlBody", "attachments",
}  # fmt: skip
HEADER_FORMS = {"asRaw", "asText", "asAddresses", "asGroupedAddresses", "asMessageIds",
                "asDate", "asURLs"}  # fmt: skip


# ---- Email/get ----


@dataclass(frozen=True)
class BodyOptions:
    text: bool
    html: bool
    max_bytes: int
    properties: list[str] | None

    @classmethod
    def from_args(cls, args: Json) -> BodyOptions:
        every = bool(args.get("fetchAllBodyValues"))
        return cls(
            text=every or bool(args.get("fetchTextBodyValues")),
            html=every or bool(args.get("fetchHTMLBodyValues")),
            max_bytes=int(args.get("maxBodyValueBytes") or 0),
            properties=args.get("bodyProperties"),
        )


def _part(email: StoredEmail, part_id: str, kind: str, text: str) -> Json:
    return {
        "partId": part_id, "blobId": f"G{email.id}.{part_id}", "size": len(text.encode()),
        "type": kind, "charset": "utf-8", "name": None, "disposition": None, "cid": None,
        "language": None, "location": None, "headers": [],
    }  # fmt: skip


def _body_parts(email: StoredEmail) -> tuple[list[Json], list[Json], Json]:
    """(textBody, htmlBody, bodyStructure); HTML-only mail lists its HTML part in textBody."""
    text = _part(email, "1", "text/plain", email.text)
    html = _part(email, "2", "text/html", email.html) if email.html is not None else None
    if html is None:
        return [text], [text], text
    if not email.text:
        return [html], [html], html
    structure = {**_part(email, "0", "multipart/alternative", ""), "subParts": [text, html]}
    return [text], [html], structure


def _truncate(text: str, limit: int) -> tuple[str, bool]:
    raw = text.encode()
    if not limit or len(raw) <= limit:
        return text, False
    return raw[:limit].decode(errors="ignore"), True


def _body_values(email: StoredEmail, text_body: list[Json], html_body: list[Json],
                 opts: BodyOptions) -> Json:  # fmt: skip
    parts = (text_body if opts.text else []) + (html_body if opts.html else [])
    values: Json = {}
    for part in parts:
        source = email.html if part["type"] == "text/html" else email.text
        value, cut = _truncate(source or "", opts.max_bytes)
        values[part["partId"]] = {"value": value, "isEncodingProblem": False, "isTruncated": cut}
    return values


def _header_form(raw: str, form: str) -> Any:
    if form == "asRaw":
        return " " + raw
    if form == "asText":
        return raw.strip()
    if form in ("asAddresses", "asGroupedAddresses"):
        found = [address(a.strip()) for a in raw.split(",") if a.strip()]
        return found if form == "asAddresses" else [{"name": None, "addresses": found}]
    if form in ("asMessageIds", "asURLs"):
        return re.findall(r"<([^>]*)>", raw) or None
    try:
        from email.utils import parsedate_to_datetime

        return utc_text(parsedate_to_datetime(raw))
    except (TypeError, ValueError):
        return None


def header_property(email: StoredEmail, prop: str) -> Any:
    """`header:Name[:asForm][:all]` (RFC 8621 4.1.3)."""
    parts = prop.split(":")
    rest = parts[2:]
    every = rest[-1:] == ["all"]
    rest = rest[:-1] if every else rest
    form = rest[0] if rest else "asRaw"
    if len(parts) < 2 or not parts[1] or len(rest) > 1 or form not in HEADER_FORMS:
        raise MethodError("invalidArguments", f"bad header property {prop!r}")
    raw = header_text(email, parts[1])
    value = None if raw is None else _header_form(raw, form)
    if every:
        return [] if raw is None else [value]
    return value


def email_json(email: StoredEmail, props: list[str], opts: BodyOptions) -> Json:
    text_body, html_body, structure = _body_parts(email)
    full: Json = {
        "id": email.id, "blobId": f"G{email.id}", "threadId": email.thread_id,
        "mailboxIds": dict(email.mailbox_ids), "keywords": dict(email.keywords),
        "size": email.size, "receivedAt": utc_text(email.received_at),
        "messageId": email.message_id or None, "inReplyTo": email.in_reply_to,
        "references": email.references, "sender": None, "from": email.from_ or None,
        "to": email.to or None, "cc": email.cc or None, "bcc": email.bcc or None,
        "replyTo": None, "subject": email.subject, "sentAt": utc_text(email.sent_at),
        "hasAttachment": False, "preview": email.preview, "attachments": [],
        "textBody": text_body, "htmlBody": html_body, "bodyStructure": structure,
        "bodyValues": _body_values(email, text_body, html_body, opts),
    }  # fmt: skip
    if opts.properties is not None:
        for key in ("textBody", "htmlBody"):
            full[key] = [pick(p, opts.properties) for p in full[key]]
    out: Json = {"id": email.id}
    for prop in props:
        if prop.startswith("header:"):
            out[prop] = header_property(email, prop)
        elif prop in full:
            out[prop] = full[prop]
        else:
            raise MethodError("invalidArguments", f"unknown Email property {prop!r}")
    return out


def email_get(api: Api, args: Json) -> Answer:
    props = args.get("properties") or EMAIL_PROPERTIES
    opts = BodyOptions.from_args(args)
    return api.get("Email/get", args, api.s.emails, lambda e: email_json(e, props, opts))


# ---- Email/set ----


def _mailbox_ids(api: Api, value: object) -> dict[str, bool]:
    if not isinstance(value, dict) or not value:
        raise SetError("invalidProperties", "an email needs a mailbox", properties=["mailboxIds"])
    boxes = {api.real_id(k): True for k, flag in value.items() if flag is True}
    if len(boxes) != len(value) or any(b not in api.s.mailboxes for b in boxes):
        raise SetError("invalidProperties", "unknown mailbox", properties=["mailboxIds"])
    return boxes


def _address_list(obj: Json, key: str) -> list[Json]:
    value = obj.get(key) or []
    if not isinstance(value, list) or not all(isinstance(a, dict) and "email" in a for a in value):
        raise SetError("invalidProperties", f"{key} must list {{name, email}}", properties=[key])
    return [{"name": a.get("name"), "email": a["email"]} for a in value]


def _id_list(value: object, key: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = re.findall(r"<([^>]*)>", value) or [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SetError("invalidProperties", f"{key} must be a list of ids", properties=[key])
    return [bare_id(v) for v in value]


def _bodies(obj: Json) -> tuple[str, str | None]:
    values = obj.get("bodyValues") or {}
    text, html = "", None
    for key in ("textBody", "htmlBody"):
        for part in obj.get(key) or []:
            value = values.get(part.get("partId"), {}).get("value")
            if not isinstance(value, str):
                raise SetError("invalidProperties", "part without a body value", properties=[key])
            if part.get("type", "text/plain") == "text/html":
                html = value
            elif not text:
                text = value
    return text, html


def _new_email(api: Api, obj: object) -> StoredEmail:
    if not isinstance(obj, dict):
        raise SetError("invalidArguments", "an email must be an object")
    bad = [k for k in obj if k not in EMAIL_CREATE and not k.startswith("header:")]
    if bad:
        raise SetError("invalidProperties", "cannot set these", properties=bad)
    special = {"message-id": "messageId", "in-reply-to": "inReplyTo", "references": "references"}
    fields, headers = dict(obj), {}
    for key, value in obj.items():
        if key.startswith("header:"):
            name = key.split(":")[1].lower()
            if name in special:
                fields[special[name]] = value
            else:
                headers[name] = value if isinstance(value, str) else ", ".join(map(str, value))
    now = api.s.clock.now()
    received = parse_utc(fields["receivedAt"]) if "receivedAt" in fields else now
    text, html = _bodies(obj)
    return StoredEmail(
        id=api.s.new_id("M"), thread_id="",
        mailbox_ids=_mailbox_ids(api, obj.get("mailboxIds")),
        keywords=check_keywords(obj.get("keywords") or {}),
        from_=_address_list(obj, "from"), to=_address_list(obj, "to"),
        cc=_address_list(obj, "cc"), bcc=_address_list(obj, "bcc"),
        subject=str(obj.get("subject") or ""), received_at=received,
        sent_at=parse_utc(fields["sentAt"]) if "sentAt" in fields else received,
        message_id=_id_list(fields.get("messageId"), "messageId") or [],
        in_reply_to=_id_list(fields.get("inReplyTo"), "inReplyTo"),
        references=_id_list(fields.get("references"), "references"),
        text=text, html=html, headers=headers,
    )  # fmt: skip


def _patch_keyword(keywords: dict[str, bool], word: str, value: object) -> None:
    if not is_keyword(word):
        raise SetError("invalidProperties", f"bad keyword {word!r}", properties=["keywords"])
    if value is True:
        keywords[word.lower()] = True
    elif value is None:
        keywords.pop(word.lower(), None)
    else:
        raise SetError("invalidPatch", f"keywords/{word} must be true or null")


def apply_patch(api: Api, email_id: str, patch: object) -> None:
    email = api.s.emails.get(email_id)
    if email is None:
        raise SetError("notFound", f"no email {email_id!r}")
    if not isinstance(patch, dict):
        raise SetError("invalidPatch", "a patch must be an object")
    keywords, boxes = dict(email.keywords), dict(email.mailbox_ids)
    for path, value in patch.items():
        head, _, tail = path.partition("/")
        if path == "keywords":
            keywords = check_keywords(value)
        elif head == "keywords":
            _patch_keyword(keywords, tail, value)
        elif path == "mailboxIds":
            boxes = _mailbox_ids(api, value)
        elif head == "mailboxIds" and tail and value in (True, None):
            box = api.real_id(tail)
            if box not in api.s.mailboxes:
                raise SetError("invalidProperties", "unknown mailbox", properties=["mailboxIds"])
            boxes.update({box: True}) if value else boxes.pop(box, None)
        else:
            raise SetError("invalidProperties", f"cannot patch {path!r}", properties=[path])
    if not boxes:
        raise SetError("invalidProperties", "an email needs a mailbox", properties=["mailboxIds"])
    email.keywords = keywords
    if boxes != email.mailbox_ids:
        api.s.move(email_id, boxes)
    api.s.changed("Email", email_id, "updated")


def email_set(api: Api, args: Json) -> Answer:
    s = api.s
    check_state(api, args)
    too_many(api, args)
    old, created, not_created = str(s.state), {}, {}
    for cid, obj in (args.get("create") or {}).items():
        try:
            email_id = s.store(_new_email(api, obj))
        except SetError as exc:
            not_created[cid] = exc.as_json()
            continue
        api.created[cid] = email_id
        email = s.emails[email_id]
        created[cid] = {"id": email_id, "threadId": email.thread_id, "blobId": f"G{email_id}",
                        "size": email.size}  # fmt: skip
    updated: dict[str, None] = {}
    not_updated: Json = {}
    for raw, patch in (args.get("update") or {}).items():
        try:
            apply_patch(api, api.real_id(raw), patch)
            updated[api.real_id(raw)] = None
        except SetError as exc:
            not_updated[raw] = exc.as_json()
    destroyed, not_destroyed = [], {}
    for raw in args.get("destroy") or []:
        if api.real_id(raw) in s.emails:
            s.destroy(api.real_id(raw))
            destroyed.append(api.real_id(raw))
        else:
            not_destroyed[raw] = {"type": "notFound"}
    return api.set_answer("Email/set", old, {
        "created": created, "notCreated": not_created, "updated": updated,
        "notUpdated": not_updated, "destroyed": destroyed, "notDestroyed": not_destroyed,
    })  # fmt: skip
