"""Every action of the console, once: its id, default keys, title and help text.

The one registry that feeds the screens' key bindings (`bindings`), the command
palette (`triage.ui.commands`) and the help screen, so the three can never
disagree. The id is also the name users remap in the config's `[keys]` table,
and the screen method it runs is `action_<id>` unless `method` says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType


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


VIEW_KEYS_HELP = "Jump to a list: 1 waiting · 2 snoozed · 3 done · 4 answered · 5 all"

_ACTIONS = (
    # -- the queue and the escalation pane --
    Action("open", "enter", "Open", "Read the conversation under the cursor",
           name="Open conversation"),
    Action("reply", "r", "Reply", "Write a reply to the client"),
    Action("escalate", "e", "Escalate", "Escalate to the CEO, with a reason"),
    Action("reassign", "a", "Reassign", "Give the conversation to another account manager"),
    Action("done", "d", "Done", "No reply needed: out of the queue until the client writes "
           "again (asks why)", name="Done: no reply needed"),
    Action("snooze", "z", "Snooze", "Out of the queue until a time you choose (back sooner "
           "if it becomes at risk)"),
    Action("bring_back", "b", "Bring back", "Reopen a done conversation, or wake a snoozed one",
           footer=False, name="Reopen / wake"),
    Action("deescalate", "x", "Take back", "Take the escalation back, with a reason",
           footer=False, name="Take back escalation"),
    Action("undo", "u", "Undo", "Undo your last action (within a minute)", footer=False,
           name="Undo last action"),
    Action("next_view", "l", "View", "Next list: waiting, snoozed, done, answered, all",
           name="Next view"),
    *(Action(f"view_{v}", str(i), "Views", VIEW_KEYS_HELP, method=f"show_view('{v}')",
             footer=False, name=f"View: {v}")
      for i, v in enumerate(("waiting", "snoozed", "done", "answered", "all"), 1)),
    Action("find", "f", "Find", "Search every conversation: subject, client, and the text "
           "of messages read on this machine", footer=False, name="Find in all conversations"),
    Action("handoff", "H", "Handoff", "Your shift handoff: what comes due before your next "
           "shift, and who can take it", footer=False, name="Shift handoff"),
    Action("away", "A", "Away", "Mark yourself away until a time (your alerts and nudges go "
           "to a backup), or back", footer=False, name="Away or back"),
    Action("report", "P", "Report", "The team's report: attainment per manager and region, "
           "the daily trend, the breaches, CSV export", footer=False, name="Report"),
    Action("report_pane", "t", "Pane", "Next pane of the report: charts, figures, breaches",
           name="Report: next pane"),
    Action("report_period", "p", "Period", "The report over the last 7 or the last 30 days",
           name="Report: 7 / 30 days"),
    Action("report_group", "g", "Group", "The report's figures by manager, region or client",
           name="Report: group by"),
    Action("report_export", "c", "CSV", "Write the report's figures as CSV to your data "
           "directory", name="Report: export CSV"),
    Action("hand_over", "h", "Hand over", "Give the conversation to the first colleague "
           "listed (reason: handoff)"),
    Action("filter", "slash", "Filter", "Filter by client, subject or sender as you type"),
    Action("mine", "m", "Mine", "Show only my conversations (toggle)", name="Only mine"),
    Action("region", "g", "Region", "Cycle the region filter: all, then each region",
           footer=False, name="Next region"),
    Action("clear_filters", "escape", "Clear", "Clear every filter", footer=False,
           name="Clear filters"),
    Action("escalations", "v", "Escalations", "Switch between the queue and the escalation pane",
           name="Escalation pane / queue"),
    Action("acknowledge", "y", "Acknowledge", "Mark the escalation as seen by the CEO",
           name="Acknowledge escalation"),
    Action("acknowledged", "t", "Acknowledged",
           "Switch between open escalations and the acknowledged ones",
           name="Acknowledged escalations / open ones"),
    Action("unacknowledge", "u", "Undo ack", "Take back the acknowledgement (open it again)",
           footer=False, name="Undo acknowledgement"),
    Action("sync", "s", "Sync", "Sync with the mail provider now", footer=False,
           name="Sync now"),
    Action("help", "question_mark", "Help", "Every key of this screen", name="Help: keys"),
    Action("quit", "q", "Quit", "Quit triage (drafts are kept)", footer=False),
    # -- the table's movement keys --
    Action("cursor_down", "j,down", "Down", "Move to the next conversation", footer=False,
           palette=False),
    Action("cursor_up", "k,up", "Up", "Move to the previous conversation", footer=False,
           palette=False),
    Action("page_down", "pagedown,ctrl+f", "Page down", "Move one screen down", footer=False,
           palette=False),
    Action("page_up", "pageup,ctrl+b", "Page up", "Move one screen up", footer=False,
           palette=False),
    Action("first", "home", "First", "Jump to the most urgent conversation", footer=False,
           palette=False),
    Action("last", "end", "Last", "Jump to the least urgent conversation", footer=False,
           palette=False),
    Action("select", "enter", "Open", "Open the conversation under the cursor",
           method="select_cursor", footer=False, palette=False),
    Action("filter_clear", "escape", "Clear filter",
           "Clear the text filter and go back to the queue", method="clear_filter",
           palette=False),
    # -- a conversation --
    Action("reload", "ctrl+r", "Reload", "Load the conversation again from the provider"),
    Action("older", "o", "Older", "Load the older messages of this conversation", footer=False,
           name="Older messages"),
    Action("back", "escape,q", "Back", "Back to the previous screen"),
    # -- writing a reply --
    Action("send", "ctrl+s", "Send", "Send the reply", priority=True),
    Action("draft", "escape", "Keep draft", "Close, keep the draft", method="keep"),
    Action("editor", "ctrl+e", "$EDITOR", "Edit the reply in $EDITOR", priority=True),
    Action("discard", "ctrl+d", "Discard", "Delete the draft (asks first)", priority=True),
    Action("template", "ctrl+t", "Template", "Insert a canned reply from the config's "
           "[templates]", priority=True, name="Insert template"),
    # -- dialogs --
    Action("escalate_pick_1", "1", "Reason 1", "Pick the first quick reason", method="pick(0)",
           footer=False, palette=False),
    Action("escalate_pick_2", "2", "Reason 2", "Pick the second quick reason", method="pick(1)",
           footer=False, palette=False),
    Action("escalate_pick_3", "3", "Reason 3", "Pick the third quick reason", method="pick(2)",
           footer=False, palette=False),
    *(Action(f"pick_{i}", str(i), f"Reason {i}", "Pick that quick reason",
             method=f"pick({i - 1})", footer=False, palette=False) for i in range(1, 5)),
    Action("reason_next", "down", "Next reason", "Choose the next quick reason",
           method="step(1)", footer=False, palette=False),
    Action("reason_previous", "up", "Previous reason", "Choose the previous quick reason",
           method="step(-1)", footer=False, palette=False),
    Action("reassign_reason_1", "1", "Reason 1", "Pick the first quick reason",
           method="reason(0)", footer=False, palette=False),
    Action("reassign_reason_2", "2", "Reason 2", "Pick the second quick reason",
           method="reason(1)", footer=False, palette=False),
    Action("reassign_reason_3", "3", "Reason 3", "Pick the third quick reason",
           method="reason(2)", footer=False, palette=False),
    Action("whole_account", "w", "Whole account",
           "Also give the client's future conversations to this manager",
           method="toggle_account", footer=False, palette=False),
    Action("confirm", "enter", "OK", "Do it", palette=False),
    Action("cancel", "escape", "Cancel", "Close without doing anything", palette=False),
    Action("help_close", "escape,q,question_mark", "Close", "Close the help", method="close",
           palette=False),
    Action("command_palette", "ctrl+p", "Commands", "Every action, by name", footer=False,
           palette=False),
)  # fmt: skip
ACTIONS: dict[str, Action] = {a.id: a for a in _ACTIONS}


def binding(
    action_id: str, *, title: str = "", keys: str = "", footer: bool | None = None
) -> Binding:
    """The Binding of one registered action; a screen may rename it in its own footer."""
    a = ACTIONS[action_id]
    return Binding(
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
