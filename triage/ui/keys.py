"""Every action of the console, once: its id, default keys, title and help text.

The one registry that feeds the screens' key bindings (`bindings`), the command
palette (`triage.ui.commands`) and the help screen, so the three can never
disagree. The id is also the name users remap in the config's `[keys]` table,
and the screen method it runs is `action_<id>` unless `method` says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType

from triage.text.i18n import N_, _, current


@dataclass(frozen=True)
class Action:
    id: str
    keys: str  # default keys, comma-separated ("escape,q")
    title: str  # the footer's and the palette's short name
    help: str  # one line: the tooltip, the palette's help and the help screen's text
    method: str = ""  # the screen action it runs, with arguments ("pick(0)"); default: id
    footer: bool = True
    priority: bool = False  # wins over the focused widget's own keys (text boxes)
    palette: bool = True  # offered by ctrl+p (movement keys are not)
    name: str = ""  # the palette's longer name, when the footer's title is terse

    @property
    def action(self) -> str:
        return self.method or self.id

    @property
    def command(self) -> str:
        return self.name or self.title


VIEW_KEYS_HELP = N_("Jump to a list: 1 waiting · 2 snoozed · 3 done · 4 answered · 5 all")

_ACTIONS = (
    # -- the queue and the escalation pane --
    Action("open", "enter", N_("Open"), N_("Read the conversation under the cursor"),
           name=N_("Open conversation")),
    Action("reply", "r", N_("Reply"), N_("Write a reply to the client")),
    Action("escalate", "e", N_("Escalate"), N_("Escalate to the CEO, with a reason")),
    Action("reassign", "a", N_("Reassign"), N_("Give the conversation to another account manager")),
    Action("done", "d", N_("Done"), N_("No reply needed: out of the queue until the client writes "
           "again (asks why)"), name=N_("Done: no reply needed")),
    Action("snooze", "z", N_("Snooze"), N_("Out of the queue until a time you choose (back sooner "
           "if it becomes at risk)")),
    Action("bring_back", "b", N_("Bring back"), N_("Reopen a done conversation, or wake a snoozed one"),
           footer=False, name=N_("Reopen / wake")),
    Action("deescalate", "x", N_("Take back"), N_("Take the escalation back, with a reason"),
           footer=False, name=N_("Take back escalation")),
    Action("undo", "u", N_("Undo"), N_("Undo your last action (within a minute)"), footer=False,
           name=N_("Undo last action")),
    Action("next_view", "l", N_("View"), N_("Next list: waiting, snoozed, done, answered, all"),
           name=N_("Next view")),
    *(Action(f"view_{v}", str(i), N_("Views"), VIEW_KEYS_HELP, method=f"show_view('{v}')",
             footer=False, name=name)
      for i, (v, name) in enumerate((("waiting", N_("View: waiting")),
                                     ("snoozed", N_("View: snoozed")),
                                     ("done", N_("View: done")),
                                     ("answered", N_("View: answered")),
                                     ("all", N_("View: all"))), 1)),
    Action("find", "f", N_("Find"), N_("Search every conversation: subject, client, and the text "
           "of messages read on this machine"), footer=False, name=N_("Find in all conversations")),
    Action("handoff", "H", N_("Handoff"), N_("Your shift handoff: what comes due before your next "
           "shift, and who can take it"), footer=False, name=N_("Shift handoff")),
    Action("away", "A", N_("Away"), N_("Mark yourself away until a time (your alerts and "
           "nudges go to a backup), or back"), footer=False, name=N_("Away or back")),
    Action("report", "P", N_("Report"), N_("The team's report: attainment per manager and "
           "region, the daily trend, the breaches, CSV export"), footer=False, name=N_("Report")),
    Action("report_pane", "t", N_("Pane"), N_("Next pane of the report: charts, figures, "
           "breaches"), name=N_("Report: next pane")),
    Action("report_period", "p", N_("Period"), N_("The report over the last 7 or the last 30 "
           "days"), name=N_("Report: 7 / 30 days")),
    Action("report_group", "g", N_("Group"), N_("The report's figures by manager, region or "
           "client"), name=N_("Report: group by")),
    Action("report_export", "c", N_("CSV"), N_("Write the report's figures as CSV to your data "
           "directory"), name=N_("Report: export CSV")),
    Action("hand_over", "h", N_("Hand over"), N_("Give the conversation to the first colleague "
           "listed (reason: handoff)")),
    Action("filter", "slash", N_("Filter"), N_("Filter by client, subject or sender as you type")),
    Action("mine", "m", N_("Mine"), N_("Show only my conversations (toggle)"), name=N_("Only mine")),
    Action("region", "g", N_("Region"), N_("Cycle the region filter: all, then each region"),
           footer=False, name=N_("Next region")),
    Action("clear_filters", "escape", N_("Clear"), N_("Clear every filter"), footer=False,
           name=N_("Clear filters")),
    Action("escalations", "v", N_("Escalations"), N_("Switch between the queue and the escalation pane"),
           name=N_("Escalation pane / queue")),
    Action("acknowledge", "y", N_("Acknowledge"), N_("Mark the escalation as seen by the CEO"),
           name=N_("Acknowledge escalation")),
    Action("acknowledged", "t", N_("Acknowledged"),
           N_("Switch between open escalations and the acknowledged ones"),
           name=N_("Acknowledged escalations / open ones")),
    Action("unacknowledge", "u", N_("Undo ack"), N_("Take back the acknowledgement (open it again)"),
           footer=False, name=N_("Undo acknowledgement")),
    Action("sync", "s", N_("Sync"), N_("Sync with the mail provider now"), footer=False,
           name=N_("Sync now")),
    Action("help", "question_mark", N_("Help"), N_("Every key of this screen"), name=N_("Help: keys")),
    Action("quit", "q", N_("Quit"), N_("Quit triage (drafts are kept)"), footer=False),
    # -- the table's movement keys --
    Action("cursor_down", "j,down", N_("Down"), N_("Move to the next conversation"), footer=False,
           palette=False),
    Action("cursor_up", "k,up", N_("Up"), N_("Move to the previous conversation"), footer=False,
           palette=False),
    Action("page_down", "pagedown,ctrl+f", N_("Page down"), N_("Move one screen down"), footer=False,
           palette=False),
    Action("page_up", "pageup,ctrl+b", N_("Page up"), N_("Move one screen up"), footer=False,
           palette=False),
    Action("first", "home", N_("First"), N_("Jump to the most urgent conversation"), footer=False,
           palette=False),
    Action("last", "end", N_("Last"), N_("Jump to the least urgent conversation"), footer=False,
           palette=False),
    Action("select", "enter", N_("Open"), N_("Open the conversation under the cursor"),
           method="select_cursor", footer=False, palette=False),
    Action("filter_clear", "escape", N_("Clear filter"),
           N_("Clear the text filter and go back to the queue"), method="clear_filter",
           palette=False),
    # -- a conversation --
    Action("reload", "ctrl+r", N_("Reload"), N_("Load the conversation again from the provider")),
    Action("older", "o", N_("Older"), N_("Load the older messages of this conversation"), footer=False,
           name=N_("Older messages")),
    Action("back", "escape,q", N_("Back"), N_("Back to the previous screen")),
    # -- writing a reply --
    Action("send", "ctrl+s", N_("Send"), N_("Send the reply"), priority=True),
    Action("draft", "escape", N_("Keep draft"), N_("Close, keep the draft"), method="keep"),
    Action("editor", "ctrl+e", "$EDITOR", N_("Edit the reply in $EDITOR"), priority=True),
    Action("discard", "ctrl+d", N_("Discard"), N_("Delete the draft (asks first)"), priority=True),
    Action("template", "ctrl+t", N_("Template"), N_("Insert a canned reply from the config's "
           "[templates]"), priority=True, name=N_("Insert template")),
    # -- dialogs --
    Action("escalate_pick_1", "1", N_("Reason 1"), N_("Pick the first quick reason"), method="pick(0)",
           footer=False, palette=False),
    Action("escalate_pick_2", "2", N_("Reason 2"), N_("Pick the second quick reason"), method="pick(1)",
           footer=False, palette=False),
    Action("escalate_pick_3", "3", N_("Reason 3"), N_("Pick the third quick reason"), method="pick(2)",
           footer=False, palette=False),
    *(Action(f"pick_{i}", str(i), title, N_("Pick that quick reason"),
             method=f"pick({i - 1})", footer=False, palette=False)
      for i, title in enumerate((N_("Reason 1"), N_("Reason 2"), N_("Reason 3"),
                                 N_("Reason 4")), 1)),
    Action("reason_next", "down", N_("Next reason"), N_("Choose the next quick reason"),
           method="step(1)", footer=False, palette=False),
    Action("reason_previous", "up", N_("Previous reason"), N_("Choose the previous quick reason"),
           method="step(-1)", footer=False, palette=False),
    Action("reassign_reason_1", "1", N_("Reason 1"), N_("Pick the first quick reason"),
           method="reason(0)", footer=False, palette=False),
    Action("reassign_reason_2", "2", N_("Reason 2"), N_("Pick the second quick reason"),
           method="reason(1)", footer=False, palette=False),
    Action("reassign_reason_3", "3", N_("Reason 3"), N_("Pick the third quick reason"),
           method="reason(2)", footer=False, palette=False),
    Action("whole_account", "w", N_("Whole account"),
           N_("Also give the client's future conversations to this manager"),
           method="toggle_account", footer=False, palette=False),
    Action("confirm", "enter", N_("OK"), N_("Do it"), palette=False),
    Action("cancel", "escape", N_("Cancel"), N_("Close without doing anything"), palette=False),
    Action("help_close", "escape,q,question_mark", N_("Close"), N_("Close the help"), method="close",
           palette=False),
    Action("command_palette", "ctrl+p", N_("Commands"), N_("Every action, by name"), footer=False,
           palette=False),
)  # fmt: skip
ACTIONS: dict[str, Action] = {a.id: a for a in _ACTIONS}


class TranslatedBinding(Binding):
    """A Binding whose footer title and tooltip are read in the language spoken now.

    The registry holds the English (the catalogue's ids); the footer reads
    `description` and `tooltip` when it draws, so a binding made at import time
    still speaks the language chosen at start."""

    @property
    def description(self) -> str:
        return _(self.__dict__["_description"])

    @description.setter
    def description(self, value: str) -> None:
        self.__dict__["_description"] = value

    @property
    def tooltip(self) -> str:
        return _(self.__dict__["_tooltip"])

    @tooltip.setter
    def tooltip(self, value: str) -> None:
        self.__dict__["_tooltip"] = value


def binding(
    action_id: str, *, title: str = "", keys: str = "", footer: bool | None = None
) -> Binding:
    """The Binding of one registered action; a screen may rename it in its own footer."""
    a = ACTIONS[action_id]
    return TranslatedBinding(
        keys or a.keys,
        a.action,
        title or a.title,
        show=a.footer if footer is None else footer,
        priority=a.priority,
        id=a.id,
        tooltip=a.help,
    )


def bindings(*action_ids: str) -> list[BindingType]:
    return [binding(i) for i in action_ids]


def remappable() -> set[str]:
    """Every id a config's [keys] table may name."""
    return set(ACTIONS)


_bound_language = current()  # the language the classes' key maps were built in


def retranslate() -> None:
    """After a change of language, rebuild the key maps of our screens and widgets.

    Textual copies each Binding into a class-level map when the class is made, reading
    the title then; the CLI picks the language before the console is imported, so this
    is a no-op there. It matters when the language changes in a running process (tests)."""
    global _bound_language
    if current() == _bound_language:
        return
    _bound_language = current()
    from textual.dom import DOMNode

    stack, seen = [DOMNode], set()
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub in seen:
                continue
            seen.add(sub)
            stack.append(sub)
            if any(c.__module__.startswith("triage.") for c in sub.__mro__):
                sub._merged_bindings = sub._merge_bindings()
