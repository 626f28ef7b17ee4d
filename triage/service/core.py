"""`TriageService`: the Service the console and the CLI use, wired from a Config.

It owns one Cache, one provider (picked by `provider.kind` through the registry,
or given: the demo and the tests hand one in), the live view, the sync engine,
the outbox and the actions. Building it does no network I/O; `sync()` talks to
the provider.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from triage.clock import Clock
from triage.config.paths import default_data_dir
from triage.domain import away, history, nudges, report, views
from triage.domain.away import Away
from triage.domain.model import Conversation, Message, Note, NoteAction, ThreadData, ThreadRef
from triage.domain.ordering import QueueView
from triage.domain.outbox import Draft, OutboxStatus
from triage.domain.reasons import reason_label
from triage.domain.report import Detail
from triage.domain.settings import Config
from triage.engine.actions import Actions
from triage.engine.live import LiveQueue
from triage.engine.nudges import Nudger, NudgeRound
from triage.engine.outbox import ActionError, Outbox
from triage.engine.sync import SyncEngine, SyncResult
from triage.engine.threads import ThreadPage, ThreadReader
from triage.engine.workflow import WorkflowActions
from triage.providers.base import Provider, ProviderError, deferred_provider
from triage.service.api import ManagerChoice, SyncStatus, ThreadView
from triage.store.cache import Cache, CacheError
from triage.text.i18n import _


class TriageService:
    """The one object behind the keys and the CLI subcommands."""

    def __init__(
        self,
        config: Config,
        clock: Clock,
        *,
        user: str | None = None,
        env: Mapping[str, str] | None = None,
        provider: Provider | None = None,
        cache: Cache | None = None,
    ) -> None:
        self.config = config
        self.user = user or config.user
        self.env = env if env is not None else os.environ  # where exports go (XDG_DATA_HOME)
        self.clock = clock
        with _collector_paused():
            self.cache = cache or Cache(config.cache_path, shared=config.cache_shared, clock=clock)
            self.provider = provider or deferred_provider(config.provider, env=env or {},
                                                          clock=clock)  # fmt: skip
            self.live = LiveQueue(lambda thread_id: self.outbox.pending(thread_id))
            self.outbox = Outbox(config, self.cache, self.provider, clock, self.live, self.user)
            self.engine = SyncEngine(config, self.cache, self.provider, clock, self.live)
            self.actions = Actions(config, self.cache, self.live, self.outbox, clock, self.user)
            self.workflow = WorkflowActions(self.actions)
            self.threads = ThreadReader(self.cache, self.provider)
            self.nudger = Nudger(config, self.provider, clock, self.live, self.user)
            self.engine.load()
        self._reported = 0  # how many of the cache's reports were handed out
        self._counts = (0, 0)

    # -- reading -------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    def conversations(self) -> list[Conversation]:
        return self.live.all()

    def conversation(self, thread_id: str) -> Conversation | None:
        return self.live.get(thread_id)

    def queue_view(self, now: datetime | None = None) -> QueueView:
        """The queue at `now` (default: the clock's): snoozed ones out until they wake."""
        return self.live.view(now or self.now())

    def escalations(self, now: datetime | None = None) -> list[Conversation]:
        grace = timedelta(minutes=self.config.agency.escalate_after_minutes)
        at = now or self.now()
        return self.live.view(at).escalations(at, grace)

    def status(self) -> SyncStatus:
        """Asked every second by the status bar: cheap (the outbox file is re-read only
        when it changed) and it never raises: a disk problem keeps the last counts."""
        try:
            items = self.cache.outbox()
        except (OSError, CacheError):
            items = None
        if items is not None:
            items = [i for i in items if i.by in ("", self.user)]  # a team cache: mine only
            on_way = sum(i.status.on_its_way for i in items)
            failed = sum(i.status is OutboxStatus.FAILED for i in items)
            self._counts = (on_way, failed)
        c = self.engine.connection
        return SyncStatus(
            online=c.online,
            syncing=c.syncing,
            offline_since=c.offline_since,
            last_sync=c.last_sync,
            outbox_count=self._counts[0],
            error=c.error,
            failed_count=self._counts[1],
        )

    def reports(self) -> list[str]:
        """Things to tell the user once (a corrupt cache moved aside, ...): those found
        since the last call (some only show when a file is first read, after start)."""
        new = self.cache.reports[self._reported :]
        self._reported += len(new)
        return list(new)

    async def sync(self) -> SyncResult:
        result = await self.engine.run_once()
        flushed = await self.outbox.flush()
        return replace(result, flushed=flushed)

    async def report(self, start: datetime, end: datetime, by: str) -> list[dict[str, object]]:
        """The CEO's report over [start, end), read whole from the provider (not the
        cache: every console computes the same numbers)."""
        threads, owners = await self._everything()
        return report.report(threads, self.config, start, end, by, owners)

    async def report_detail(self, start: datetime, end: datetime) -> Detail:
        """What the Report screen draws over [start, end), from one read of the provider."""
        threads, owners = await self._everything()
        return report.detail(threads, self.config, start, end, owners)

    def export_report(self, rows: list[dict[str, object]], by: str, start: datetime,
                      end: datetime) -> Path:  # fmt: skip
        """The rows as CSV (as `triage report --csv`) in a new file under the user's data
        directory ($XDG_DATA_HOME/triage/reports); its path. Never overwrites one."""
        folder = default_data_dir(self.env) / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"report-{start:%Y%m%d}-{end:%Y%m%d-%H%M}-by-{by}"
        for n in range(1000):
            path = folder / (f"{stem}.csv" if n == 0 else f"{stem}-{n}.csv")
            try:
                with path.open("x", encoding="utf-8", newline="") as f:
                    f.write(report.as_csv(rows))
            except FileExistsError:
                continue
            return path
        raise OSError(f"too many exports named {stem} in {folder}")

    async def _everything(self) -> tuple[list[ThreadData], dict[str, str]]:
        snap = await self.provider.full_sync()
        account = [*snap.account_notes, *(n for t in snap.threads for n in t.notes if n.account)]
        owners = {k: to for k, (to, _) in history.account_owners(account, {}).items()}
        return list(snap.threads), owners

    # -- absences and nudges -------------------------------------------------------------

    def absences(self, now: datetime | None = None) -> dict[str, Away]:
        """The managers away now, as the last sync read them from the provider."""
        return away.absences(self.engine.team or (), now or self.now())

    async def set_away(self, manager: str, until: datetime | None, backup: str = "") -> None:
        """Record on the provider that `manager` is away until `until` (None: is back),
        with `backup` taking their alerts ("" : the least-loaded qualified colleague)."""
        cfg, now = self.config, self.now()
        if manager not in cfg.managers:
            raise ActionError(f"no manager {manager!r} in the config ([managers.{manager}])")
        if backup and (backup not in cfg.managers or backup == manager):
            raise ActionError(f"the backup must be another configured manager, not {backup!r}")
        if until is not None and until <= now:
            raise ActionError("an absence ends in the future")
        note = away.note(manager, self.user, now, until, backup)
        await self.provider.add_note(ThreadRef(""), note)
        self.engine.team = history.merged([*(self.engine.team or ()), note])

    async def watch_round(self) -> NudgeRound:
        """One round of `triage watch`: sync, then send the nudges due now."""
        await self.sync()
        return await self.nudger.run(self.absences())

    async def wait_for_changes(self, timeout: float) -> None:
        with contextlib.suppress(ProviderError):  # the next sync round reports it
            await self.provider.wait_for_changes(timeout)

    async def thread(self, thread_id: str) -> ThreadView:
        """The messages of a conversation from the provider; the cached copy when offline."""
        conv = self.live.get(thread_id)
        if conv is None:
            raise ProviderError(f"no conversation {thread_id!r}")
        page = await self.threads.open(thread_id)
        shown = page.messages or (_unavailable(conv),)
        return ThreadView(conv, shown, tuple(self._history(conv)), page.offline,
                          page.message_ids)  # fmt: skip

    async def earlier(self, view: ThreadView) -> ThreadView:
        page = ThreadPage(view.message_ids, view.messages, view.offline)
        more = await self.threads.earlier(page)
        return replace(view, messages=more.messages)

    def _history(self, conv: Conversation) -> list[str]:
        """The notes as lines: when (UTC), who, what and why ("replying now" left out)."""
        out = []
        for n in conv.notes:
            what = self._what(n)
            if what:
                when = n.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
                out.append(f"{when} {self.config.manager_name(n.by)} {what}")
        return out

    def _what(self, n: Note) -> str:
        name = self.config.manager_name
        until = n.until.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if n.until else "?"
        scope = _(" (whole account)") if n.account else ""
        why = reason_label(n.reason)
        lines: dict[str, str] = {
            NoteAction.ESCALATE: _("escalated: {reason}").format(reason=why),
            NoteAction.DEESCALATE: _("took the escalation back: {reason}").format(reason=why),
            NoteAction.REASSIGN: _("reassigned to {who}{scope}: {reason}").format(
                who=name(n.to), scope=scope, reason=why
            ),
            NoteAction.ACK: _("acknowledged the escalation"),
            NoteAction.UNACK: _("took back the acknowledgement"),
            NoteAction.DONE: _("marked it done: {reason}").format(reason=why),
            NoteAction.REOPEN: _("reopened it"),
            NoteAction.SNOOZE: _("snoozed it until {time}").format(time=until),
            NoteAction.WAKE: _("woke it"),
            nudges.NUDGED: _("emailed {who} a nudge ({step})").format(
                who=name(n.to), step=_(n.reason.partition("|")[0])
            ),
        }
        return lines.get(n.action, "")  # a newer triage's actions: left out

    # -- drafts and actions ------------------------------------------------------------

    def drafts(self) -> list[Draft]:
        return self.outbox.drafts()

    def save_draft(self, thread_id: str, body: str, draft_id: str | None = None) -> Draft:
        return self.outbox.save_draft(thread_id, body, draft_id)

    def discard_draft(self, draft_id: str) -> None:
        self.outbox.discard(draft_id)

    async def send_reply(self, draft_id: str, hold: float = 0) -> Draft:
        return await self.outbox.send_reply(draft_id, hold)

    def take_back(self, draft_id: str) -> Draft:
        return self.outbox.take_back(draft_id)

    async def escalate(self, thread_id: str, reason: str) -> bool:
        return await self.actions.escalate(thread_id, reason)

    async def reassign(self, thread_id: str, to: str, reason: str, account: bool) -> bool:
        return await self.actions.reassign(thread_id, to, reason, account)

    async def acknowledge(self, thread_id: str) -> bool:
        return await self.actions.acknowledge(thread_id)

    async def unacknowledge(self, thread_id: str) -> bool:
        return await self.actions.unacknowledge(thread_id)

    async def done(self, thread_id: str, reason: str = "") -> bool:
        return await self.workflow.done(thread_id, reason)

    async def reopen(self, thread_id: str) -> bool:
        return await self.workflow.reopen(thread_id)

    async def snooze(self, thread_id: str, until: datetime) -> bool:
        return await self.workflow.snooze(thread_id, until)

    async def wake(self, thread_id: str) -> bool:
        return await self.workflow.wake(thread_id)

    async def unsnooze(self, thread_id: str) -> bool:
        return await self.workflow.unsnooze(thread_id)

    async def deescalate(self, thread_id: str, reason: str) -> bool:
        return await self.workflow.deescalate(thread_id, reason)

    async def replying(self, thread_id: str, on: bool) -> bool:
        return await self.workflow.replying(thread_id, on)

    def view(self, name: str, now: datetime | None = None) -> list[Conversation]:
        """The conversations of a view ("waiting", "snoozed", "done", "answered", "all")."""
        return views.in_view(self.live.all(), name, now or self.now())

    def search(self, text: str) -> list[Conversation]:
        """Every cached conversation matching `text`, in its fields or its cached bodies."""
        return views.search(self.live.all(), text, self.cache.threads_mentioning(text.split()))

    def managers_for(self, thread_id: str) -> list[ManagerChoice]:
        conv = self.live.get(thread_id)
        region_id = conv.region if conv else ""
        region = self.config.regions.get(region_id)
        label = region.label if region else region_id
        now = self.now()
        load: Counter[str] = Counter()
        late: Counter[str] = Counter()
        view = self.live.view(now)
        for c in (*view, *view.sleeping):  # one pass, whatever the number of managers
            load[c.owner] += 1
            late[c.owner] += c.deadline is not None and c.deadline <= now
        out = []
        for m in self.config.managers.values():
            ok = region_id in m.regions
            why = "" if ok else _("not qualified for {region}").format(region=label)
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
