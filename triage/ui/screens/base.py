"""What every conversation screen shares: the typed app, and reply / escalate / reassign.

`ConversationScreen.current_thread()` names the conversation a screen is about
(the row under the cursor, the thread on view); the three actions open their
dialog and hand the answer to the app's action worker (`TriageApp.perform`),
which reports back with ActionDone / ActionFailed and reloads every screen. One
implementation, so the queue and the thread view do and say the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from textual.message_pump import MessagePump
from textual.screen import Screen

from triage.domain.conversation import as_snoozed
from triage.domain.model import Status
from triage.domain.reasons import reason_label
from triage.service.api import Draft, Service
from triage.text.datefmt import weekday_time
from triage.text.i18n import _
from triage.ui.text import safe_plain

if TYPE_CHECKING:
    from triage.ui.app import TriageApp
    from triage.ui.screens.dialogs.reassign import ReassignChoice


def after_pending_keys(screen: Screen[Any], callback: Callable[[], object]) -> None:
    """Run `callback` once every key already typed into the focused widget is handled.

    Priority keys (ctrl+s, enter in a dialog) are handled by the app the moment they
    arrive, while the keys typed just before them may still wait in the focused
    widget's queue: in one burst of input over SSH, the text and ctrl+s arrive
    together. Queued behind those keys, the action sees exactly what the screen shows.
    """
    target: MessagePump = screen.focused or screen
    if not target.call_later(callback):
        screen.call_later(callback)


def user_zone(service: Service) -> tzinfo | None:
    """The user's own time zone: their `[managers.ID] timezone`, else None (the
    machine's local zone, which on a shared server may be nobody's)."""
    manager = service.config.managers.get(service.user)
    return ZoneInfo(manager.timezone) if manager is not None and manager.timezone else None


def close_burst(screen: Screen[Any]) -> None:
    """The screen closes on a key: leftover keys of that burst must not act below it."""
    drop = getattr(screen.app, "drop_pending_keys", None)
    if drop is not None:
        drop()


class ConversationScreen(Screen[None]):
    """A screen about one or more conversations, with the actions on one of them."""

    def __init__(self, service: Service) -> None:
        super().__init__()
        self.service = service

    @property
    def triage(self) -> TriageApp:
        return cast("TriageApp", self.app)

    def current_thread(self) -> str | None:
        """The conversation the actions act on (None: say so and do nothing)."""
        raise NotImplementedError

    def action_reply(self) -> None:
        from triage.ui.screens.dialogs.confirm import Confirm

        thread_id = self.current_thread()
        if thread_id is None:
            return
        question = self._reply_question(thread_id)
        if question is None:
            self._open_reply(thread_id)
            return
        self.app.push_screen(
            Confirm(*question), lambda yes: self._open_reply(thread_id) if yes else None
        )

    def _reply_question(self, thread_id: str) -> tuple[str, str] | None:
        """Why to ask before replying: someone else is writing, or it is someone else's."""
        conv = self.service.conversation(thread_id)
        if conv is None:
            return None
        name = self.service.config.manager_name
        now, me = self.service.now(), self.service.user
        if (
            conv.replying
            and conv.replying != me
            and (conv.replying_until is None or conv.replying_until > now)
        ):
            who = safe_plain(name(conv.replying), 30)
            return (_("{who} is writing a reply to this right now.").format(who=who),
                    _("Write one too?"))  # fmt: skip
        if conv.owner and conv.owner != me:
            who = safe_plain(name(conv.owner), 30)
            return _("This conversation is {who}'s.").format(who=who), _("Reply to it anyway?")
        return None

    def _open_reply(self, thread_id: str) -> None:
        from triage.ui.screens.reply import ReplyScreen

        self.app.push_screen(ReplyScreen(self.service, thread_id), self._replied)

    def _replied(self, draft: Draft | None) -> None:
        if draft is not None:  # sent or queued; a kept draft changes nothing on screen
            self.triage.reload_screens()

    def action_escalate(self) -> None:
        from triage.ui.screens.dialogs.escalate import EscalateScreen

        thread_id = self.current_thread()
        if thread_id is None:
            return

        before = self.service.conversation(thread_id)
        previous = before.escalation_reason if before and before.escalated else ""

        def escalate(reason: str | None) -> None:
            if reason:
                again = _(" (before: {reason}; both are in the history)").format(
                    reason=safe_plain(reason_label(previous))
                )
                undo = (_("the escalation"), lambda: self.service.deescalate(thread_id, "undone"))
                self.triage.perform(
                    (
                        _("Escalated again: {reason}") if previous else _("Escalated: {reason}")
                    ).format(reason=safe_plain(reason_label(reason)))
                    + (again if previous else ""),
                    _("Could not escalate"),
                    lambda: self.service.escalate(thread_id, reason),
                    None if previous else undo,  # a second reason: the first stays
                )

        self.app.push_screen(EscalateScreen(self.service, thread_id), escalate)

    def action_reassign(self) -> None:
        from triage.ui.screens.dialogs.reassign import ReassignScreen

        thread_id = self.current_thread()
        if thread_id is None:
            return

        before = self.service.conversation(thread_id)
        previous = before.owner if before else ""

        def reassign(choice: ReassignChoice | None) -> None:
            if choice is None:
                return
            back = (_("the reassignment"), lambda: self.service.reassign(
                thread_id, previous, "undone", choice.account))  # fmt: skip
            who = safe_plain(self.service.config.manager_name(choice.manager))
            self.triage.perform(
                (
                    _("Reassigned to {who} for the whole account")
                    if choice.account
                    else _("Reassigned to {who}")
                ).format(who=who),
                _("Could not reassign"),
                lambda: self.service.reassign(
                    thread_id, choice.manager, choice.reason, choice.account
                ),
                back if previous else None,
            )

        self.app.push_screen(ReassignScreen(self.service, thread_id), reassign)

    # ---- the workflow: done, snooze, bring back, take back, undo ----

    def action_done(self) -> None:
        from triage.ui.screens.dialogs.done import DoneScreen

        thread_id = self.current_thread()
        if thread_id is None:
            return

        def done(reason: str | None) -> None:
            if reason:
                self.triage.perform(
                    _("Done: {reason} (back when the client writes)").format(
                        reason=safe_plain(reason_label(reason))
                    ),
                    _("Could not mark it done"),
                    lambda: self.service.done(thread_id, reason),
                    (_("the done mark"), lambda: self.service.reopen(thread_id)),
                )

        self.app.push_screen(DoneScreen(self.service, thread_id), done)

    def action_snooze(self) -> None:
        from triage.ui.screens.dialogs.snooze import SnoozeScreen

        thread_id = self.current_thread()
        if thread_id is None:
            return

        def snooze(until: datetime | None) -> None:
            conv = self.service.conversation(thread_id)
            if until is not None and conv is not None:
                wake = as_snoozed(conv, until, self.service.config).wake_at or until
                sooner = (_("; back {time}, at risk").format(time=weekday_time(wake.astimezone()))
                          if wake < until else "")  # fmt: skip
                self.triage.perform(
                    _("Snoozed until {time} your time").format(
                        time=weekday_time(until.astimezone())
                    )
                    + sooner,
                    _("Could not snooze"),
                    lambda: self.service.snooze(thread_id, until),
                    (_("the snooze"), lambda: self.service.unsnooze(thread_id)),
                )

        self.app.push_screen(SnoozeScreen(self.service, thread_id), snooze)

    def action_bring_back(self) -> None:
        """Done: reopen it; snoozed: wake it. Either way it is in the queue again."""
        thread_id = self.current_thread()
        conv = self.service.conversation(thread_id) if thread_id else None
        if thread_id is None or conv is None:
            return
        if conv.status is Status.DONE:
            self.triage.perform(_("Reopened: back in the queue"), _("Could not reopen"),
                                lambda: self.service.reopen(thread_id))  # fmt: skip
        elif conv.status is Status.SNOOZED:
            self.triage.perform(_("Woken: back in the queue"), _("Could not wake"),
                                lambda: self.service.wake(thread_id))  # fmt: skip
        else:
            self.notify(_("It is neither done nor snoozed: nothing to bring back"),
                        severity="warning", markup=False)  # fmt: skip

    def action_deescalate(self) -> None:
        from triage.ui.screens.dialogs.deescalate import DeescalateScreen

        thread_id = self.current_thread()
        conv = self.service.conversation(thread_id) if thread_id else None
        if thread_id is None or conv is None:
            return
        if not conv.escalated:
            close_burst(self)  # the "1" + enter typed after x must not act on the queue
            self.notify(_("Not escalated by hand: an automatic escalation ends with a reply"),
                        severity="warning", markup=False)  # fmt: skip
            return

        def take_back(reason: str | None) -> None:
            if reason:
                self.triage.perform(_("Escalation taken back: {reason}").format(
                                        reason=safe_plain(reason_label(reason))),
                                    _("Could not take the escalation back"),
                                    lambda: self.service.deescalate(thread_id, reason))  # fmt: skip

        self.app.push_screen(DeescalateScreen(self.service, thread_id), take_back)

    def action_undo(self) -> None:
        self.triage.undo_last()

    def action_help(self) -> None:
        from triage.ui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen.for_screen(self))
