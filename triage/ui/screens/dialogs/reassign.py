"""The reassign dialog: to whom, why, and for this conversation or the whole account.

Owns only the question; the caller runs `Service.reassign` with the answer, a
`ReassignChoice`, or gets None on esc. Every manager from
`Service.managers_for` is listed: the qualified ones with their open load and
breached count, the others greyed, marked with a glyph and the reason they
cannot take it (never silently left out). The current owner is marked and
cannot be picked. Client names come from email, so they go through `safe`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, OptionList, RadioButton, RadioSet, Static
from textual.widgets.option_list import Option

from triage.domain.reasons import REASSIGN_REASONS, reason_label
from triage.service.api import ManagerChoice, Service
from triage.text.i18n import N_, _
from triage.ui.keys import binding
from triage.ui.screens.base import close_burst
from triage.ui.screens.dialogs.reason import about_text
from triage.ui.text import safe

QUICK_REASONS = REASSIGN_REASONS
_SHORTCUTS = frozenset("123w ")


@dataclass(frozen=True)
class ReassignChoice:
    """What the dialog was answered: to whom, why, and for the whole client account?"""

    manager: str
    reason: str
    account: bool


def manager_option(choice: ManagerChoice, owner: str) -> Option:
    """One row: selectable when qualified and not already the owner."""
    m = choice.manager
    current = m.id == owner
    text = Text("★ " if current else ("  " if choice.qualified else "✗ "))
    text.append_text(safe(m.name, max_len=24, style="bold" if choice.qualified else ""))
    if current:
        text.append(_("  current owner"), style="italic")
    if choice.qualified:
        text.append(
            _("  open {open} · breached {breached}").format(
                open=choice.open_load, breached=choice.breached
            )
        )
    else:
        text.append("  — ")
        text.append_text(safe(choice.why_not or "not qualified"))
    return Option(text, id=m.id, disabled=current or not choice.qualified)


class StateRadio(RadioButton):
    """A radio button whose state reads without colour: (•) chosen, ( ) not."""

    @property
    def _button(self) -> Content:
        return Content("(•)" if self.value else "( )")


class StateCheckbox(Checkbox):
    """A checkbox whose state reads without colour: [x] on, [ ] off."""

    @property
    def _button(self) -> Content:
        return Content("[x]" if self.value else "[ ]")


class ReassignScreen(ModalScreen[ReassignChoice | None]):
    """Pick another account manager for a conversation (or its whole account)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *(binding(f"reassign_reason_{i}", title=r) for i, r in enumerate(QUICK_REASONS, 1)),
        binding("whole_account"),
        binding("confirm", title=N_("Reassign")),
        binding("cancel"),
    ]

    DEFAULT_CSS = """
    ReassignScreen { align: center middle; }
    ReassignScreen #dialog {
        width: 78; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; padding: 0 1; background: $surface;
    }
    ReassignScreen #dialog > Static { height: auto; }
    ReassignScreen #title { text-style: bold reverse; }
    ReassignScreen #managers { height: auto; max-height: 7; }
    ReassignScreen RadioSet { width: 100%; }
    /* On/off must read without colour: the chosen label is bold and underlined. */
    ReassignScreen RadioButton.-on, ReassignScreen Checkbox.-on { text-style: bold underline; }
    ReassignScreen #chosen { text-style: bold; }
    ReassignScreen #hint { color: $text-muted; }
    """

    def __init__(self, service: Service, thread_id: str) -> None:
        super().__init__()
        self.service = service
        self.thread_id = thread_id
        conv = service.conversation(thread_id)
        self.owner = conv.owner if conv else ""
        self.client = (conv.client_name or conv.client_email) if conv else "this client"
        self.asked = bool(conv and conv.asked_new_manager)  # preset "client asked ..."
        self._typing = False  # words are being typed: shortcuts are text until a non-text key

    def compose(self) -> ComposeResult:
        owner = self.service.config.manager_name(self.owner) if self.owner else "nobody"
        account = Text.assemble(
            _("whole account ("), safe(self.client, max_len=24), _("'s future mail too)")
        )
        with Vertical(id="dialog"):
            yield Static(Text(_(" Reassign ")), id="title")
            yield Static(about_text(self.service, self.thread_id, 72), id="about")
            yield Static(Text.assemble((_("Owner now: "), "dim"), safe(owner)), id="owner")
            yield OptionList(
                *(manager_option(c, self.owner) for c in self.service.managers_for(self.thread_id)),
                id="managers",
            )
            # Tab order: managers, then the reason in words, then the quick reasons.
            yield Input(
                placeholder=_("reason in your words (optional)"),
                id="reason-text",
                compact=True,
                select_on_focus=False,
            )
            with RadioSet(id="quick", compact=True):
                for i, reason in enumerate(QUICK_REASONS, 1):
                    yield StateRadio(f"{i} {_(reason)}", value=self.asked and i == 1,
                                     compact=True)  # fmt: skip
            yield StateCheckbox(account, id="account", compact=True)
            yield Static(id="chosen")
            yield Static(
                Text(_("↑↓ manager · 1-3 reason · w account · tab next · enter ok · esc cancel")),
                id="hint",
            )

    def on_mount(self) -> None:
        self.query_one("#managers", OptionList).focus()
        # The quick reasons and the account box are chosen with 1-3 and w (or a click);
        # tab moves only between the managers and the reason box.
        self.query_one("#quick", RadioSet).can_focus = False
        self.query_one("#account", Checkbox).can_focus = False
        self._show_choice()

    def on_key(self, event: events.Key) -> None:
        """Words typed anywhere but the reason box go into it: a letter that is not a
        shortcut starts the typing, and then the shortcuts (1-3, w, space) are text too,
        until a key that is not text."""
        box = self.query_one("#reason-text", Input)
        if self.focused is box:
            return
        if (
            event.is_printable
            and event.character
            and (self._typing or event.character not in _SHORTCUTS)
        ):
            event.stop()
            event.prevent_default()
            self._typing = True
            box.focus()
            box.insert_text_at_cursor(event.character)
        else:
            self._typing = False

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_confirm()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    # ---- the answer ----

    def manager_id(self) -> str | None:
        managers = self.query_one("#managers", OptionList)
        index = managers.highlighted
        if index is None:
            return None
        option = managers.get_option_at_index(index)
        return None if option.disabled else option.id

    def _owner_highlighted(self) -> bool:
        managers = self.query_one("#managers", OptionList)
        index = managers.highlighted
        return index is not None and managers.get_option_at_index(index).id == self.owner

    def reason(self) -> str:
        """The quick pick and the typed words, joined: 'workload: on leave in May'."""
        index = self.query_one("#quick", RadioSet).pressed_index
        picked = QUICK_REASONS[index] if index >= 0 else ""
        typed = " ".join(self.query_one("#reason-text", Input).value.split())
        return ": ".join(part for part in (picked, typed) if part)

    def account(self) -> bool:
        return self.query_one("#account", Checkbox).value

    def _show_choice(self) -> None:
        """Spell out what enter would do, so it reads without colour."""
        who = self.manager_id()
        line = Text("→ ")
        line.append_text(
            safe(self.service.config.manager_name(who)) if who else Text(_("no manager"))
        )
        line.append(" · ")
        line.append_text(safe(reason_label(self.reason()) or _("no reason yet")))
        line.append(_(" · whole account") if self.account() else _(" · this conversation only"))
        self.query_one("#chosen", Static).update(line)

    def on_option_list_option_highlighted(self, _event: OptionList.OptionHighlighted) -> None:
        self._show_choice()

    def on_radio_set_changed(self, _event: RadioSet.Changed) -> None:
        self._show_choice()

    def on_input_changed(self, _event: Input.Changed) -> None:
        self._show_choice()

    def on_checkbox_changed(self, _event: Checkbox.Changed) -> None:
        self._show_choice()

    # ---- keys ----

    def action_reason(self, index: int) -> None:
        buttons = list(self.query_one("#quick", RadioSet).query(RadioButton))
        buttons[index].value = True

    def action_toggle_account(self) -> None:
        self.query_one("#account", Checkbox).toggle()

    def action_confirm(self) -> None:
        who = self.manager_id()
        reason = self.reason()
        if self._owner_highlighted():
            name = self.service.config.manager_name(self.owner)
            self.notify(_("{name} already owns this conversation: pick another manager (↑↓)")
                        .format(name=name),
                        severity="warning", markup=False)  # fmt: skip
        elif who is None:
            self.notify(_("Pick a manager (↑↓)"), severity="warning", markup=False)
        elif not reason:
            self.notify(_("Give a reason (1-3 or type one)"), severity="warning", markup=False)
        else:
            close_burst(self)
            self.dismiss(ReassignChoice(who, reason, self.account()))

    def action_cancel(self) -> None:
        close_burst(self)
        self.dismiss(None)
