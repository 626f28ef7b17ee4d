"""The reply screen: write (or $EDITOR) a reply, keep it as a draft, send it.

Owns the promise that a typed reply is never lost: the text is saved to the
outbox (`Service.save_draft`, synchronous and cheap) half a second after the
last keystroke, and at once on esc, ctrl+s, before $EDITOR, and on unmount.
A failed save or send keeps the screen open with the text in it. The quoted
client message, the recipient and the subject come from email and are shown
only through `triage.ui.text`.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static, TextArea

from triage.domain.conversation import reply_subject
from triage.domain.model import Message
from triage.domain.routing import find_client, is_staff
from triage.domain.templates import (
    Template,
    for_language,
    render,
    unfilled,
    values_for,
    with_signature,
    without_signature,
)
from triage.service.api import Draft, OutboxStatus, Service, ThreadView
from triage.text.i18n import _, current
from triage.text.mailtext import address_display
from triage.ui.keys import bindings
from triage.ui.messages import ReplySent
from triage.ui.screens.base import after_pending_keys, close_burst
from triage.ui.screens.dialogs.confirm import ConfirmDiscard
from triage.ui.text import safe, safe_block, safe_plain

DEBOUNCE_SECONDS = 0.5
_QUOTE_LINES = 200  # enough context; a huge body must not slow the screen down
_HEADER_CHARS = 150  # two lines at 80 columns; the full text is in the thread view


def outcome(draft: Draft) -> str:
    """What happened to a reply that was handed over, in the user's words."""
    if draft.status is OutboxStatus.QUEUED:
        return _("Reply queued: the provider is unreachable; it is sent when it is back")
    if draft.status is OutboxStatus.UNCLEAR:
        return (_("Reply may have been sent (no answer came back): triage checks the Sent "
                "folder before trying again, so it never goes twice"))  # fmt: skip
    return _("Reply sent")


