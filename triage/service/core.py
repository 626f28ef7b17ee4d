"""`TriageService`: the Service the console and the CLI use, wired from a Config.

It owns one Cache, one provider, the sync engine and the actions. Building it
does no network I/O; `sync()` talks to the provider.
"""

from __future__ import annotations

import contextlib
import gc
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from triage.clock import Clock
from triage.config.loader import Config, read_secret
from triage.domain.conversation import iso, parse_iso, to_conversation
from triage.domain.model import Conversation, Message
from triage.domain.ordering import QueueView
from triage.engine.actions import Actions
from triage.engine.sync import SyncEngine
from triage.providers.base import KW_NOTE, FullEmail, OfflineError, ProviderError
from triage.providers.jmap.client import JmapProvider
from triage.providers.jmap.http import Credentials, JmapHttp
from triage.service.api import Draft, ManagerChoice, SyncResult, SyncStatus, ThreadView
from triage.store.cache import Cache, CacheError


class TriageService:
    """The one object behind the keys and the CLI subcommands."""

    def __init__(
        self,
        config: Config,
        clock: Clock,
        *,
        user: str | None = None,
        env: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        credentials: Credentials | None = None,
        session_url: str | None = None,
        cache: Cache | None = None,
    ) -> None:
        self.config = config
        self.user = user or config.user
        self.clock = clock
        with _collector_paused():
            self.cache = cache or Cache(config.cache_path, clock=clock)
            p = config.provider
            creds = credentials or _credentials(config, env or {})
            http = JmapHttp(
                session_url or p.session_url, creds, account=p.account,
                timeout=p.timeout_seconds, transport=transport, clock=clock,
            )  # fmt: skip
            self.provider = JmapProvider(http, mailbox=p.mailbox, notes_mailbox=p.notes_mailbox)
            self.engine = SyncEngine(config, self.cache, self.provider, clock)
            self.actions = Actions(config, self.cache, self.engine, self.provider, clock, self.user)
            self.engine.load()
        self._reported = False
        self._queued = 0

    # -- reading -------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    def conversations(self) -> list[Conversation]:
        return list(self.engine.conversations.values())

    def conversation(self, thread_id: str) -> Conversation | None:
        return self.engine.conversations.get(thread_id)

    def queue(self) -> list[Conversation]:
        """The waiting conversations in queue order (the order is by absolute deadline)."""
        return self.engine.ordered.view().conversations()

    def queue_view(self) -> QueueView:
        return self.engine.ordered.view()

    def escalations(self, now: datetime | None = None) -> list[Conversation]:
        grace = timedelta(minutes=self.config.agency.escalate_after_minutes)
        return self.engine.ordered.view().escalations(now or self.now(), grace)

    def status(self) -> SyncStatus:
        """Asked every second by the status bar: cheap (the outbox file is re-read only
        when it changed) and it never raises: a disk problem keeps the last count."""
        try:
            items = self.cache.outbox()
        except (OSError, CacheError):
            items = None
        if items is not None:
            # Waiting for the provider: queued actions, and replies past the draft stage.
            self._queued = sum(i.get("status") not in ("sent", "draft") for i in items)
        return SyncStatus(
            online=self.engine.online,
            syncing=self.engine.syncing,
            offline_since=self.engine.offline_since,
            last_sync=self.engine.last_sync,
            outbox_count=self._queued,
            error=self.engine.error,
        )

    def reports(self) -> list[str]:
        """Things to tell the user once (a corrupt cache moved aside, ...)."""
        if self._reported:
            return []
        self._reported = True
        return list(self.cache.reports)

    async def start(self) -> None:
        """Nothing to do before the first sync: the queue is already loaded from the cache."""

    async def sync(self) -> SyncResult:
        result = await self.engine.run_once()
        flushed = await self.actions.flush()
        return replace(result, flushed=flushed)

    async def wait_for_changes(self, timeout: float) -> None:
        with contextlib.suppress(ProviderError):  # the next sync round reports it
            await self.provider.wait_for_push(timeout)

    async def thread(self, thread_id: str) -> ThreadView:
        """The messages of a conversation from the provider; the cached copy when offline."""
        doc = self.engine.doc(thread_id)
        if doc is None:
            raise ProviderError(f"no conversation {thread_id!r}")
        offline = False
        try:
            # Ask the server which messages the thread has now: a reply just sent is
            # in it before the next sync has brought it to the cache.
            ids = await self.provider.thread_email_ids(thread_id) or list(doc["email_ids"])
            fetched = await self.provider.messages(ids)
            stored = [_stored(m) for m in fetched if KW_NOTE not in m.summary.keywords]
            with contextlib.suppress(OSError):  # a full disk must not hide the thread
                self.cache.store_bodies(thread_id, stored)
        except (OfflineError, ProviderError):
            offline = True
            stored = self.cache.bodies(thread_id) or []
        conv = self.engine.conversations.get(thread_id) or to_conversation(doc)
        messages = tuple(_message(thread_id, m) for m in stored)
        if not messages:
            messages = (_unavailable(conv),)
        return ThreadView(conv, messages, tuple(self._history(conv)), offline)

    def _history(self, conv: Conversation) -> list[str]:
        out = []
        for n in conv.notes:
            when = n.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
            who = self.config.manager_name(n.by)
            if n.action == "escalate":
                out.append(f"{when} {who} escalated: {n.reason}")
            elif n.action == "reassign":
                scope = " (whole account)" if n.account else ""
                to = self.config.manager_name(n.to)
                out.append(f"{when} {who} reassigned to {to}{scope}: {n.reason}")
            elif n.action == "ack":
                out.append(f"{when} {who} acknowledged the escalation")
        return out

    # -- drafts and actions ------------------------------------------------------------

    def drafts(self) -> list[Draft]:
        return self.actions.drafts()

    def save_draft(self, thread_id: str, body: str, draft_id: str | None = None) -> Draft:
        return self.actions.save_draft(thread_id, body, draft_id)

    def discard_draft(self, draft_id: str) -> None:
        self.actions.discard(draft_id)

    async def send_reply(self, draft_id: str) -> Draft:
        return await self.actions.send_reply(draft_id)

    async def escalate(self, thread_id: str, reason: str) -> None:
        await self.actions.escalate(thread_id, reason)

    async def reassign(self, thread_id: str, to: str, reason: str, account: bool) -> None:
        await self.actions.reassign(thread_id, to, reason, account)

    async def acknowledge(self, thread_id: str) -> None:
        await self.actions.acknowledge(thread_id)

    def managers_for(self, thread_id: str) -> list[ManagerChoice]:
        conv = self.engine.conversations.get(thread_id)
        region_id = conv.region if conv else ""
        region = self.config.regions.get(region_id)
        label = region.label if region else region_id
        now = self.now()
        load: Counter[str] = Counter()
        late: Counter[str] = Counter()
        for c in self.engine.ordered.view():  # one pass, whatever the number of managers
            load[c.owner] += 1
            late[c.owner] += c.deadline is not None and c.deadline <= now
        out = []
        for m in self.config.managers.values():
            ok = region_id in m.regions
            why = "" if ok else f"not qualified for {label}"
            out.append(ManagerChoice(m, ok, why, load[m.id], late[m.id]))
        return out

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.provider.aclose()
        self.cache.close()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic GC while the cache loads, then freeze what was loaded.

    Loading 50k cached conversations allocates millions of acyclic objects: the
    collector would walk them again and again as they pile up (about a third
    of the load time), and every later full collection would pause the
    console for ~200 ms. Frozen objects are still freed by reference counting.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def _credentials(cfg: Config, env: Mapping[str, str]) -> Credentials:
    p = cfg.provider
    if p.kind == "demo":
        return Credentials("bearer", "", "")
    key = "provider.token_env" if p.token_env and p.token_env in env else "provider.token_file"
    return Credentials(p.auth, p.username, read_secret(p, env), secret_key=key)


