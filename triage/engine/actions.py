"""Reply, escalate, reassign, acknowledge: domain operations with an outbox.

Every action is written to the outbox before it is attempted, so a dead network
or a crash loses nothing: `flush()` retries after the next good sync. A reply
records its own Message-ID before the first send; any later attempt first looks
that Message-ID up in the provider, so a reply is never sent twice.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable
from typing import Any

from triage.clock import Clock
from triage.config.loader import Config
from triage.domain.conversation import Doc, iso, parse_iso
from triage.domain.model import CEO_ID
from triage.engine.sync import SyncEngine
from triage.providers.base import (
    KW_ACK,
    KW_ESCALATED,
    KW_OWNER_PREFIX,
    OfflineError,
    OutgoingReply,
    Provider,
    ProviderError,
    UnclearOutcome,
)
from triage.service.api import Draft
from triage.store.cache import Cache
from triage.text.mailtext import header_safe

MAX_ATTEMPTS = 5


class ActionError(Exception):
    """The action cannot be done as asked (unknown thread, unqualified manager...)."""


class Actions:
    """The operations behind the keys and the CLI subcommands."""

    def __init__(
        self, cfg: Config, cache: Cache, engine: SyncEngine, provider: Provider, clock: Clock,
        user: str,
    ) -> None:  # fmt: skip
        self.cfg, self.cache, self.engine = cfg, cache, engine
        self.provider, self.clock, self.user = provider, clock, user

    # -- drafts ------------------------------------------------------------------

    def save_draft(self, thread_id: str, body: str, draft_id: str | None = None) -> Draft:
        """Write the draft to the outbox (atomically) as it is typed."""
        existing = self.cache.outbox_item(draft_id) if draft_id else None
        if existing is not None and existing.get("status") in ("sending", "unclear", "sent"):
            return _draft(existing)  # already on its way: the text can no longer change
        item = existing or {"id": draft_id or uuid.uuid4().hex, "kind": "reply",
                            "thread_id": thread_id, "status": "draft", "message_id": "",
                            "by": self.user, "attempts": 0}  # fmt: skip
        if item.get("status") == "failed":
            # The user is editing again: it is their draft, not for the background flush
            # to send half-typed. The failure was definite, so a fresh Message-ID is safe.
            item = {**item, "status": "draft", "message_id": ""}
        item = {**item, "body": body, "updated_at": iso(self.clock.now())}
        self.cache.put_outbox(item)
        return _draft(item)

    def drafts(self) -> list[Draft]:
        return [_draft(i) for i in self.cache.outbox() if i.get("kind") == "reply"]

    def discard(self, draft_id: str) -> None:
        item = self.cache.outbox_item(draft_id)
        if item is not None and item.get("status") in ("sending", "unclear"):
            raise ActionError("this reply may already have been sent; it cannot be discarded")
        self.cache.remove_outbox(draft_id)

    # -- replies -----------------------------------------------------------------

    async def send_reply(self, draft_id: str) -> Draft:
        item = self.cache.outbox_item(draft_id)
        if item is None:
            raise ActionError("no such draft")
        if not str(item.get("body", "")).strip():
            raise ActionError("the reply is empty")
        doc = self._doc(item["thread_id"])
        if item.get("status") == "draft":
            # Record our Message-ID before anything leaves, so a retry can look it up.
            item = {**item, "status": "sending", "message_id": self._new_message_id()}
            self.cache.put_outbox(item)
            return await self._send_new(item, doc)
        return await self._resume(item, doc)

    async def _send_new(self, item: Doc, doc: Doc) -> Draft:
        return await self._attempt(item, self.provider.send(self._outgoing(item, doc)))

    async def _resume(self, item: Doc, doc: Doc) -> Draft:
        """A retry: the Message-ID is looked up first, so the reply is never sent twice."""
        if item.get("status") == "sent":
            return _draft(item)
        found = await self.provider.find_sent(item["message_id"])
        if found is not None and found[0] == "sent":
            return self._sent(item)
        if found is not None:  # created before the connection dropped, never submitted
            return await self._attempt(
                item, self.provider.submit_existing(found[1], self._from_email())
            )
        return await self._attempt(item, self.provider.send(self._outgoing(item, doc)))

    async def _attempt(self, item: Doc, sending: Awaitable[None]) -> Draft:
        """Await one send and record what is known about it afterwards."""
        try:
            await sending
        except OfflineError as e:
            return self._set(item, "queued", str(e))  # never left: safe to send later
        except UnclearOutcome as e:
            return self._set(item, "unclear", str(e))  # look the Message-ID up first
        except ProviderError as e:
            self._set(item, "failed", str(e))
            raise
        return self._sent(item)

    def _sent(self, item: Doc) -> Draft:
        draft = self._set(item, "sent", "")
        self.engine.patch(item["thread_id"], {"waiting": False, "deadline": None})
        self._audit("reply", item["thread_id"], f"Message-ID {item['message_id']}")
        return draft

    def _set(self, item: Doc, status: str, error: str) -> Draft:
        attempts = int(item.get("attempts", 0)) + (status != "sent")
        fields = {"status": status, "error": error, "attempts": attempts,
                  "updated_at": iso(self.clock.now())}  # fmt: skip
        self.cache.update_outbox(item["id"], fields)
        return _draft({**item, **fields})

    def _outgoing(self, item: Doc, doc: Doc) -> OutgoingReply:
        """The reply to the client's latest message; every header value made safe."""
        subject = header_safe(doc["subject"])
        if not subject.casefold().startswith("re:"):
            subject = "Re: " + subject
        refs = [header_safe(r) for r in doc.get("refs", ()) if r]
        return OutgoingReply(
            message_id=item["message_id"],
            from_name=header_safe(self.cfg.manager_name(self.user)),
            from_email=self._from_email(),
            to=(header_safe(doc["reply_to"]),),
            cc=(),
            subject=subject,
            body=str(item["body"]),
            in_reply_to=refs[-1] if refs else "",
            references=tuple(refs),
        )

    def _from_email(self) -> str:
        if self.user == CEO_ID:
            return self.cfg.agency.ceo
        m = self.cfg.managers.get(self.user)
        return m.email if m else ""

    def _new_message_id(self) -> str:
        domain = self.cfg.agency.staff_domains[0] if self.cfg.agency.staff_domains else "triage"
        return f"triage.{uuid.uuid4().hex}@{domain}"

    # -- shared state: escalate, reassign, acknowledge -----------------------------

    async def escalate(self, thread_id: str, reason: str) -> bool:
        reason = reason.strip()
        if not reason:
            raise ActionError("an escalation needs a reason")
        self._doc(thread_id)
        patch = {"escalated": True, "escalation_reason": reason, "escalated_by": self.user,
                 "escalated_at": iso(self.clock.now()), "acknowledged": False}  # fmt: skip
        keywords = {KW_ESCALATED: True, KW_ACK: None}
        return await self._shared("escalate", thread_id, keywords, {"reason": reason}, patch)

    async def reassign(self, thread_id: str, to: str, reason: str, account: bool) -> bool:
        doc = self._doc(thread_id)
        manager = self.cfg.managers.get(to)
        if manager is None:
            raise ActionError(f"unknown manager {to!r}")
        if doc["region"] not in manager.regions:
            region = self.cfg.regions.get(doc["region"])
            label = region.label if region else doc["region"]
            raise ActionError(f"{manager.name} is not qualified for {label}")
        keywords: dict[str, bool | None] = {KW_OWNER_PREFIX + m: None for m in self.cfg.managers}
        keywords[KW_OWNER_PREFIX + to] = True
        note = {"reason": reason.strip(), "to": to, "from": doc["owner"], "account": account,
                "client": doc["client_key"]}  # fmt: skip
        return await self._shared("reassign", thread_id, keywords, note, {"owner": to})

    async def acknowledge(self, thread_id: str) -> bool:
        self._doc(thread_id)
        return await self._shared("ack", thread_id, {KW_ACK: True}, {}, {"acknowledged": True})

    async def _shared(
        self, action: str, thread_id: str, keywords: dict[str, bool | None],
        note: dict[str, Any], patch: dict[str, Any],
    ) -> bool:  # fmt: skip
        """Queue, apply locally, then write to the provider; False when left queued."""
        at = iso(self.clock.now())
        item = {"id": uuid.uuid4().hex, "kind": "action", "action": action,
                "thread_id": thread_id, "keywords": keywords, "status": "queued", "attempts": 0,
                "note": {"action": action, "by": self.user, "at": at, **note}}  # fmt: skip
        self.cache.put_outbox(item)
        self.engine.patch(thread_id, patch)
        self._audit(action, thread_id, json.dumps(note, ensure_ascii=False))
        return await self._perform(item)

    async def _perform(self, item: Doc) -> bool:
        doc = self._doc(item["thread_id"])
        ids, refs = list(doc["email_ids"]), list(doc.get("refs", ()))
        try:
            await self.provider.set_keywords(ids, item["keywords"])
            note = item["note"]
            account = bool(note.get("account", False))
            await self.provider.add_note(doc["subject"], refs, json.dumps(note), account)
        except OfflineError as e:
            self._set(item, "queued", str(e))
            return False
        self.cache.remove_outbox(item["id"])
        return True

    async def flush(self) -> int:
        """Retry everything queued (after a good sync); returns how many went through."""
        done = 0
        for item in self.cache.outbox():
            if int(item.get("attempts", 0)) >= MAX_ATTEMPTS and item.get("status") == "failed":
                continue
            try:
                done += await self._flush_one(item)
            except OfflineError:
                break
            except (ProviderError, ActionError) as e:
                self._set(item, "failed", str(e))
        return done

    async def _flush_one(self, item: Doc) -> int:
        if item.get("kind") == "action":
            return int(await self._perform(item))
        status = item.get("status")
        if status == "sent":
            return int(self._confirm(item))
        if status in ("queued", "sending", "unclear", "failed"):
            draft = await self._resume(item, self._doc(item["thread_id"]))
            return int(draft.status == "sent")
        return 0

    def _confirm(self, item: Doc) -> bool:
        """Drop a sent reply from the outbox once the provider shows it in the thread."""
        doc = self.cache.conversation(item["thread_id"])
        wanted = str(item.get("message_id", "")).strip("<>")
        mids = {str(m).strip("<>") for m in (doc or {}).get("staff_mids", ())}
        if doc is None or wanted in mids:
            self.cache.remove_outbox(item["id"])
            return True
        return False

    # -- helpers -------------------------------------------------------------------

    def _doc(self, thread_id: str) -> Doc:
        doc = self.engine.doc(thread_id)
        if doc is None:
            raise ActionError(f"no conversation {thread_id!r} in the cache (run a sync first)")
        return doc

    def _audit(self, action: str, thread_id: str, detail: str) -> None:
        self.cache.audit(self.user, action, thread_id, detail, iso(self.clock.now()))


def _draft(item: Doc) -> Draft:
    at = item.get("updated_at")
    return Draft(
        id=item["id"],
        thread_id=item["thread_id"],
        body=str(item.get("body", "")),
        status=str(item.get("status", "draft")),
        message_id=str(item.get("message_id", "")),
        updated_at=parse_iso(at) if isinstance(at, str) else None,
        error=str(item.get("error", "")),
    )
