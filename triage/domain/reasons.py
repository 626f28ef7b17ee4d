"""The quick reasons the dialogs offer, and how a stored reason reads on screen.

What goes to the provider stays language-neutral: a quick reason is stored as its
English words, which are also its id in the catalogue (`N_`), and typed words are
stored as typed ("workload: on leave in May" is the id "workload" plus free text).
So notes written before translation existed read the same, and a French console
and an English one each show the other's reasons in their own language.
"""

from __future__ import annotations

from triage.domain.workflow import QUICK_DONE_REASONS, SNOOZE_CANCELLED
from triage.text.i18n import N_, _

ESCALATE_REASONS = (N_("client wrote to the CEO"), N_("breached"), N_("client unhappy"))
REASSIGN_REASONS = (N_("client asked for someone else"), N_("workload"), N_("expertise"))
TAKE_BACK_REASONS = (N_("escalated by mistake"), N_("resolved with the client"),
                     N_("the CEO has it"))  # fmt: skip
# Written by the console or the engine itself, never typed.
SYSTEM_REASONS = (N_("no reply needed"), N_("undone"), N_("handoff"), N_("no reason given"),
                  N_("snooze cancelled"))  # fmt: skip
KNOWN = frozenset((*ESCALATE_REASONS, *REASSIGN_REASONS, *TAKE_BACK_REASONS, *QUICK_DONE_REASONS,
                   *SYSTEM_REASONS, SNOOZE_CANCELLED))  # fmt: skip


def reason_label(stored: str) -> str:
    """A stored reason in the language spoken: a known id is translated, a known id
    followed by ": words" keeps the words as typed; anything else is shown as is."""
    if stored in KNOWN:
        return _(stored)
    head, sep, rest = stored.partition(": ")
    if sep and head in KNOWN:
        return f"{_(head)}: {rest}"
    return stored
