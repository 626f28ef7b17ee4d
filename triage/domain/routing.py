"""Sender address -> client account, region and tier; staff, the CEO, and impersonation.

A full address in the client directory beats its domain; a subdomain matches
its parent domain (`mail.acme.com` -> `acme.com`). Unknown senders fall back to
`routing.tld`, then to `routing.default_region`, and are flagged as guessed.
Addresses compare in the look-alike-safe form of `triage.domain.addresses`.
Who owns a conversation is `triage.domain.ownership`'s rule, not this module's.
"""

from __future__ import annotations

import re

from triage.domain.addresses import domain_of, in_domains, name_key, normalize, split
from triage.domain.model import Client, Route, Tier
from triage.domain.settings import Config

_CEO_WORD = re.compile(r"(?<![a-z0-9])ceo(?![a-z0-9])")


def is_staff(address: str, cfg: Config) -> bool:
    """Staff (any address in or under a staff domain) are never clients."""
    return in_domains(domain_of(address), cfg.agency.staff_domains)


def is_ceo(address: str, cfg: Config) -> bool:
    return bool(cfg.agency.ceo) and normalize(address) == normalize(cfg.agency.ceo)


def find_client(address: str, cfg: Config) -> Client | None:
    """The directory entry for a sender: exact address first, then the closest domain.

    A bare top-level domain is never a client key (the config refuses one), so the
    walk stops before the last label."""
    addr = normalize(address)
    if addr in cfg.clients:
        return cfg.clients[addr]
    labels = domain_of(address).split(".")
    for i in range(len(labels) - 1):
        client = cfg.clients.get(".".join(labels[i:]))
        if client is not None:
            return client
    return None


def route(address: str, display_name: str, cfg: Config) -> Route:
    """Where a client sender belongs; guessed when the directory does not know them."""
    client = find_client(address, cfg)
    if client is not None:
        return Route(client.key, client.name, client.region, client.tier, False)
    domain = domain_of(address)
    tld = domain.rpartition(".")[2]
    region = cfg.routing.tld.get(tld, cfg.routing.default_region)
    name = display_name.strip() or domain or normalize(address)
    return Route(domain, name, region, Tier.STANDARD, True)


def impersonation(display_name: str, address: str, cfg: Config) -> str:
    """Why a sender outside the agency looks like someone inside it, or "".

    A display name that reads as a manager's name, or that says "CEO", from an
    address outside the staff domains (a name with an address in it is
    `triage.text.mailtext.address_display`'s to show)."""
    if not display_name.strip() or is_staff(address, cfg):
        return ""
    key = name_key(display_name)
    for m in cfg.managers.values():
        if key and key == name_key(m.name):
            return f"the name is {m.name}'s, but the address is outside the agency"
    folded = display_name.casefold()
    if _CEO_WORD.search(folded) or key == name_key("chief executive officer"):
        return "the name says CEO, but the address is outside the agency"
    local, _ = split(address)
    return "" if local else "the sender has no valid address"
