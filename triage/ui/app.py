"""The Textual app: themes, keymap, the sync loop, the tick, and action workers.

Thin on purpose: screens own what they show, the `Service` owns all I/O. The
sync loop and every action run in async workers that end by posting a message
(ConversationsSynced / SyncFailed / ActionDone / ActionFailed); handlers here
turn those into notifications and screen reloads. Errors never crash the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import ClassVar

from rich.segment import Segment
from textual import events, on, work
from textual._path import CSSPathType
from textual.app import App
from textual.binding import BindingType
from textual.color import Color
from textual.command import CommandPalette
from textual.filter import LineFilter, Monochrome, NoColor
from textual.message import Message
from textual.message_pump import MessagePump

from triage.domain.alerts import Alert, Ladder, Step
from triage.domain.handoff import handoff_due, shift_end
from triage.service.api import Draft, Service
from triage.text.datefmt import clock
from triage.text.i18n import _, ngettext
from triage.ui.alerts import desktop_sequence, words
from triage.ui.commands import TriageCommands
from triage.ui.keys import bindings, retranslate
from triage.ui.messages import ActionDone, ActionFailed, ConversationsSynced, SyncFailed
from triage.ui.text import inert, safe_plain
from triage.ui.themes import DEFAULT_THEME, MONO_THEME, SEMANTIC_DEFAULTS, THEMES, stylesheet_paths

TICK_SECONDS = 1.0


class WithoutColour(LineFilter):
    """Every colour removed from the segments; bold, reverse, underline and dim kept."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [Segment(text, style.without_color if style else None, control)
                for text, style, control in segments]  # fmt: skip


NO_COLOUR = WithoutColour()


# What `u` runs: the words for the toast, and the inverse action.
Undo = tuple[str, Callable[[], Awaitable[object]]]
UNDO_WINDOW = timedelta(minutes=1)
ALERT_EVERY = timedelta(
    seconds=5
)  # how often the ladder is asked (alerts are not urgent to the second)


