"""How email addresses compare: the one normal form, safe against look-alikes.

Unicode case folding maps some non-ASCII letters onto ASCII ones (the Kelvin sign
K onto "k", the long s onto "s"), so a sender at a domain that only *looks* like
the agency's would compare equal to it. Here:
- a domain is compared in its IDNA 2008 ASCII form ("xn--..."), after lowering
  ASCII letters only; a name IDNA 2008 refuses (a disallowed or unnormalized
  character, such as the Kelvin sign) matches no domain at all;
- a local part is compared after lowering ASCII letters only. RFC 5321 lets the
  receiving server decide whether local parts are case-sensitive; every server the
  agency uses treats them case-insensitively, and lowering ASCII alone can never
  turn one address into a look-alike of another.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import idna

_ASCII_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
UNMATCHABLE = "\x00"  # the normal form of a domain IDNA refuses: equal to no real domain


def ascii_lower(text: str) -> str:
    return text.translate(_ASCII_UPPER)


@lru_cache(maxsize=4096)
def domain_key(domain: str) -> str:
    """A domain's comparable form: IDNA 2008 ASCII, lower case; UNMATCHABLE if invalid."""
    d = ascii_lower(domain.strip().rstrip("."))
    if d.isascii():
        return d
    try:
        return idna.encode(d, uts46=False).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return UNMATCHABLE


def split(address: str) -> tuple[str, str]:
    """(local part, domain) of "Name <local@domain>" or "local@domain"; no @: ("", "")."""
    addr = address.strip()
    if "<" in addr and addr.endswith(">"):
        addr = addr[addr.rindex("<") + 1 : -1]
    local, at, domain = addr.strip().rpartition("@")
    return (local, domain) if at else ("", "")


def normalize(address: str) -> str:
    """The comparable form of an address: "local@xn--domain" with ASCII-only lowering.

    An address with two "@" keeps everything before the last one as its local
    part (a quoted local part may hold an "@"); its domain is what decides."""
    local, domain = split(address)
    if not domain:
        return ascii_lower(address.strip())
    return f"{ascii_lower(local)}@{domain_key(domain)}"


def domain_of(address: str) -> str:
    """The comparable form of an address's domain ("" without one)."""
    _local, domain = split(address)
    return domain_key(domain) if domain else ""


def in_domains(domain: str, domains: tuple[str, ...]) -> bool:
    """Whether a (normalized) domain is one of `domains` or under one of them."""
    if not domain or domain == UNMATCHABLE:
        return False
    return any(domain == d or domain.endswith("." + d) for d in domains)


def name_key(name: str) -> str:
    """A display name as people read it: compatibility forms, case and marks ignored,
    only letters and digits kept ("Alice  MARTIN", "Alice Martín" -> "alicemartin")."""
    folded = unicodedata.normalize("NFKD", name).casefold()
    return "".join(c for c in folded if c.isalnum())
