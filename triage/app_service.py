"""`TriageService`: the Service the console and the CLI use, wired from a Config.

It owns one Cache, one provider, the sync engine and the actions. Building it
does no network I/O; `sync()` talks to the provider.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx

from triage import queue
from triage.actions import Actions
from triage.cache import Cache
from triage.clock import Clock
from triage.config import Config, read_secret
from triage.model import Conversation, Message
from triage.providers.base import OfflineError, ProviderError
from triage.providers.http import Credentials, JmapHttp
from triage.providers.jmap import JmapProvider
from triage.records import parse_iso, to_conversation
from triage.service import Draft, ManagerChoice, SyncResult, SyncStatus, ThreadView
from triage.sync import SyncEngine


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

    # -- reading -------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    def conversations(self) -> list[Conversation]:
        return list(self.engine.conversations.values())

    def queue(self, now: datetime | None = None) -> list[Conversation]:
        return queue.waiting(self.engine.conversations.values())

    def escalations(self, now: datetime | None = None) -> list[Conversation]:
        grace = timedelta(minutes=self.config.agency.escalate_after_minutes)
        return queue.escalations(self.engine.conversations.values(), now or self.now(), grace)

    def status(self) -> SyncStatus:
        pending = [i for i in self.cache.outbox() if i.get("status") != "sent"]
        replies = [i for i in pending if i.get("kind") == "reply" and i.get("status") != "draft"]
        return SyncStatus(
            online=self.engine.online,
            syncing=self.engine.syncing,
            offline_since=self.engine.offline_since,
            last_sync=self.engine.last_sync,
            outbox_count=len(replies) + sum(i.get("kind") == "action" for i in pending),
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
        doc = self.cache.conversation(thread_id)
        if doc is None:
            raise ProviderError(f"no conversation {thread_id!r}")
        mail = [e for e in doc["emails"] if not e["note"]]
        offline = False
        try:
            bodies = await self.provider.bodies([e["id"] for e in mail])
            stored = [{"id": k, "text": v[0], "warnings": list(v[1])} for k, v in bodies.items()]
            self.cache.store_bodies(thread_id, stored)
        except (OfflineError, ProviderError):
            offline = True
            cached = self.cache.bodies(thread_id) or []
            bodies = {b["id"]: (b["text"], tuple(b.get("warnings", ()))) for b in cached}
        conv = self.engine.conversations.get(thread_id)
        if conv is None:
            conv = to_conversation(doc)
        messages = tuple(_message(thread_id, e, bodies.get(e["id"])) for e in mail)
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
        open_convs = queue.waiting(self.engine.conversations.values())
        out = []
        for m in self.config.managers.values():
            mine = [c for c in open_convs if c.owner == m.id]
            late = sum(1 for c in mine if c.deadline is not None and c.deadline <= now)
            ok = region_id in m.regions
            why = "" if ok else f"not qualified for {label}"
            out.append(ManagerChoice(m, ok, why, len(mine), late))
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


def _message(
    thread_id: str, e: dict[str, object], body: tuple[str, tuple[str, ...]] | None
) -> Message:
    text, warnings = (
        body if body is not None else ("", ("the text of this message is not available offline",))
    )
    return Message(
        id=str(e["id"]),
        thread_id=thread_id,
        sender=str(e["from"]),
        sender_name=str(e.get("name", "")),
        received_at=parse_iso(str(e["at"])),
        subject=str(e.get("subject", "")),
        message_id=str(e.get("mid", "")),
        body=text,
        warnings=warnings,
    )
