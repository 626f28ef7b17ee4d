"""The "asked for a new manager" signal: a client who asks for a different account manager.

Matched conservatively, because a false alarm erodes trust: on the client's own words
only (the text before any quoted reply, forwarded message or signature), whole
phrases of a list (the built-in English and French ones plus `[signals]
new_manager_phrases`), after folding case, accents, apostrophes and whitespace, and
never right after a negation ("I don't want someone else", "je ne veux pas"). The
text is the provider's preview of the message (its first few hundred characters):
what sync reads without fetching bodies. Pure.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from itertools import pairwise

DEFAULT_NEW_MANAGER_PHRASES = (
    # English
    "i want someone else",
    "i would like someone else",
    "i'd like someone else",
    "can i speak to someone else",
    "could i speak to someone else",
    "can i talk to someone else",
    "can i speak to a different account manager",
    "could i speak to a different account manager",
    "can we have a different account manager",
    "could we have a different account manager",
    "we want a different account manager",
    "i want a different account manager",
    "we would like a different account manager",
    "i would like a different account manager",
    "we'd like a different account manager",
    "i'd like a different account manager",
    "please assign a different account manager",
    "please assign someone else",
    "assign us a different account manager",
    "assign us someone else",
    "we want a new account manager",
    "i want a new account manager",
    "we would like a new account manager",
    "i would like a new account manager",
    "we need a new account manager",
    "we need a different account manager",
    "can we get a new account manager",
    "can we get a different account manager",
    "replace our account manager",
    "change our account manager",
    "change of account manager",
    # French (Quebec)
    "je veux quelqu'un d'autre",
    "je voudrais quelqu'un d'autre",
    "nous voulons quelqu'un d'autre",
    "nous voudrions quelqu'un d'autre",
    "pourrais-je parler a quelqu'un d'autre",
    "puis-je parler a quelqu'un d'autre",
    "est-ce que je peux parler a quelqu'un d'autre",
    "je veux un autre directeur de comptes",
    "je veux un autre directeur de compte",
    "je voudrais un autre directeur de comptes",
    "je voudrais un autre directeur de compte",
    "nous voulons un autre directeur de comptes",
    "nous voulons un autre directeur de compte",
    "nous voudrions un autre directeur de comptes",
    "nous voudrions un autre directeur de compte",
    "je veux un autre gestionnaire de compte",
    "je voudrais un autre gestionnaire de compte",
    "nous voulons un autre gestionnaire de compte",
    "nous voudrions un autre gestionnaire de compte",
    "je veux changer de directeur de comptes",
    "je veux changer de directeur de compte",
    "nous voulons changer de directeur de comptes",
    "nous voulons changer de directeur de compte",
    "je veux changer de gestionnaire de compte",
    "nous voulons changer de gestionnaire de compte",
    "changer de charge de compte",
    "un nouveau directeur de comptes svp",
)

# Words that, just before a phrase, turn it around ("I do not want someone else").
_NEGATIONS = frozenset(
    (
        "not",
        "never",
        "dont",
        "don't",
        "doesnt",
        "doesn't",
        "didnt",
        "didn't",
        "wont",
        "won't",
        "wouldnt",
        "wouldn't",
        "cant",
        "can't",
        "cannot",
        "ne",
        "n'",
        "pas",
        "jamais",
    )
)

# Where the client's own words end: a quoted reply, a forwarded message, a signature.
_CUTS = (
    r"(?:^|\s)on\s.{0,120}?\swrote\s?:",  # On Tue, 3 Nov 2026, Alex <a@b> wrote:
    r"(?:^|\s)le\s.{0,120}?\sa\s+ecrit\s?:",  # Le mar. 3 nov. 2026, Alex a ecrit :
    r"(?:^|\s)>",  # a quoted line (previews fold the line breaks away)
    r"-{2,}\s*(?:original message|forwarded message|message d'origine|message transfere)",
    r"(?:^|\s)(?:from|de)\s?:\s.{0,200}?\s(?:sent|envoye|date)\s?:",  # Outlook's header block
    r"(?:^|\s)begin forwarded message",
    r"(?:^|\s)-- (?:\s|$)",  # the signature separator
)
_CUT = re.compile("|".join(_CUTS))
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'",
                              "\u00b4": "'", "\u2032": "'"})  # fmt: skip


def fold(text: str) -> str:
    """Lower case, no accents, one kind of apostrophe, single spaces."""
    text = text.translate(_APOSTROPHES)
    if not text.isascii():  # most previews are: no accent to take off
        # Accents come apart from their letters and go, with whatever else is not ASCII
        # (the phrases are folded the same way, so nothing is lost for matching).
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(text.casefold().split())


def own_words(text: str) -> str:
    """The folded text before any quoted reply, forwarded message or signature."""
    folded = fold(text)
    cut = _CUT.search(folded)
    return folded[: cut.start()] if cut else folded


def phrases(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The built-in phrases and the configured ones, folded, without repeats."""
    out = dict.fromkeys(_flat(fold(p)) for p in (*DEFAULT_NEW_MANAGER_PHRASES, *extra))
    return tuple(p for p in out if p)


def _flat(folded: str) -> str:
    """Hyphens as spaces, for matching: "pourrais-je" and "pourrais je" are one."""
    return " ".join(folded.replace("-", " ").split())


_WORD = re.compile(r"[\w']+")
Index = dict[str, tuple[tuple[str, ...], ...]]  # a first word -> the phrases it starts
_INDEXES: dict[tuple[str, ...], tuple[Index, frozenset[str]]] = {}


def _index(folded: tuple[str, ...]) -> tuple[Index, frozenset[str]]:
    """The phrases as words by their first word (the longest first), and for a quick
    look before any of that, each phrase's longest word: no phrase without one of them."""
    found = _INDEXES.get(folded)
    if found is None:
        by_first: dict[str, list[tuple[str, ...]]] = {}
        anchors = set()
        for phrase in sorted(folded, key=len, reverse=True):
            words = tuple(_WORD.findall(phrase))
            if words:
                by_first.setdefault(words[0], []).append(words)
                anchors.add(max(words, key=len))
        index = {k: tuple(v) for k, v in by_first.items()}
        found = _INDEXES.setdefault(folded, (index, frozenset(anchors)))
    return found


def asks_new_manager(text: str, phrase_list: tuple[str, ...]) -> str:
    """The phrase (folded) the client's own words ask for a new manager with, or "".

    Word by word: a phrase's words in a row, only spaces or hyphens between them."""
    if not text or not phrase_list:
        return ""
    index, anchors = _index(phrase_list)
    folded = fold(text)
    if not any(a in folded for a in anchors):
        return ""  # nearly every message: no phrase can be in it
    spans = list(_WORD.finditer(folded))
    words = [m.group() for m in spans]
    own = -1  # where the client's own words end, looked for only once a phrase is found
    for i, first in enumerate(words):
        for phrase in index.get(first, ()):
            last = i + len(phrase) - 1
            if tuple(words[i : last + 1]) != phrase or not _joined(folded, spans[i : last + 1]):
                continue
            if own < 0:
                cut = _CUT.search(folded)
                own = cut.start() if cut else len(folded)
            if spans[last].end() > own:
                return ""
            if not any(w in _NEGATIONS or w.startswith("n'") for w in words[max(0, i - 3) : i]):
                return " ".join(phrase)
    return ""


def _joined(folded: str, spans: list[re.Match[str]]) -> bool:
    """Only spaces and hyphens between these words ("someone. Else" is two sentences)."""
    return all(not folded[a.end() : b.start()].strip(" -") for a, b in pairwise(spans))
