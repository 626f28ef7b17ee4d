"""The only way text from email becomes something the console renders.

Everything external (subjects, names, addresses, bodies, reasons, error texts)
goes through `triage.text.sanitize` and into a plain `rich.text.Text`: never markup,
never `Text.from_markup`, never `Text.from_ansi`. A subject such as
"[@click=app.quit]" is then shown literally and cannot act.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.text import Text

from triage.text.sanitize import is_inert, sanitize, sanitize_line


def safe(text: str, max_len: int | None = None, style: str = "") -> Text:
    """One line of untrusted text, inert, optionally cut to `max_len` characters."""
    return Text(sanitize_line(text, max_len), style=style, no_wrap=True, end="")


def safe_block(text: str, style: str = "") -> Text:
    """Multi-line untrusted text (a message body), inert, line breaks kept."""
    return Text(sanitize(text), style=style)


def safe_plain(text: str, max_len: int | None = None) -> str:
    """Sanitized single-line str, for places that take plain strings with markup off
    (notify(..., markup=False), Input values, widths)."""
    return sanitize_line(text, max_len)


def safe_cell(text: str, width: int) -> str:
    """Untrusted text made inert and fitted to exactly `width` terminal cells.

    Cut text ends with "…"; wide characters count as two cells.
    """
    if width <= 0:
        return ""
    clean = sanitize_line(text)
    if cell_len(clean) > width:
        return set_cell_size(clean, width - 1) + "…"
    return set_cell_size(clean, width)


def inert(text: str, max_len: int | None = None) -> str:
    """`text` as one inert line, sanitizing it only if it is not inert already.

    For texts that may or may not have been sanitized by whoever built them
    (ActionDone/ActionFailed texts): sanitizing twice would show the first
    pass's placeholders escaped ("⟨U+241B⟩" instead of "␛")."""
    if is_inert(text, single_line=True):
        return text if max_len is None or len(text) <= max_len else text[: max_len - 1] + "…"
    return sanitize_line(text, max_len)
