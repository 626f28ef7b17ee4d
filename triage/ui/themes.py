"""The console's four themes and the stylesheet that uses their semantic variables.

Colours live here, in Python, as theme variables; `themes/triage.tcss` only
refers to them (`$breached`, `$at-risk`, ...), so a theme switch recolours the
whole console. State never depends on colour alone: every row also carries a
glyph and a word, and each state has a text style (`$breached-style`, ...) so
the monochrome theme marks them with bold, reverse and underline instead.
"""

from __future__ import annotations

from pathlib import Path, PurePath

from textual.theme import Theme

DEFAULT_THEME = "triage-dark"
MONO_THEME = "triage-mono"

# The variables every theme defines; also the fallback for themes that do not
# (Textual's own themes, chosen from the palette), so the stylesheet always parses.
SEMANTIC_DEFAULTS: dict[str, str] = {
    "breached": "#ff6b6b",
    "at-risk": "#f0c040",
    "ok": "#7fbf7f",
    "escalated": "#d08cff",
    "muted": "#8a8a8a",
    "breached-style": "bold",
    "at-risk-style": "bold",
    "ok-style": "none",
    "escalated-style": "bold",
    "cursor-style": "reverse bold",
}


def _vars(**overrides: str) -> dict[str, str]:
    return {**SEMANTIC_DEFAULTS, **{k.replace("_", "-"): v for k, v in overrides.items()}}


THEMES: tuple[Theme, ...] = (
    Theme(
        name="triage-dark",
        primary="#3a7bd5",
        secondary="#2a5a9a",
        accent="#f0c040",
        warning="#f0c040",
        error="#ff6b6b",
        success="#7fbf7f",
        foreground="#dcdcdc",
        background="#16181c",
        surface="#1e2126",
        panel="#262a31",
        dark=True,
        variables=_vars(),
    ),
    Theme(
        name="triage-light",
        primary="#1f5fae",
        secondary="#3a7bd5",
        accent="#9a6700",
        warning="#9a6700",
        error="#b3261e",
        success="#2e7d32",
        foreground="#1c1c1c",
        background="#f7f7f4",
        surface="#ecece8",
        panel="#dedfda",
        dark=False,
        variables=_vars(
            breached="#b3261e",
            at_risk="#9a6700",
            ok="#2e7d32",
            escalated="#7b1fa2",
            muted="#6a6a6a",
        ),
    ),
    Theme(
        name="triage-high-contrast",
        primary="#ffff00",
        secondary="#00ffff",
        accent="#ffff00",
        warning="#ffff00",
        error="#ff3030",
        success="#00ff00",
        foreground="#ffffff",
        background="#000000",
        surface="#000000",
        panel="#202020",
        dark=True,
        variables=_vars(
            breached="#ff3030",
            at_risk="#ffff00",
            ok="#00ff00",
            escalated="#ff40ff",
            muted="#c0c0c0",
            breached_style="bold reverse",
            ok_style="none",
        ),
    ),
    # Greys only: everything that matters is carried by glyphs, words and styles.
    Theme(
        name="triage-mono",
        primary="#c8c8c8",
        secondary="#a0a0a0",
        accent="#ffffff",
        warning="#ffffff",
        error="#ffffff",
        success="#c8c8c8",
        foreground="#e8e8e8",
        background="#000000",
        surface="#000000",
        panel="#1c1c1c",
        boost="#ffffff",
        dark=True,
        luminosity_spread=0.05,
        variables=_vars(
            breached="#ffffff",
            at_risk="#ffffff",
            ok="#c8c8c8",
            escalated="#ffffff",
            muted="#9a9a9a",
            breached_style="bold reverse",
            at_risk_style="bold underline",
            escalated_style="bold",
            cursor_style="reverse bold",
            footer_key_foreground="#ffffff",
            footer_description_foreground="#c8c8c8",
            block_cursor_background="#ffffff",
            block_cursor_foreground="#000000",
        ),
    ),
)
THEME_NAMES = tuple(t.name for t in THEMES)


def stylesheet_paths() -> list[str | PurePath]:
    """The shipped stylesheet: inside the installed package (a wheel carries the top-level
    themes/ as triage/themes/), else in a checkout's top-level themes/ (editable installs)."""
    package = Path(__file__).resolve().parents[1]
    for folder in (package / "themes", package.parent / "themes"):
        main = folder / "triage.tcss"
        if main.is_file():
            return [main]
    return []