def _stored(m: FullEmail) -> dict[str, Any]:
    e = m.summary
    return {"id": e.id, "from": e.from_email, "name": e.from_name, "at": iso(e.received_at),
            "subject": e.subject, "to": list(e.to), "cc": list(e.cc), "mid": e.message_id,
            "text": m.text, "warnings": list(m.warnings)}  # fmt: skip


def _message(thread_id: str, m: dict[str, Any]) -> Message:
    return Message(
        id=str(m["id"]),
        thread_id=thread_id,
        sender=str(m["from"]),
        sender_name=str(m.get("name", "")),
        received_at=parse_iso(str(m["at"])),
        subject=str(m.get("subject", "")),
        to=tuple(m.get("to", ())),
        cc=tuple(m.get("cc", ())),
        message_id=str(m.get("mid", "")),
        body=str(m.get("text", "")),
        warnings=tuple(m.get("warnings", ())),
    )


def _unavailable(conv: Conversation) -> Message:
    """Offline and never opened before: say so instead of showing an empty thread."""
    return Message(
        id="",
        thread_id=conv.thread_id,
        sender=conv.client_email,
        sender_name=conv.client_name,
        received_at=conv.last_message_at,
        subject=conv.subject,
        warnings=("offline: the messages of this conversation are not in the cache yet",),
    )
