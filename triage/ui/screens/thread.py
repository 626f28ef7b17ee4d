"""The thread screen: one conversation, its deadline and why, and its messages.

Owns the read view of a conversation; the keys that act on it (reply,
escalate, reassign) are `ConversationScreen`'s, shared with the queue. Every
string that came from email (subject, names, addresses, bodies, warnings,
reasons) reaches the screen only as a `Text` built by `triage.ui.text.safe` /
`safe_block`; nothing here is a markup string.
The service is only called from workers; `tick(now)` is called by the app
every second and re-renders the countdown line alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Static

from triage.domain import history
from triage.domain.model import Conversation, Message, NoteAction, Region, SlaState, Status
from triage.domain.reasons import reason_label
from triage.domain.routing import is_staff
from triage.domain.urgency import escalation_of, state_of
from triage.domain.workflow import status_at
from triage.service.api import Service, ThreadView
from triage.text.datefmt import clock, day_time, weekday_time
from triage.text.i18n import N_, _
from triage.text.mailtext import address_display
from triage.text.timefmt import format_left_precise
from triage.ui.keys import bindings
from triage.ui.screens.base import ConversationScreen
from triage.ui.text import safe, safe_block

# Glyph + word + style: the state reads on a monochrome terminal too.
_STATE_LOOK = {
    SlaState.BREACHED: (N_("✖ BREACHED"), "bold reverse"),
    SlaState.AT_RISK: (N_("▲ AT RISK"), "bold"),
    SlaState.OK: (N_("● on time"), ""),
}
_HISTORY_SHOWN = 3
PAGE = 40  # what `Service.earlier` loads at a time (the engine's page)


def when_text(
    at: datetime, client_zone: tzinfo | None, user_zone: tzinfo | None, *, date: bool = True
) -> str:
    """'Tue 11 Mar 10:00 EDT client · Tue 15:00 UTC you' (both wall clocks)."""
    mine = at.astimezone(user_zone) if user_zone else at.astimezone()
    day = day_time if date else weekday_time
    if client_zone is None:
        return _("{time} {zone} you").format(time=day(mine), zone=mine.tzname())
    theirs = at.astimezone(client_zone)
    return _("{theirs} {their_zone} client · {mine} {my_zone} you").format(
        theirs=day(theirs), their_zone=theirs.tzname(),
        mine=weekday_time(mine), my_zone=mine.tzname(),
    )  # fmt: skip


def why_text(conv: Conversation, region: Region | None, arrival: datetime | None) -> str:
    """Why the deadline is where it is: the rule and when the clock started."""
    if region is None:
        return _("region {region!r} is not in the config").format(region=conv.region)
    parts = [_("{target} (from the {source})").format(target=conv.target, source=conv.target_source)
             if conv.target else region.rule]  # fmt: skip
    if conv.clock_start is not None:
        zone = ZoneInfo(region.timezone)
        start = conv.clock_start.astimezone(zone)
        started = _("clock started {time} {zone}").format(time=weekday_time(start),
                                                           zone=start.tzname())  # fmt: skip
        if arrival is not None and arrival < conv.clock_start:
            came = arrival.astimezone(zone)
            at = clock(came) if came.date() == start.date() else weekday_time(came)
            started += _(", next opening after a {time} arrival").format(time=at)
        parts.append(started)
    return " · ".join(parts)


def left_text(conv: Conversation, now: datetime, at_risk: timedelta) -> Text:
    """The ticking part of the deadline line."""
    seconds = conv.seconds_left(now)
    if seconds is None:
        return Text(_("answered: no reply is due"), style="dim")
    word, style = _STATE_LOOK[state_of(conv, now, at_risk)]
    amount = format_left_precise(abs(seconds))
    tail = (_("{time} overdue") if seconds <= 0 else _("{time} left")).format(time=amount)
    return Text(f"{_(word)}  {tail}", style=style)


class ThreadScreen(ConversationScreen):
    """A conversation, oldest message first, with its deadline and history."""

    BINDINGS: ClassVar[list[BindingType]] = bindings(
        # The footer shows them in this order: at 80 columns it ends after help.
        "reply", "done", "snooze", "escalate", "reassign", "help", "back", "reload", "older",
        "bring_back", "deescalate", "undo",
    )  # fmt: skip

    DEFAULT_CSS = """
    ThreadScreen #thread-head { height: auto; max-height: 12; padding: 0 1; }
    ThreadScreen #thread-head Static { height: auto; }
    ThreadScreen #deadline.-breached { color: $error; }
    ThreadScreen #deadline.-at_risk { color: $warning; }
    ThreadScreen #thread-notice { display: none; height: auto; padding: 0 1; text-style: bold; }
    ThreadScreen #thread-notice.-shown { display: block; }
    ThreadScreen #messages { padding: 0 1; }
    ThreadScreen .message { height: auto; border-top: solid $secondary; margin-top: 1; }
    """

    def __init__(
        self, service: Service, thread_id: str, *, user_zone: tzinfo | None = None
    ) -> None:
        super().__init__(service)
        self.thread_id = thread_id
        self.view: ThreadView | None = None
        self._user_zone = user_zone  # None: the system's local zone
        self._now = service.now()
        self._shown = 0  # how many times the messages were shown
        self._escalation_shown = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="thread-head"):
            yield Static(Text(_("Loading conversation…"), style="bold"), id="subject")
            yield Static(id="who")
            yield Static(id="deadline")
            yield Static(id="status")
            yield Static(id="why")
            yield Static(id="history")
        yield Static(id="thread-notice")
        with VerticalScroll(id="messages"):
            yield Static(Text(_("Loading messages…"), style="dim"), id="loading")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#messages").focus()
        self.load()

    # ---- loading ----

    @work(group="thread-load", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        try:
            view = await self.service.thread(self.thread_id)
        except Exception as exc:  # any provider or cache failure: say so, keep running
            self._notice(
                Text.assemble(_("could not load: "), safe(str(exc)), _(" (ctrl+r retries)"))
            )
            return
        await self.show(view)

    def _notice(self, text: Text | None) -> None:
        notice = self.query_one("#thread-notice", Static)
        notice.update(text or "")
        notice.set_class(text is not None, "-shown")

    async def show(self, view: ThreadView) -> None:
        """Render a loaded thread: header first, then every message."""
        self.view = view
        if view.offline:
            error = self.service.status().error or _("the provider is unreachable")
            self._notice(
                Text.assemble(_("could not load: "), safe(error), _("; showing cached copy"))
            )
        else:
            self._notice(None)
        self._render_head(view)
        box = self.query_one("#messages", VerticalScroll)
        first = self._shown == 0
        at_end = first or box.scroll_y >= box.max_scroll_y - 1
        kept_y = box.scroll_y
        await box.remove_children()
        zone = self._client_zone(view.conversation)
        earlier = Static(self._earlier_text(view), id="earlier")
        earlier.display = view.earlier > 0
        await box.mount(earlier)
        await box.mount_all(
            Static(self._message_text(m, zone), classes="message") for m in view.messages
        )
        self._shown += 1
        # Oldest first, but the newest (what needs an answer) is what one reads first;
        # a reader scrolled up to an older message stays where they were.
        if at_end:
            box.scroll_end(animate=False)
        else:
            box.scroll_to(y=kept_y, animate=False)

    @work(group="thread-load", exclusive=True, exit_on_error=False)
    async def load_earlier(self) -> None:
        """The page before the oldest message shown, mounted above it (the rest stays)."""
        view = self.view
        if view is None or view.earlier == 0:
            return
        try:
            more = await self.service.earlier(view)
        except Exception as exc:  # offline meanwhile: say so, keep what is shown
            self._notice(Text.assemble(_("could not load older messages: "), safe(str(exc))))
            return
        added = more.messages[: len(more.messages) - len(view.messages)]
        self.view = more
        zone = self._client_zone(more.conversation)
        box = self.query_one("#messages", VerticalScroll)
        widgets = [Static(self._message_text(m, zone), classes="message") for m in added]
        if widgets:
            await box.mount_all(widgets, after=self.query_one("#earlier", Static))
            box.scroll_to_widget(widgets[-1], animate=False, top=True)
        marker = self.query_one("#earlier", Static)
        marker.update(self._earlier_text(more))
        marker.display = more.earlier > 0

    def _earlier_text(self, view: ThreadView) -> Text:
        if view.earlier == 0:
            return Text("")
        return Text(_("▲ {n:,} older messages not shown: o loads them, {page} at a time")
                    .format(n=view.earlier, page=min(view.earlier, PAGE)), style="dim")  # fmt: skip

    # ---- rendering ----

    def _region(self, conv: Conversation) -> Region | None:
        return self.service.config.regions.get(conv.region)

    def _client_zone(self, conv: Conversation) -> tzinfo | None:
        region = self._region(conv)
        return ZoneInfo(region.timezone) if region else None

    def _render_head(self, view: ThreadView) -> None:
        conv = view.conversation
        config = self.service.config
        region = self._region(conv)
        label = safe(region.label if region else conv.region)
        if conv.region_guessed:
            label.append(_(" (guessed)"), style="italic")
        subject = Text.assemble(safe(conv.subject or _("(no subject)"), max_len=150, style="bold"))
        self.query_one("#subject", Static).update(subject)
        who = Text.assemble(
            (_("Client "), "dim"),
            safe(address_display(conv.client_name, conv.client_email), max_len=90),
            (_("  Region "), "dim"),
            label,
            (_("  Owner "), "dim"),
            safe(config.manager_name(conv.owner) or "nobody"),
        )
        if conv.impersonation:
            who.append(_("\n⚠ SPOOF? "), style="bold reverse")
            who.append_text(safe(conv.impersonation, style="bold"))
        if conv.problem:
            who.append(_("\n⚠ unreadable: "), style="bold")
            who.append_text(safe(conv.problem, max_len=150))
        self.query_one("#who", Static).update(who)
        why = why_text(conv, region, conv.waiting_since)
        self.query_one("#why", Static).update(Text(why, style="dim"))
        self.query_one("#history", Static).update(self._history_text(view))
        status = self._status_text(conv, self._now)
        box = self.query_one("#status", Static)
        box.update(status)
        box.display = bool(status)
        self.tick(self._now)

    def _status_text(self, conv: Conversation, now: datetime) -> Text:
        """Done, snoozed, a follow-up, or someone else writing a reply, in words."""
        zone = self._client_zone(conv)
        name = self.service.config.manager_name
        status = status_at(conv, now)
        text = Text()
        if status is Status.DONE:
            text.append(_("✓ DONE"), style="bold reverse")
            text.append_text(
                Text.assemble(
                    ": ", safe(reason_label(conv.done_reason or "no reply needed"), max_len=60)
                )
            )
            if conv.done_by:
                text.append_text(Text.assemble(_(" by "), safe(name(conv.done_by), max_len=30)))
            text.append(_(" · the client's next message brings it back · b reopens"))
        elif status is Status.SNOOZED and conv.wake_at is not None:
            text = self._snoozed_text(conv, conv.wake_at, zone)
        elif status is Status.FOLLOW_UP:
            text.append(_("↻ FOLLOW-UP"), style="bold")
            text.append(_(": a reminder came due; its clock started then"))
        if (
            conv.replying
            and conv.replying != self.service.user
            and (conv.replying_until is None or conv.replying_until > now)
        ):
            text.append("\n" if text else "")
            text.append("✎ ", style="bold")
            text.append_text(safe(name(conv.replying), max_len=30, style="bold"))
            text.append(_(" is writing a reply now"))
        return text

    def _snoozed_text(self, conv: Conversation, wake: datetime, zone: tzinfo | None) -> Text:
        until = when_text(conv.snoozed_until or wake, zone, self._user_zone, date=False)
        text = Text.assemble((_("zz SNOOZED"), "bold reverse"),
                             _(" until {time}").format(time=until))  # fmt: skip
        if conv.snoozed_until and wake < conv.snoozed_until:
            back = when_text(wake, zone, self._user_zone, date=False)
            text.append(_(" · back at {time} (at risk then)").format(time=back))
        text.append(_(" · b wakes it"))
        return text

    def _escalation_text(self, conv: Conversation, now: datetime) -> Text:
        """The conversation's escalation as the pane sees it: manual or automatic, why,
        by whom, since when; or that it was acknowledged."""
        if conv.acknowledged:
            return self._acknowledged_text(conv)
        agency = self.service.config.agency
        esc = escalation_of(conv, now, timedelta(minutes=agency.escalate_after_minutes))
        if esc is None:
            return Text()
        text = Text(_("ESCALATED"), style="bold reverse")
        text.append(_(" (automatic)") if esc.automatic else "")
        text.append(": ")
        text.append_text(safe(reason_label(esc.reason or "no reason given"), max_len=60))
        if not esc.automatic and esc.by:
            text.append_text(Text.assemble(_(" by "), safe(self.service.config.manager_name(esc.by),
                                                        max_len=30)))  # fmt: skip
        if esc.since is not None:
            zone = self._client_zone(conv)
            text.append(_(" · since {time}").format(
                time=when_text(esc.since, zone, self._user_zone, date=False)))  # fmt: skip
        return text

    def _acknowledged_text(self, conv: Conversation) -> Text:
        ack = history.last(conv.notes, NoteAction.ACK)
        text = Text(_("Escalation acknowledged"), style="bold")
        if ack is not None:
            name = safe(self.service.config.manager_name(ack.by), max_len=30)
            text.append_text(Text.assemble(_(" by "), name))
            zone = self._client_zone(conv)
            text.append(f" · {when_text(ack.at, zone, self._user_zone, date=False)}")
        return text

    def _history_text(self, view: ThreadView) -> Text:
        conv, lines = view.conversation, view.history
        text = self._escalation_text(conv, self._now)
        self._escalation_shown = text.plain
        if conv.ceo_contacted and _("CEO") not in text.plain:
            text.append(("\n" if text else "") + _("The client wrote to the CEO"), style="bold")
        if conv.asked_new_manager:
            asked = _("The client asked for another account manager: a reassigns it (reason: "
                      "client asked)")  # fmt: skip
            text.append(("\n" if text else "") + asked, style="bold")
        if not lines:
            if not text:
                text.append(_("No escalations or reassignments"), style="dim")
            return text
        shown = lines[-_HISTORY_SHOWN:]
        text.append("\n" if text else "")
        text.append(_("History"), style="bold")
        if len(lines) > len(shown):
            text.append(
                _(" ({n} earlier not shown)").format(n=len(lines) - len(shown)), style="dim"
            )
        for line in shown:
            text.append("\n• ")
            text.append_text(safe(line, max_len=150))
        return text

    def _is_staff(self, address: str) -> bool:
        return is_staff(address, self.service.config)

    def _message_text(self, m: Message, zone: tzinfo | None) -> Text:
        who = _("agency") if self._is_staff(m.sender) else _("client")
        text = Text.assemble(
            safe(address_display(m.sender_name, m.sender), style="bold"),
            (f" ({who})", "dim"),
            "\n",
            (when_text(m.received_at, zone, self._user_zone), "dim"),
        )
        for warning in m.warnings:
            text.append("\n⚠ ", style="bold")
            text.append_text(safe(warning, style="bold"))
        text.append("\n\n")
        text.append_text(safe_block(m.body or m.preview or _("(empty message)")))
        return text

    def tick(self, now: datetime) -> None:
        """Move the countdown to `now` (the app calls this every second)."""
        self._now = now
        if self.view is None or not self.is_mounted:
            return
        conv = self.view.conversation
        at_risk = timedelta(minutes=self.service.config.agency.at_risk_minutes)
        line = Text(_("Due "), style="dim")
        if conv.deadline is not None:
            line.append(
                when_text(conv.deadline, self._client_zone(conv), self._user_zone, date=False)
            )
            line.append("  ")
        line.append_text(left_text(conv, now, at_risk))
        deadline = self.query_one("#deadline", Static)
        deadline.update(line, layout=False)  # same height every second: no re-layout
        state = state_of(conv, now, at_risk)
        for s in SlaState:
            deadline.set_class(s is state and conv.deadline is not None, f"-{s.value}")
        if self._escalation_text(conv, now).plain != self._escalation_shown:
            # breached past the grace while on screen: escalated automatically, say so now
            self.query_one("#history", Static).update(self._history_text(self.view))

    # ---- actions ----

    def current_thread(self) -> str | None:
        return self.thread_id

    def reload(self, changed: frozenset[str] | None = None) -> None:
        """After an action, or a sync that changed this thread: show it as it is now."""
        if changed is None or self.thread_id in changed:
            self.load()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        self.load()

    def action_older(self) -> None:
        self.load_earlier()
