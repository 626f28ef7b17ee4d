"""argparse's own words ("usage:", "options", its errors) in the language spoken.

argparse asks `gettext` for them in its module; Python ships no French for them, so
the few a user meets are in our catalogue (marked here) and argparse is pointed at
our translation once, before the parser is built.
"""

from __future__ import annotations

import argparse

from triage.text.i18n import N_, _, ngettext

ARGPARSE_WORDS = (
    N_("usage: "), N_("positional arguments"), N_("options"),
    N_("show this help message and exit"), N_("argument %(argument_name)s: %(message)s"),
    N_("unrecognized arguments: %s"), N_("the following arguments are required: %s"),
    N_("expected one argument"), N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"), N_("%(prog)s: error: %(message)s\n"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("not allowed with argument %s"),
)  # fmt: skip


def translate_argparse() -> None:
    """argparse looks `_` and `ngettext` up in its module when it speaks: ours answer."""
    argparse._ = _  # type: ignore[attr-defined]
    argparse.ngettext = ngettext  # type: ignore[attr-defined]