class TriageApp(App[None]):
    """The console. `service` is its whole view of the world."""

    TITLE = "triage"
    ENABLE_COMMAND_PALETTE = True
    # Only the product's commands: Textual's own provider would add its ~20 themes
    # and a second "Quit".
    COMMANDS: ClassVar = {TriageCommands}
    CSS_PATH: ClassVar[CSSPathType | None] = stylesheet_paths()
    BINDINGS: ClassVar[list[BindingType]] = bindings("command_palette")

    def __init__(
        self,
        service: Service,
        *,
        theme: str = DEFAULT_THEME,
        start_view: str = "queue",
        keymap: dict[str, str] | None = None,
    ) -> None:
        retranslate()  # the footer's titles in the language chosen (a no-op from the CLI)
        super().__init__()
        self.service = service
        self.start_view = start_view
        for t in THEMES:
            self.register_theme(t)
        # Textual reads (and removes) NO_COLOR in App.__init__; it then also
        # strips colour from the output. Use the theme made for no colour.
        self.theme = MONO_THEME if self.no_color else self._known(theme)
        self._sync_now = asyncio.Event()
        self._keys_from = 0.0  # keys typed before this instant are dropped (a closed burst)
        self._key_in_hand = False  # a key was handed over and is not handled yet
        self._key_backlog: list[events.Key] = []
        self.sync_rounds = 0
        self._rounds_started = 0
        self._sync_asked = 0  # `s` was pressed: say how this round (number) ended
        self._last_sync_error = ""
        self._undo: tuple[datetime, Undo] | None = None  # until when, and how
        self._held: Draft | None = None  # a reply in its undo delay: sent when it ends
        self._ladder = Ladder()  # what was told, so each step is told once
        self._handoff_told: datetime | None = None  # the shift end the handoff was offered for
        self.emitted: list[str] = []  # terminal sequences, when headless
        if keymap:
            self.set_keymap(keymap)

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Under NO_COLOR no colour code at all reaches the terminal: Textual's own
        filter turns colours grey (256-colour codes still), ours removes them."""
        filters = super().get_line_filters()
        if not self.no_color:
            return filters
        return [*(f for f in filters if not isinstance(f, (Monochrome, NoColor))), NO_COLOUR]

    def _known(self, theme: str) -> str:
        return theme if self.get_theme(theme) is not None else DEFAULT_THEME

    def drop_pending_keys(self) -> None:
        """A screen closed on a key: keys of the same burst, typed before it closed and
        still on their way, must not act on the screen below."""
        self._keys_from = Message().time

    async def on_event(self, event: events.Event) -> None:
        """Keys from the terminal are handed over one at a time, each once the one before
        it has been handled wherever it went: in a burst ("e", "3", enter), the key that
        opens a dialog is followed by keys that reach the dialog, not the queue below."""
        if isinstance(event, events.Key) and event.time < self._keys_from:
            return  # typed before the screen it was meant for closed (or bubbling back)
        if not isinstance(event, events.Key) or event.is_forwarded:
            await super().on_event(event)
        elif self._key_in_hand:
            self._key_backlog.append(event)
        else:
            await self._hand_over(event)

    async def _hand_over(self, key: events.Key) -> None:
        self._key_in_hand = True
        await super().on_event(key)  # a priority binding, or forwarded to the focused widget
        target = self.focused or self.screen
        if not target.call_later(self._follow, target):  # queued behind the key it was given
            self._key_handled()

    def _follow(self, node: MessagePump) -> None:
        """Wait for the key to be handled at `node`, then at each parent it bubbles to
        (a callback queued behind it there), up to the app; then the next key goes."""
        parent = node._parent
        if node is self or parent is None or not parent.call_later(self._follow, parent):
            self._key_handled()

    def _key_handled(self, waited: int = 0) -> None:
        screen = self.screen
        settling = not screen.is_mounted or (screen.focused is None and bool(screen.focus_chain))
        if self._key_backlog and settling and waited < 20:
            # A screen just opened and has not focused its first widget yet: the next
            # key is for that widget (the reply box, the reason box), not the screen.
            screen.call_after_refresh(self._key_handled, waited + 1)
            return
        self._key_in_hand = False
        while self._key_backlog:
            key = self._key_backlog.pop(0)
            if key.time >= self._keys_from:
                self.call_later(self._hand_over, key)
                self._key_in_hand = True
                return

    def get_theme_variable_defaults(self) -> dict[str, str]:
        # Textual's own themes (from the palette) lack our variables: fall back.
        return dict(SEMANTIC_DEFAULTS)

    def on_mount(self) -> None:
        self.start_console()

    def start_console(self) -> None:
        """The first screens, the start-up news, the one-second tick and the sync loop."""
        from triage.ui.screens.queue import QueueScreen

        self.push_screen(QueueScreen(self.service))
        if self.start_view == "escalations":
            from triage.ui.screens.escalations import EscalationsScreen

            self.push_screen(EscalationsScreen(self.service))
        self._tell_once()
        self.set_interval(TICK_SECONDS, self.tick)
        # Alerts on their own timer: the countdown tick stays the countdown's.
        self.set_interval(ALERT_EVERY.total_seconds(), self._look_for_alerts)
        self.sync_loop()

    def _tell_reports(self) -> None:
        """Cache problems the service fixed (at start, and any found since)."""
        for report in self.service.reports():
            self.notify(safe_plain(report), title="triage", timeout=15, markup=False)

    def _tell_once(self) -> None:
        """Start-up news: cache problems the service fixed, and replies not yet sent."""
        self._tell_reports()
        kept = [d for d in self.service.drafts() if d.status.editable]
        if kept:
            n = len(kept)
            self.notify(
                ngettext(
                    "{n} unsent reply kept: press r on the conversation to continue",
                    "{n} unsent replies kept: press r on the conversation to continue",
                    n,
                ).format(n=n),
                title=_("Drafts"),
                timeout=15,
                markup=False,
            )

    def action_command_palette(self) -> None:
        """Textual's palette, its prompt in the language spoken."""
        if self.use_command_palette and not CommandPalette.is_open(self):  # type: ignore[arg-type]
            prompt = _("Search for commands…")
            self.push_screen(CommandPalette(id="--command-palette", placeholder=prompt))

    # ---- time and sync ----

    def tick(self) -> None:
        """Every second: the visible screen updates countdowns (no sync, no re-sort)."""
        if not self.is_running:
            # Shutting down: the timer still fires while the screens' children are
            # removed, and a screen's query_one would raise NoMatches on exit.
            return
        now = self.service.now()
        held = self._held
        if held is not None and held.not_before is not None and now >= held.not_before:
            self._held = None
            self.send_held(held)
        tick = getattr(self.screen, "tick", None)
        if tick is not None:
            tick(now)

    # ---- alerts ----

    def _look_for_alerts(self) -> None:
        if self.is_running:
            self.tell_alerts(self.service.now())

    def tell_alerts(self, now: datetime) -> None:
        """What became at risk, breached or escalated since the last look, told once on
        each channel `[alerts]` turns on."""
        view = self.service.queue_view(now)
        away = self.service.absences(now)
        for alert in self._ladder.due(view, now, self.service.config, self.service.user, away):
            self._tell(alert)
        me = self.service.config.managers.get(self.service.user)
        ends = shift_end(me, now) if me is not None else None
        if (
            me is not None
            and ends is not None
            and ends != self._handoff_told
            and (handoff_due(me, now))
        ):
            self._handoff_told = ends  # once per shift
            self.notify(_("Your shift ends at {time}: H lists what comes due before your next "
                          "shift, and who can take it").format(time=clock(ends.astimezone())),
                        title=_("Handoff"),
                        timeout=15, markup=False)  # fmt: skip

    def _tell(self, alert: Alert) -> None:
        cfg = self.service.config.alerts
        text = words(alert)
        if cfg.toast:
            quiet = alert.step is Step.AT_RISK
            self.notify(text, title="triage", severity="information" if quiet else "warning",
                        timeout=10, markup=False)  # fmt: skip
        if cfg.bell:
            self.emit("\a")
        if cfg.desktop != "off":
            head, _sep, body = text.partition(": ")
            self.emit(desktop_sequence(cfg.desktop, f"triage: {head}", body,
                                       in_tmux=bool(os.environ.get("TMUX"))))  # fmt: skip

    def emit(self, sequence: str) -> None:
        """Bytes for the terminal itself (the bell, a notification); kept in `emitted`
        when there is no terminal (headless: tests)."""
        if self.is_headless or self._driver is None:
            self.emitted.append(sequence)
        else:
            self._driver.write(sequence)

    def sync_now(self) -> None:
        """A sync the user asked for (`s`): its outcome is said when it ends."""
        self._sync_asked = self._rounds_started + 1  # the next round to start answers
        self._sync_now.set()
        self.notify(_("Syncing…"), timeout=2, markup=False)

    @work(group="sync", exclusive=True, exit_on_error=False)
    async def sync_loop(self) -> None:
        """Sync, then again: the next round is scheduled when one ends."""
        while True:
            self._rounds_started += 1
            started = self._rounds_started
            try:
                result = await self.service.sync()
            except Exception as exc:
                self.post_message(SyncFailed(str(exc), started))
            else:
                self.post_message(ConversationsSynced(result, started))
            self.sync_rounds += 1
            await self._wait_for_next_round()

    async def _wait_for_next_round(self) -> None:
        poll = self.service.config.provider.poll_seconds
        waits = [
            asyncio.ensure_future(self.service.wait_for_changes(poll)),
            asyncio.ensure_future(self._sync_now.wait()),
        ]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
            self._sync_now.clear()

    @on(ConversationsSynced)
    def _synced(self, event: ConversationsSynced) -> None:
        self._last_sync_error = ""
        self._tell_reports()
        r = event.result
        if self._answers_user(event.started):
            self.notify(_("Synced: {what}").format(what=r.summary()), timeout=4, markup=False)
        if r.full or r.flushed:
            self.reload_screens()
        elif r.changed:
            self.reload_screens(frozenset((*r.added, *r.updated, *r.removed)))
        else:
            self.tick()  # the status bar still shows the new sync state

    @on(SyncFailed)
    def _sync_failed(self, event: SyncFailed) -> None:
        # Once per distinct problem (the status bar keeps saying "offline since ..."),
        # and whenever the user asked for this sync.
        if self._answers_user(event.started) or event.error != self._last_sync_error:
            self._last_sync_error = event.error
            text = _("Sync failed, working from the cache: {error}").format(
                error=inert(event.error, 300)
            )
            self.notify(text, severity="warning", timeout=8, markup=False)
        self.tick()

    def _answers_user(self, started: int) -> bool:
        """This round is the one that started after the user pressed `s`."""
        if self._sync_asked and started >= self._sync_asked:
            self._sync_asked = 0
            return True
        return False

    def reload_screens(self, changed: frozenset[str] | None = None) -> None:
        """Tell every screen that conversations changed (`None`: maybe all of them)."""
        for screen in self.screen_stack:
            reload = getattr(screen, "reload", None)
            if reload is not None and screen.is_mounted:
                reload(changed)

    # ---- actions ----

    @work(group="actions", exit_on_error=False)
    async def perform(
        self, done: str, failed: str, action: Callable[[], Awaitable[object]],
        undo: Undo | None = None,
    ) -> None:  # fmt: skip
        """Run one service action; report `done` (and whether it is only queued) or
        `failed: why`; never raise. `undo`, when given, is what `u` does for a minute."""
        try:
            recorded = await action()
        except Exception as exc:
            self.post_message(ActionFailed(f"{failed}: {safe_plain(str(exc))}"))
        else:
            queued = _(" (queued: written to the provider by the next sync)")
            if undo is not None:
                self._undo = (self.service.now() + UNDO_WINDOW, undo)
            hint = self._undo_hint() if undo is not None else ""
            self.post_message(ActionDone(done + ("" if recorded is not False else queued) + hint))

    def _undo_hint(self) -> str:
        """' · u undoes it', with the key as bound on this screen (none: no hint)."""
        for active in self.screen.active_bindings.values():
            if active.binding.id == "undo":
                return _(" · {key} undoes it").format(key=self.get_key_display(active.binding))
        return ""

    # ---- undo send ----

    def hold_reply(self, draft: Draft) -> None:
        """A reply in its undo delay: `u` takes it back until then, the tick sends it."""
        if self._held is not None and self._held.id != draft.id:
            self.send_held(self._held)  # one at a time: the older one goes now
        self._held = draft

    def held_notice(self, now: datetime) -> str:
        """'↗ reply goes in 7s (u undoes)', while a reply is held."""
        held = self._held
        if held is None or held.not_before is None or now >= held.not_before:
            return ""
        left = max(1, math.ceil((held.not_before - now).total_seconds()))
        return _("↗ reply goes in {seconds}s (u undoes)").format(seconds=left)

    @work(group="actions", exit_on_error=False)
    async def send_held(self, draft: Draft) -> None:
        """Its undo delay is over: send it now (exactly once: the outbox decides)."""
        from triage.ui.screens.reply import outcome

        try:
            sent = await self.service.send_reply(draft.id)
        except Exception as exc:
            # A sync's flush may have taken it first (its time had come): then it is
            # on its way, and there is nothing to tell.
            if not any(d.id == draft.id and d.status.awaiting_provider
                       for d in self.service.drafts()):  # fmt: skip
                self.post_message(
                    ActionFailed(_("Reply not sent: {error}").format(error=safe_plain(str(exc))))
                )
            return
        self.post_message(ActionDone(outcome(sent)))

    def take_back_held(self) -> bool:
        """`u` while a reply is held: back into the editor, nothing sent. True when a
        held reply was there (taken back, or said to be too late and sent now)."""
        held = self._held
        if held is None:
            return False
        self._held = None
        if not held.held(self.service.now()):  # its second came before the tick did
            self.notify(_("Too late: the reply is on its way"), severity="warning", markup=False)
            self.send_held(held)
            return True
        try:
            self.service.take_back(held.id)
        except Exception as exc:  # its time came meanwhile: it has gone
            self.notify(
                _("Not taken back: {error}").format(error=safe_plain(str(exc))),
                severity="warning",
                markup=False,
            )
            return True
        from triage.ui.screens.reply import ReplyScreen

        self.notify(_("Reply taken back: nothing was sent"), markup=False)
        self.push_screen(ReplyScreen(self.service, held.thread_id))
        return True

    def undo_last(self) -> None:
        """Undo this console's last undoable action, if it is less than a minute old:
        a reply still in its undo delay first."""
        if self.take_back_held():
            return
        last, self._undo = self._undo, None
        if last is None or self.service.now() > last[0]:
            self.notify(_("Nothing to undo: u takes back your last action within a minute"),
                        severity="warning", markup=False)  # fmt: skip
            return
        what, action = last[1]
        self.perform(
            _("Undone: {what}").format(what=what),
            _("Could not undo {what}").format(what=what),
            action,
        )

    @on(ActionDone)
    def _action_done(self, event: ActionDone) -> None:
        self.notify(inert(event.text, 300), timeout=5, markup=False)
        self.reload_screens()

    @on(ActionFailed)
    def _action_failed(self, event: ActionFailed) -> None:
        self.notify(inert(event.text, 300), severity="error", timeout=10, markup=False)
        self.reload_screens()

    async def action_quit(self) -> None:
        held, self._held = self._held, None
        if held is not None:  # quitting ends the undo delay: it goes now, once
            with contextlib.suppress(Exception):
                await self.service.send_reply(held.id)
        await self.service.close()
        self.exit()
