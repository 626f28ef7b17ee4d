"""An in-memory `Service` for UI tests: a frozen clock, a small config, 12 conversations.

Owns nothing real: no cache, no provider, no network. Deadlines are set relative
to the frozen clock so each row has a known state (breached, at risk, ok). Every
action is recorded (`escalated`, `reassigned`, `sent`, `acknowledged`) and
changes the in-memory conversations the way the real core would, so tests can
assert on both the calls and the screen. `fail_next(exc)` makes the next async
action raise; `FakeService.hostile()` fills every text field with terminal
escapes, markup and bidi controls.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from tests.support.fake_report import canned_detail
from triage.clock import FrozenClock
from triage.config import AgencyConfig, Config, ProviderConfig, RoutingConfig
from triage.domain import away, views
from triage.domain.away import Away
from triage.domain.conversation import (
    as_done,
    as_reopened,
    as_snoozed,
    as_unsnoozed,
    as_woken,
)
from triage.domain.model import (
    CEO_ID,
    Client,
    Conversation,
    Manager,
    Message,
    Note,
    NoteAction,
    Region,
    Status,
    Tier,
)
from triage.domain.ordering import QueueView
from triage.domain.report import Detail, as_csv
from triage.engine.outbox import ActionError
from triage.engine.workflow import SNOOZE_AT_RISK, SNOOZE_DONE
from triage.service.api import (
    Draft,
    ManagerChoice,
    OutboxStatus,
    SyncResult,
    SyncStatus,
    ThreadView,
)

# Tuesday 11 March 2025, 11:00 in New York, 08:00 in Los Angeles: everyone is open.
FROZEN_AT = datetime(2025, 3, 11, 15, 0, tzinfo=UTC)
STAFF_DOMAIN = "agency.example"
CEO_EMAIL = f"ceo@{STAFF_DOMAIN}"

# Every nasty thing email text can carry: OSC 52 clipboard write, clear screen
# (7-bit and 8-bit CSI), OSC via C1, NUL, bidi override, Textual action markup,
# Rich link markup, an unterminated tag and a style tag.
HOSTILE = (
    "\x1b]52;c;aGk=\x07",
    "\x1b[2J",
    "\x9b2J",
    "\x9d0;x\x9c",
    "\x00",
    "\u202e",
    "[@click=app.quit]",
    "[link=https://x]boo[/link]",
    "[/",
    "[bold]x",
)
HOSTILE_TEXT = "".join(HOSTILE)


def _regions() -> dict[str, Region]:
    nine_to_five = (time(9), time(17))
    return {
        "us-east": Region("us-east", "US East", "America/New_York", "US", nine_to_five),
        "us-west": Region(
            "us-west",
            "US West",
            "America/Los_Angeles",
            "US",
            nine_to_five,
            reply_within=timedelta(hours=2),
        ),
        "ca-on": Region(
            "ca-on", "Ontario", "America/Toronto", "CA-ON", nine_to_five, reply_within=None
        ),
        "ca-qc": Region(
            "ca-qc", "Québec", "America/Montreal", "CA-QC", nine_to_five, reply_within=None
        ),
    }


def _managers() -> dict[str, Manager]:
    return {
        "alice": Manager("alice", "Alice Martin", f"alice@{STAFF_DOMAIN}", ("us-east", "us-west")),
        "bob": Manager("bob", "Bob Tremblay", f"bob@{STAFF_DOMAIN}", ("us-west", "ca-on")),
        "claire": Manager(
            "claire", "Claire Roy", f"claire@{STAFF_DOMAIN}", ("ca-on", "ca-qc", "us-east")
        ),
    }


# (thread, client name, domain, region, owner, tier, minutes left, extras)
_ROWS: tuple[tuple[str, str, str, str, str, Tier, int, dict[str, object]], ...] = (
    ("t01", "Acme Corp", "acme.com", "us-east", "alice", Tier.PREMIUM, -12,
     {"escalated": True, "escalation_reason": "breached", "escalated_by": "triage"}),
    ("t02", "Birch Media", "birch.com", "us-west", "bob", Tier.STANDARD, -65,
     {"escalated": True, "escalation_reason": "client wrote to the CEO",
      "escalated_by": "triage", "ceo_contacted": True}),
    ("t03", "Cobalt Labs", "cobalt.io", "us-east", "alice", Tier.STANDARD, 8, {}),
    ("t04", "Delta Foods", "deltafoods.ca", "ca-on", "claire", Tier.PREMIUM, 14, {}),
    ("t05", "Evergreen Realty", "evergreen.com", "us-west", "bob", Tier.STANDARD, 45, {}),
    ("t06", "Fjord Design", "fjord.qc.ca", "ca-qc", "claire", Tier.STANDARD, 180, {}),
    ("t07", "dana@gmail.com", "gmail.com", "us-east", "alice", Tier.STANDARD, 52,
     {"region_guessed": True}),
    ("t08", "Granite Partners", "granite.com", "us-east", "bob", Tier.PREMIUM, 90, {}),
    ("t09", "Harbor Logistics", "harbor.ca", "ca-on", "alice", Tier.STANDARD, 1200, {}),
    ("t10", "Ionic Systems", "ionic.com", "us-west", "alice", Tier.STANDARD, 30,
     {"escalated": True, "escalation_reason": "client unhappy", "escalated_by": "bob"}),
    ("t11", "Juniper Films", "juniper.qc.ca", "ca-qc", "claire", Tier.STANDARD, 240,
     {"waiting": False}),
    ("t12", "Kestrel Air", "kestrel.com", "us-east", "claire", Tier.STANDARD, -120,
     {"escalated": True, "escalation_reason": "breached", "escalated_by": "triage",
      "acknowledged": True}),
)  # fmt: skip

_SUBJECTS = {
    "t01": "[URGENT] Launch page is down",
    "t02": "Why has nobody called me back?",
    "t03": "Invoice 2291 question",
    "t04": "Menu photos for spring campaign",
    "t05": "Listing copy: second round",
    "t06": "Nouvelle charte graphique",
    "t07": "Quote request",
    "t08": "Q2 ad budget",
    "t09": "Shipping season plan",
    "t10": "This is not what we asked for",
    "t11": "Festival poster",
    "t12": "Booking engine outage",
}


class FakeService:
    """The `Service` protocol in memory, recording every call."""

    def __init__(self, *, user: str = "alice", clock: FrozenClock | None = None) -> None:
        self.clock = clock or FrozenClock(FROZEN_AT)
        self.user = user
        self.config = _config(user)
        self._convs: dict[str, Conversation] = {}
        self._messages: dict[str, tuple[Message, ...]] = {}
        self._drafts: dict[str, Draft] = {}
        self._draft_ids = itertools.count(1)
        self._fail: BaseException | None = None
        self._fail_only = ""
        self._changed = asyncio.Event()
        self._arrived: list[str] = []  # added since the last sync: the next one reports them
        self.sync_status = SyncStatus(True, False, None, self.clock.now(), 0)
        self.report_lines: list[str] = []
        # What tests assert on.
        self.closed = False
        self.sync_calls = 0
        self.escalated: list[tuple[str, str]] = []
        self.reassigned: list[tuple[str, str, str, bool]] = []
        self.sent: list[str] = []
        self.acknowledged: list[str] = []
        self.thread_reads: list[str] = []
        self.workflow: list[tuple[str, str, str]] = []  # (note action, thread id, reason)
        self.replying_calls: list[tuple[str, bool]] = []
        self.taken_back: list[str] = []
        self.away_notes: list[Note] = []  # absences recorded (the provider's team notes)
        self.report_periods: list[tuple[datetime, datetime]] = []
        self.report_gate: asyncio.Event | None = None  # set: report_detail waits for it
        self.exported: list[tuple[str, list[dict[str, object]]]] = []
        self.export_dir: Path | None = None  # where export_report writes (None: nowhere)
        self._populate(hostile=False)

    @classmethod
    def hostile(cls, **kwargs: object) -> FakeService:
        """The same data with escapes, markup and bidi controls in every text field."""
        svc = cls(**kwargs)  # type: ignore[arg-type]
        svc._populate(hostile=True)
        return svc

    # ---- data ----

    def _populate(self, *, hostile: bool) -> None:
        now = self.clock.now()
        self._convs.clear()
        self._messages.clear()
        for tid, name, domain, region, owner, tier, minutes, extra in _ROWS:
            subject = _SUBJECTS[tid]
            if hostile:
                name = f"{name} {HOSTILE_TEXT}"
                subject = f"{subject} {HOSTILE_TEXT}"
            conv = _conversation(tid, name, domain, region, owner, tier, minutes, extra, now)
            conv = dataclasses.replace(conv, subject=subject, client_name=name)
            self._convs[tid] = conv
            self._messages[tid] = _messages(conv, hostile)

    def add(self, conv: Conversation) -> None:
        """A conversation arrives (tests call `push_change()` to wake the sync loop)."""
        self._convs[conv.thread_id] = conv
        self._messages.setdefault(conv.thread_id, _messages(conv, False))
        self._arrived.append(conv.thread_id)

    def push_change(self) -> None:
        self._changed.set()

    def fail_next(self, exc: BaseException, only: str = "") -> None:
        """The next async call (sync or action; `only`: the next call of that method)
        raises `exc`."""
        self._fail, self._fail_only = exc, only

    def _maybe_fail(self, name: str = "") -> None:
        if self._fail_only and name != self._fail_only:
            return
        exc, self._fail = self._fail, None
        if exc is not None:
            raise exc

    def _update(self, thread_id: str, **changes: object) -> None:
        self._convs[thread_id] = dataclasses.replace(self._convs[thread_id], **changes)  # type: ignore[arg-type]

    # ---- Service protocol: reads ----

    def now(self) -> datetime:
        return self.clock.now()

    def conversations(self) -> list[Conversation]:
        return list(self._convs.values())

    def conversation(self, thread_id: str) -> Conversation | None:
        return self._convs.get(thread_id)

    def queue_view(self, now: datetime | None = None) -> QueueView:
        return QueueView.of(self._convs.values(), now or self.now())

    def status(self) -> SyncStatus:
        queued = sum(d.status.on_its_way for d in self._drafts.values())
        return dataclasses.replace(self.sync_status, outbox_count=queued)

    def reports(self) -> list[str]:
        """Each report once, as the real service hands them out."""
        out, self.report_lines = list(self.report_lines), []
        return out

    async def sync(self) -> SyncResult:
        self.sync_calls += 1
        self._maybe_fail()
        added, self._arrived = tuple(self._arrived), []
        return SyncResult(added=added, full=self.sync_calls == 1)

    async def wait_for_changes(self, timeout: float) -> None:
        # Wakes on push_change(); the timeout is real time but tests never wait on it.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)
        self._changed.clear()

    async def thread(self, thread_id: str) -> ThreadView:
        self.thread_reads.append(thread_id)
        self._maybe_fail()
        conv = self._convs[thread_id]
        history = tuple(f"{n.action} by {n.by}: {n.reason}" for n in conv.notes)
        return ThreadView(conv, self._messages[thread_id], history)

    async def earlier(self, view: ThreadView) -> ThreadView:
        return view  # the fake's threads are short: everything is loaded at once

    def managers_for(self, thread_id: str) -> list[ManagerChoice]:
        conv = self._convs[thread_id]
        region = self.config.regions[conv.region]
        out = []
        for m in self.config.managers.values():
            ok = conv.region in m.regions
            load = [c for c in self._convs.values() if c.owner == m.id and c.waiting]
            breached = sum(1 for c in load if (c.seconds_left(self.now()) or 0) < 0)
            why = "" if ok else f"not qualified for {region.label}"
            out.append(ManagerChoice(m, ok, why, len(load), breached))
        return out

    def absences(self, now: datetime | None = None) -> dict[str, Away]:
        return away.absences(self.away_notes, now or self.now())

    async def set_away(self, manager: str, until: datetime | None, backup: str = "") -> None:
        self._maybe_fail("set_away")
        self.away_notes.append(away.note(manager, self.user, self.now(), until, backup))

    # ---- drafts and replies ----

    def drafts(self) -> list[Draft]:
        return [d for d in self._drafts.values() if d.status is not OutboxStatus.SENT]

    def save_draft(self, thread_id: str, body: str, draft_id: str | None = None) -> Draft:
        draft_id = draft_id or f"d{next(self._draft_ids)}"
        draft = Draft(draft_id, thread_id, body, updated_at=self.now())
        self._drafts[draft_id] = draft
        return draft

    def discard_draft(self, draft_id: str) -> None:
        self._drafts.pop(draft_id, None)

    async def send_reply(self, draft_id: str, hold: float = 0) -> Draft:
        self._maybe_fail("send_reply")
        now = self.now()
        current = self._drafts[draft_id]
        if current.held(now) and hold > 0:
            return current
        if hold > 0 and current.status.editable:
            held = dataclasses.replace(current, status=OutboxStatus.QUEUED,
                                       not_before=now + timedelta(seconds=hold))  # fmt: skip
            self._drafts[draft_id] = held
            return held
        draft = dataclasses.replace(current, status=OutboxStatus.QUEUED, not_before=None)
        self._drafts[draft_id] = draft
        self.sent.append(draft_id)
        return draft

    def take_back(self, draft_id: str) -> Draft:
        current = self._drafts[draft_id]
        if not current.held(self.now()):
            raise ActionError("too late: the undo delay is over and the reply has gone")
        draft = dataclasses.replace(current, status=OutboxStatus.DRAFT, not_before=None)
        self._drafts[draft_id] = draft
        self.taken_back.append(draft_id)
        return draft

    def confirm_sent(self, draft_id: str) -> None:
        """The provider confirmed: the reply stops the clock, the row leaves the queue."""
        draft = dataclasses.replace(self._drafts[draft_id], status=OutboxStatus.SENT)
        self._drafts[draft_id] = draft
        self._update(draft.thread_id, waiting=False, deadline=None)

    # ---- actions ----

    async def escalate(self, thread_id: str, reason: str) -> bool:
        self._maybe_fail()
        self.escalated.append((thread_id, reason))
        note = Note("escalated", self.user, self.now(), reason)
        notes = (*self._convs[thread_id].notes, note)
        self._update(
            thread_id,
            escalated=True,
            escalation_reason=reason,
            escalated_by=self.user,
            escalated_at=self.now(),
            acknowledged=False,
            notes=notes,
        )
        return True

    async def reassign(self, thread_id: str, to: str, reason: str, account: bool) -> bool:
        self._maybe_fail()
        if to == self._convs[thread_id].owner and not account:  # as the engine refuses it
            raise ActionError(f"the conversation is already {self.config.manager_name(to)}'s")
        self.reassigned.append((thread_id, to, reason, account))
        note = Note("reassigned", self.user, self.now(), reason, to, account)
        self._update(thread_id, owner=to, notes=(*self._convs[thread_id].notes, note))
        return True

    async def acknowledge(self, thread_id: str) -> bool:
        self._maybe_fail()
        self._require_acknowledger()
        self.acknowledged.append(thread_id)
        note = Note("ack", self.user, self.now())
        notes = (*self._convs[thread_id].notes, note)
        self._update(thread_id, acknowledged=True, notes=notes)
        return True

    async def unacknowledge(self, thread_id: str) -> bool:
        self._maybe_fail()
        self._require_acknowledger()
        self.acknowledged.remove(thread_id)
        note = Note("unack", self.user, self.now())
        notes = (*self._convs[thread_id].notes, note)
        self._update(thread_id, acknowledged=False, notes=notes)
        return True

    # ---- the workflow (the domain's own transitions; refusals as the engine words them) ----

    def _record(self, thread_id: str, after: Conversation, note: Note) -> bool:
        self._maybe_fail()
        self.workflow.append((note.action, thread_id, note.reason))
        self._convs[thread_id] = dataclasses.replace(after, notes=(*after.notes, note))
        return True

    async def done(self, thread_id: str, reason: str = "") -> bool:
        conv = self._convs[thread_id]
        if conv.status is Status.DONE:
            raise ActionError("this conversation is already done")
        note = Note(NoteAction.DONE, self.user, self.now(), reason or "no reply needed")
        return self._record(thread_id, as_done(conv, note), note)

    async def reopen(self, thread_id: str) -> bool:
        conv = self._convs[thread_id]
        if conv.status is not Status.DONE:
            raise ActionError("this conversation is not done: there is nothing to reopen")
        return self._record(thread_id, as_reopened(conv), Note(NoteAction.REOPEN, self.user,
                                                               self.now()))  # fmt: skip

    async def snooze(self, thread_id: str, until: datetime) -> bool:
        if self._convs[thread_id].status is Status.DONE:
            raise ActionError(SNOOZE_DONE)
        after = as_snoozed(self._convs[thread_id], until, self.config)
        if after.wake_at is not None and after.wake_at <= self.now():
            raise ActionError(SNOOZE_AT_RISK)
        return self._record(thread_id, after, Note(NoteAction.SNOOZE, self.user, self.now(),
                                                   until=until))  # fmt: skip

    async def wake(self, thread_id: str) -> bool:
        conv = self._convs[thread_id]
        if conv.status is not Status.SNOOZED:
            raise ActionError("this conversation is not snoozed")
        after = as_woken(conv, self.now(), self.config)
        return self._record(thread_id, after, Note(NoteAction.WAKE, self.user, self.now()))

    async def unsnooze(self, thread_id: str) -> bool:
        conv = self._convs[thread_id]
        if conv.status is not Status.SNOOZED:
            raise ActionError("this conversation is not snoozed")
        note = Note(NoteAction.WAKE, self.user, self.now(), "snooze cancelled")
        return self._record(thread_id, as_unsnoozed(conv), note)

    async def deescalate(self, thread_id: str, reason: str) -> bool:
        if not self._convs[thread_id].escalated:
            raise ActionError("this conversation is not escalated by hand")
        after = dataclasses.replace(self._convs[thread_id], escalated=False,
                                    escalation_reason="", acknowledged=False)  # fmt: skip
        return self._record(thread_id, after, Note(NoteAction.DEESCALATE, self.user,
                                                   self.now(), reason))  # fmt: skip

    async def replying(self, thread_id: str, on: bool) -> bool:
        self.replying_calls.append((thread_id, on))
        return True

    def view(self, name: str, now: datetime | None = None) -> list[Conversation]:
        return views.in_view(self._convs.values(), name, now or self.now())

    def search(self, text: str) -> list[Conversation]:
        words = text.casefold().split()
        bodies = {t for t, msgs in self._messages.items()
                  if any(all(w in m.body.casefold() for w in words) for m in msgs)}  # fmt: skip
        return views.search(self._convs.values(), text, bodies)

    def _require_acknowledger(self) -> None:
        if not self.config.agency.may_acknowledge(self.user):  # as the engine refuses it
            raise ActionError(f"acknowledging escalations is for ceo, not {self.user}")

    async def report_detail(self, start: datetime, end: datetime) -> Detail:
        self._maybe_fail("report_detail")
        self.report_periods.append((start, end))
        if self.report_gate is not None:
            await self.report_gate.wait()
        return canned_detail(start, end, self._convs)

    def export_report(self, rows: list[dict[str, object]], by: str, start: datetime,
                      end: datetime) -> Path:  # fmt: skip
        self.exported.append((by, rows))
        path = (self.export_dir or Path("reports")) / f"report-by-{by}.csv"
        if self.export_dir is not None:
            path.write_text(as_csv(rows), encoding="utf-8")
        return path

    async def close(self) -> None:
        self.closed = True


def _config(user: str) -> Config:
    regions = _regions()
    managers = _managers()
    clients = {
        domain: Client(domain, name, region, owner, tier)
        for _, name, domain, region, owner, tier, _, extra in _ROWS
        if not extra.get("region_guessed")
    }
    return Config(
        path=None,
        provider=ProviderConfig(kind="demo", poll_seconds=30.0),
        user=user,
        agency=AgencyConfig(staff_domains=(STAFF_DOMAIN,), ceo=CEO_EMAIL, at_risk_minutes=15),
        regions=regions,
        managers=managers,
        clients=clients,
        routing=RoutingConfig(default_region="us-east", tld={"ca": "ca-on"}),
        cache_path=Path("fake-cache-never-written.json"),
        undo_send_seconds=0,  # replies go at once; the undo tests set a delay
    )


def _conversation(
    tid: str,
    name: str,
    domain: str,
    region: str,
    owner: str,
    tier: Tier,
    minutes: int,
    extra: dict[str, object],
    now: datetime,
) -> Conversation:
    deadline = now + timedelta(minutes=minutes)
    # Waiting since: an hour before a breached deadline, else a few minutes ago.
    arrival = deadline - timedelta(hours=1) if minutes < 0 else now - timedelta(minutes=7)
    fields: dict[str, object] = {
        "thread_id": tid,
        "subject": "",
        "client_email": f"contact@{domain}" if domain != "gmail.com" else "dana@gmail.com",
        "client_name": name,
        "client_key": domain,
        "region": region,
        "region_guessed": False,
        "owner": owner,
        "tier": tier,
        "waiting": True,
        "first_arrival": arrival,
        "last_message_at": arrival,
        "message_count": 2,
        "clock_start": arrival,
        "deadline": deadline,
    }
    fields.update(extra)
    if fields.get("escalated"):
        fields["escalated_at"] = deadline
    if fields["waiting"] is False:
        fields["deadline"] = None
    return Conversation(**fields)  # type: ignore[arg-type]


def _messages(conv: Conversation, hostile: bool) -> tuple[Message, ...]:
    body = "Hello,\n\nCould you get back to me today?\n\nThanks"
    if hostile:
        body = f"Hello {HOSTILE_TEXT}\nline two [b]not bold[/b]"
    earlier = conv.first_arrival - timedelta(days=1)
    to = (CEO_EMAIL,) if conv.ceo_contacted else (f"support@{STAFF_DOMAIN}",)
    return (
        Message(
            f"{conv.thread_id}-m1",
            conv.thread_id,
            f"{conv.owner or 'support'}@{STAFF_DOMAIN}",
            conv.owner.title() or "Support",
            earlier,
            subject=f"Re: {conv.subject}",
            body="Thanks for your note, we are on it.",
        ),
        Message(
            f"{conv.thread_id}-m2",
            conv.thread_id,
            conv.client_email,
            conv.client_name,
            conv.first_arrival,
            subject=conv.subject,
            to=to,
            preview=body[:60],
            body=body,
        ),
    )


__all__ = ["CEO_EMAIL", "CEO_ID", "FROZEN_AT", "HOSTILE", "HOSTILE_TEXT", "FakeService"]
