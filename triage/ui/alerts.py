"""The alert channels: the terminal bell, a toast, and the terminal's own desktop
notification (OSC 9, or OSC 777 as urxvt and foot read it), passed through tmux.

The words come partly from email (the client's name, the subject): a notification
sequence carries only printable text, cut short, with the characters that would end
or split the sequence (ESC, BEL, ST, ";" for OSC 777) taken out. What the ladder
decides (`triage.domain.alerts`) is told here, nothing more.
"""

from __future__ import annotations

from triage.domain.alerts import Alert, Step
from triage.text.i18n import _
from triage.text.timefmt import format_left
from triage.ui.text import safe_plain

MAX_NOTIFICATION = 120


def words(alert: Alert) -> str:
    """'At risk: Acme Corp — Invoice (12:00 left)', sanitized for a toast."""
    left = alert.seconds_left
    when = ""
    if left is not None:
        when = (_(" ({time} overdue)") if left < 0 else _(" ({time} left)")).format(
            time=format_left(abs(left))
        )
    head = {Step.AT_RISK: _("At risk"), Step.BREACHED: _("Breached"),
            Step.ESCALATED: _("Escalated")}[alert.step]  # fmt: skip
    client = safe_plain(alert.client, 40)
    subject = safe_plain(alert.subject or _("(no subject)"), 60)
    return f"{head}: {client} — {subject}{when}"


def osc_text(text: str, *, semicolons: bool = True) -> str:
    """Printable text only, no sequence terminators; `semicolons=False` drops ';'."""
    kept = "".join(ch for ch in text if ch.isprintable() and (semicolons or ch != ";"))
    return kept[:MAX_NOTIFICATION]


def desktop_sequence(kind: str, title: str, body: str, *, in_tmux: bool) -> str:
    """The notification escape sequence for `kind` ("osc9", "osc777"); in tmux, wrapped
    in its passthrough (every ESC doubled) so it reaches the outer terminal."""
    if kind == "osc9":
        seq = f"\x1b]9;{osc_text(f'{title}: {body}')}\x07"
    else:
        plain_title, plain_body = (
            osc_text(title, semicolons=False),
            osc_text(body, semicolons=False),
        )
        seq = f"\x1b]777;notify;{plain_title};{plain_body}\x07"
    if in_tmux:
        return "\x1bPtmux;" + seq.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return seq