class ReplyScreen(Screen[Draft | None]):
    """Compose a reply; dismissed with the sent Draft, or None when kept/discarded."""

    BINDINGS: ClassVar[list[BindingType]] = bindings(
        "send", "draft", "template", "editor", "discard"
    )

    DEFAULT_CSS = """
    ReplyScreen #reply-head { height: auto; padding: 0 1; }
    ReplyScreen #reply-head Static { height: auto; }
    ReplyScreen #reply-notice { display: none; height: auto; padding: 0 1; text-style: bold; }
    ReplyScreen #reply-notice.-shown { display: block; }
    ReplyScreen #quote {
        height: auto; max-height: 7; margin: 0 1; padding: 0 1;
        border-left: outer $secondary; color: $text-muted;
    }
    ReplyScreen #quote Static { height: auto; }
    ReplyScreen TextArea { height: 1fr; min-height: 5; }
    """

    def __init__(self, service: Service, thread_id: str, *, cursor_blink: bool = True) -> None:
        super().__init__()
        self.service = service
        self.thread_id = thread_id
        self._draft_id: str | None = None
        self._saved_body = ""
        self._timer: Timer | None = None
        self._sending = False
        self._done = False  # sent or discarded: nothing left to save
        self._refused = ""  # why the provider refused this reply, when it did
        self._view: ThreadView | None = None
        self._seen: frozenset[str] | None = None  # the thread's messages when it opened
        restored = self._restore()
        self._fresh = not restored  # a new reply: the cursor goes above the signature
        me = service.config.managers.get(service.user)
        text = restored or with_signature("", me.signature if me else "")
        self._area = TextArea(text, soft_wrap=True, id="reply-body")
        self._area.cursor_blink = cursor_blink

    @property
    def draft_id(self) -> str | None:
        return self._draft_id

    @property
    def text(self) -> str:
        return self._area.text

    def _restore(self) -> str:
        """The body of this thread's newest open draft, so typed text comes back."""
        mine = [d for d in self.service.drafts() if d.thread_id == self.thread_id]
        # A refused reply is text the user still owns: it comes back, marked as not sent.
        drafts = [d for d in mine if d.status.editable]
        if not drafts:
            return ""
        newest = max(drafts, key=lambda d: (d.updated_at is not None, d.updated_at or 0))
        self._draft_id, self._saved_body = newest.id, newest.body
        self._refused = newest.error if newest.status is OutboxStatus.FAILED else ""
        return newest.body

    def compose(self) -> ComposeResult:
        with Vertical(id="reply-head"):
            yield Static(Text(_("To: …"), style="dim"), id="reply-to")
            yield Static(Text(_("Subject: …"), style="dim"), id="reply-subject")
        yield Static(id="reply-notice")
        with VerticalScroll(id="quote", can_focus=False):
            yield Static(Text(_("Loading the conversation…"), style="dim"), id="quote-text")
        yield self._area
        yield Footer()

    def on_mount(self) -> None:
        self._area.focus()
        self._area.move_cursor((0, 0) if self._fresh else self._area.document.end)
        pending = [
            d
            for d in self.service.drafts()
            if d.thread_id == self.thread_id and d.status.on_its_way
        ]
        if pending:
            self._notice(_("A reply to this conversation is already waiting to be sent"))
        elif self._refused:
            self._notice(
                _("Not sent: {why}. ctrl+s sends it again.").format(why=safe_plain(self._refused))
            )
        self.load()
        self.tell_others(True)

    @work(group="reply-replying", exit_on_error=False)
    async def tell_others(self, writing: bool) -> None:
        """Other consoles show that this user is writing here (the mark expires by
        itself if this console dies); best effort: a failure blocks nothing."""
        with contextlib.suppress(Exception):
            await self.service.replying(self.thread_id, writing)

    def _notice(self, text: str | None) -> None:
        notice = self.query_one("#reply-notice", Static)
        notice.update(Text(text or ""))
        notice.set_class(text is not None, "-shown")

    @work(group="reply-load", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        try:
            view = await self.service.thread(self.thread_id)
        except Exception as exc:  # the reply can still be written and saved
            self._notice(
                _("could not load the conversation: {error}").format(error=safe_plain(str(exc)))
            )
            return
        self._show(view)

    def _show(self, view: ThreadView) -> None:
        self._view = view
        if self._seen is None:
            self._seen = frozenset(view.message_ids or (m.id for m in view.messages))
        conv = view.conversation
        address = address_display(conv.client_name, conv.client_email)
        to = Text.assemble((_("To: "), "bold"), safe(address, max_len=_HEADER_CHARS))
        subject = reply_subject(conv.subject)
        subject_line = Text.assemble((_("Subject: "), "bold"), safe(subject, max_len=_HEADER_CHARS))
        self.query_one("#reply-to", Static).update(to)
        self.query_one("#reply-subject", Static).update(subject_line)
        self.query_one("#quote-text", Static).update(self._quote(view))

    def _quote(self, view: ThreadView) -> Text:
        clients = [m for m in view.messages if not is_staff(m.sender, self.service.config)]
        if not clients:
            return Text(_("(no client message to quote)"), style="dim")
        last = clients[-1]
        lines = safe_block(last.body or last.preview).plain.splitlines()[:_QUOTE_LINES]
        head = Text.assemble(safe(address_display(last.sender_name, last.sender)), _(" wrote:"))
        return Text("\n").join([head, *(Text(f"> {line}") for line in lines)])

    # ---- saving ----

    def on_text_area_changed(self, _event: TextArea.Changed) -> None:
        if self._done:
            return
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_SECONDS, self.flush_draft)

    def flush_draft(self) -> bool:
        """Save the text now; False (and an error shown) when the save failed."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        body = self._area.text
        if self._done or body == self._saved_body:
            return True
        try:
            draft = self.service.save_draft(self.thread_id, body, self._draft_id)
        except Exception as exc:  # disk full, locked cache: keep the screen and the text
            self.notify(
                _("Could not save the draft: {error}").format(error=safe_plain(str(exc))),
                severity="error",
                markup=False,
            )
            return False
        self._draft_id, self._saved_body = draft.id, body
        return True

    def on_unmount(self) -> None:
        self.flush_draft()
        if not self._done:  # a sent reply ends it on the provider by itself
            self.app.call_later(self._stopped_writing)

    async def _stopped_writing(self) -> None:
        with contextlib.suppress(Exception):
            await self.service.replying(self.thread_id, False)

    # ---- keys ----

    def _busy(self) -> bool:
        """While a send is in flight, leaving would cancel it mid-way: wait for it."""
        if self._sending:
            self.notify(_("Sending… wait for the outcome"), severity="warning", markup=False)
        return self._sending

    def action_keep(self) -> None:
        if self._busy() or not self.flush_draft():
            return
        if self._draft_id is not None:
            self.notify(_("Draft kept"), markup=False)
        self.dismiss(None)

    def action_send(self) -> None:
        # ctrl+s jumps the queue: wait for the text typed just before it (one burst).
        after_pending_keys(self, self._send_now)

    def _send_now(self) -> None:
        if self._sending or self._done:
            return
        if not without_signature(self._area.text).strip():
            self.notify(_("Nothing to send: the reply is empty"), severity="warning", markup=False)
            return
        if left := unfilled(self._area.text):
            names = ", ".join("{" + n + "}" for n in left)
            self._notice(
                _("Fill in {names} before sending (the template could not).").format(names=names)
            )
            self.notify(
                _("Not sent: fill in {names} first").format(names=names),
                severity="warning",
                markup=False,
            )
            return
        if not self.flush_draft() or self._draft_id is None:
            return
        self._sending = True
        self._area.read_only = True  # the text that was saved is the text that goes out
        self.send(self._draft_id)

    @work(group="reply-send", exclusive=True, exit_on_error=False)
    async def send(self, draft_id: str, anyway: bool = False) -> None:
        arrived = [] if anyway else await self._arrived_since()
        if arrived:
            from triage.ui.screens.dialogs.collision import CollisionScreen

            staff = [is_staff(m.sender, self.service.config) for m in arrived]
            self.app.push_screen(CollisionScreen(arrived, staff),
                                 lambda go: self._after_collision(draft_id, go))  # fmt: skip
            return
        try:
            draft = await self.service.send_reply(draft_id, self.service.config.undo_send_seconds)
        except Exception as exc:  # refused: the text stays, here and in the outbox
            self._sending = False
            self._area.read_only = False
            why = safe_plain(str(exc))
            self._notice(_("Not sent: {why}. ctrl+s sends it again.").format(why=why))
            self.notify(
                _(
                    "Not sent: {why}. The reply is kept, marked unsent: nothing goes out "
                    "until you send it again (ctrl+s) or discard it (ctrl+d)."
                ).format(why=why),
                severity="error",
                markup=False,
                timeout=15,
            )
            return
        self._done = True
        if draft.held(self.service.now()):
            hold = getattr(self.app, "hold_reply", None)  # the console (tests may host it)
            if hold is not None:
                hold(draft)
            seconds = self.service.config.undo_send_seconds
            self.notify(
                _("Reply goes in {seconds}s: u takes it back").format(seconds=seconds),
                markup=False,
                timeout=5,
            )
        else:
            self.notify(outcome(draft), markup=False, timeout=8)
        self.post_message(ReplySent(draft))
        close_burst(self)  # keys typed with the reply must not act on the screen below
        self.dismiss(draft)

    async def _arrived_since(self) -> list[Message]:
        """Messages the provider has in the thread that this screen had not seen when
        it opened (none when it cannot be asked: the reply is then queued as always)."""
        if self._seen is None:
            return []
        try:
            view = await self.service.thread(self.thread_id)
        except Exception:  # offline: nothing to compare with; the outbox takes the reply
            return []
        if view.offline:
            return []
        mine = {d.message_id.strip("<>") for d in self.service.drafts() if d.message_id}
        return [m for m in view.messages
                if m.id not in self._seen and m.message_id.strip("<>") not in mine]  # fmt: skip

    def _after_collision(self, draft_id: str, send_anyway: bool | None) -> None:
        if send_anyway:
            self.send(draft_id, anyway=True)
            return
        self._sending = False
        self._area.read_only = False
        self._seen = None  # what is shown now counts as seen: the next send asks again
        self.load()
        self._area.focus()

    def action_discard(self) -> None:
        after_pending_keys(self, self._discard_now)

    def _discard_now(self) -> None:
        if self._busy() or self._done:
            return
        self.app.push_screen(ConfirmDiscard(), self._discard_confirmed)

    def _discard_confirmed(self, yes: bool | None) -> None:
        if not yes:
            return
        if self._timer is not None:
            self._timer.stop()
        self._done = True
        if self._draft_id is not None:
            try:
                self.service.discard_draft(self._draft_id)
            except Exception as exc:  # on its way already, or the disk failed: keep it
                self._done = False
                self.notify(
                    _("Not discarded: {error}").format(error=safe_plain(str(exc))),
                    severity="error",
                    markup=False,
                )
                return
        self.notify(_("Draft discarded"), markup=False)
        self.dismiss(None)

    # ---- templates ----

    def action_template(self) -> None:
        after_pending_keys(self, self._template_now)

    def _template_now(self) -> None:
        from triage.ui.screens.dialogs.templates import TemplatePicker

        if self._busy() or self._done:
            return
        templates = self.service.config.templates
        if not templates:
            self.notify(_('No templates yet: add [templates.NAME] with body = "..." to the '
                        "config"), severity="warning", markup=False)  # fmt: skip
            return
        self.app.push_screen(
            TemplatePicker(for_language(templates.values(), self._client_language())),
            self._insert_template,
        )

    def _client_language(self) -> str:
        """The client account's `language` ([clients."x"]), else the console's."""
        conv = self.service.conversation(self.thread_id)
        client = find_client(conv.client_email, self.service.config) if conv else None
        return (client.language if client else "") or current()

    def _insert_template(self, template: Template | None) -> None:
        if template is None:
            return
        text = render(template.body, self._values(template.language))
        self._area.insert(text)
        self.flush_draft()
        if left := unfilled(text):
            names = ", ".join("{" + n + "}" for n in left)
            self._notice(
                _("Fill in {names}: sending waits until they are replaced.").format(names=names)
            )

    def _values(self, language: str = "") -> dict[str, str]:
        """The placeholders' values: this conversation, its latest client, this user."""
        view, config = self._view, self.service.config
        conv = view.conversation if view else self.service.conversation(self.thread_id)
        if conv is None:
            return {}
        clients = [m for m in view.messages if not is_staff(m.sender, config)] if view else []
        contact = clients[-1].sender_name if clients else ""
        manager = config.managers.get(self.service.user)
        return values_for(conv, contact, manager, config.regions.get(conv.region), language)

    def action_editor(self) -> None:
        after_pending_keys(self, self._editor_now)

    def _editor_now(self) -> None:
        if self._busy() or self._done or not self.flush_draft():
            return
        try:
            text = self._edit_externally(self._area.text)
        except SuspendNotSupported:
            self.notify(
                _("Cannot open an external editor here; keep typing in this screen"),
                severity="warning",
                markup=False,
            )
            return
        except OSError as exc:  # editor not found, temp dir not writable
            self.notify(
                _("Could not run the editor: {error}").format(error=safe_plain(str(exc))),
                severity="error",
                markup=False,
            )
            return
        if text is not None and text != self._area.text:
            # replace() rather than load_text(): the change can be undone.
            self._area.replace(text, (0, 0), self._area.document.end)
            self.flush_draft()

    def _edit_externally(self, text: str) -> str | None:
        """Run $VISUAL/$EDITOR on a private copy; the new text, or None if it failed."""
        command = shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")
        # A private 0700 directory and a 0600 file: other users of a shared
        # server must not read a reply being written.
        with tempfile.TemporaryDirectory(prefix="triage-reply-") as tmp:
            path = Path(tmp) / "reply.txt"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            with self.app.suspend():
                result = subprocess.run([*command, str(path)], check=False)
            if result.returncode != 0:
                self.notify(
                    _("The editor exited with status {code}; text unchanged").format(
                        code=result.returncode
                    ),
                    severity="warning",
                    markup=False,
                )
                return None
            # Editors add a final newline; drop one so the text round-trips.
            return path.read_text(encoding="utf-8", errors="replace").removesuffix("\n")
