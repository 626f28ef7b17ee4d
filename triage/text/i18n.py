"""The language the console and the CLI speak: English (the source) or French.

Standard gettext: the strings are English in the code, wrapped in `_()` (or
`ngettext` for plurals, `N_` for a constant translated where it is shown), and
the French catalogue is triage/locale/fr/LC_MESSAGES/triage.mo, built with
Babel's tools (`make i18n`). Loading it is one `gettext.translation`: nothing
heavy on the start path. The choice is process-wide: `set_language` once, at
start (the CLI: `--lang`, else `[user] language`, else the environment).

What is stored or printed for machines (JSON, config keys, notes on the
provider) stays English whatever the language.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from pathlib import Path

DOMAIN = "triage"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("en", "fr")
DEFAULT = "en"
ENV_KEYS = ("LC_ALL", "LC_MESSAGES", "LANG")  # POSIX precedence

_current: gettext.NullTranslations = gettext.NullTranslations()
_language = DEFAULT


def language_of(locale_name: str) -> str | None:
    """The supported language a locale name means: "fr_CA.UTF-8" -> "fr"; "C" -> None."""
    code = locale_name.split(".")[0].split("@")[0].split("_")[0].split("-")[0].lower()
    return code if code in LANGUAGES else None


def language_from_env(env: Mapping[str, str]) -> str:
    """The first of LC_ALL, LC_MESSAGES, LANG that is set decides; else English."""
    for key in ENV_KEYS:
        value = env.get(key, "")
        if value:
            return language_of(value) or DEFAULT
    return DEFAULT


def set_language(language: str) -> None:
    """Speak `language` from now on ("en" or "fr"; anything else is English)."""
    global _current, _language
    _language = language if language in LANGUAGES else DEFAULT
    if _language == DEFAULT:
        _current = gettext.NullTranslations()
    else:
        _current = gettext.translation(DOMAIN, LOCALE_DIR, [_language], fallback=True)


def current() -> str:
    """The language spoken now: "en" or "fr"."""
    return _language


def _(message: str) -> str:
    """`message` in the current language (the English itself when untranslated)."""
    return _current.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for `n`, in the current language."""
    return _current.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a constant for the catalogue; `_()` translates it where it is shown."""
    return message
