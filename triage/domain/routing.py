"""Sender address -> client account, region and tier; staff and CEO addresses.

A full address in the client directory beats its domain; a subdomain matches
its parent domain (`mail.acme.com` -> `acme.com`). Unknown senders fall back to
`routing.tld`, then to `routing.default_region`, and are flagged as guessed.
Who owns a conversation is `triage.domain.ownership`'s rule, not this module's.
"""

from __future__ import annotations

from triage.domain.model import Client, Route, Tier
from triage.domain.settings import Config


def normalize(address: str) -> str:
    return address.strip().strip("<>").casefold()


def domain_of(address: str) -> str:
    return normalize(address).rpartition("@")[2]


def is_staff(address: str, cfg: Config) -> bool:
    """Staff (any address in or under a staff domain) are never clients."""
    return _matches_domain(domain_of(address), cfg.agency.staff_domains)


def is_ceo(address: str, cfg: Config) -> bool:
    return bool(cfg.agency.ceo) and normalize(address) == normalize(cfg.agency.ceo)


def _matches_domain(domain: str, domains: tuple[str, ...]) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in domains)


def find_client(address: str, cfg: Config) -> Client | None:
    """The directory entry for a sender: exact address first, then the closest domain."""
    addr = normalize(address)
    if addr in cfg.clients:
        return cfg.clients[addr]
    labels = domain_of(addr).split(".")
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
