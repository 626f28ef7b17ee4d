"""The validated settings, as frozen values: what the rules and the layers above read.

`triage.config` builds a `Config` from the TOML file (and reports every mistake);
everything else only reads one. Defined here, below the config loader, so the
domain's rules (routing, deadlines, ownership) can take a `Config` without the
domain depending on how settings are loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from triage.domain.model import CEO_ID, Client, Manager, Region


@dataclass(frozen=True)
class ProviderConfig:
    """`[provider]`: which mail provider, where, and how to sign in."""

    kind: str = "demo"  # a registered provider kind ("jmap"), or "demo"
    session_url: str = ""
    auth: str = "bearer"  # "bearer" | "basic"
    username: str = ""
    token_file: Path | None = None
    token_env: str = ""
    mailbox: str = "inbox"
    account: str = ""  # "" = the session's primary mail account
    poll_seconds: float = 30.0
    timeout_seconds: float = 30.0  # overall deadline of one request
    notes_mailbox: str = "Triage Notes"


@dataclass(frozen=True)
class AgencyConfig:
    staff_domains: tuple[str, ...] = ()
    ceo: str = ""
    at_risk_minutes: int = 15
    escalate_after_minutes: int = 0  # grace after a breach before auto-escalation
    acknowledgers: tuple[str, ...] = (CEO_ID,)  # who may acknowledge an escalation

    def may_acknowledge(self, user: str) -> bool:
        return user in self.acknowledgers


@dataclass(frozen=True)
class RoutingConfig:
    default_region: str = ""
    tld: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    """The whole validated config file."""

    path: Path | None
    provider: ProviderConfig
    user: str  # a managers.* id or "ceo"
    agency: AgencyConfig
    regions: dict[str, Region]
    managers: dict[str, Manager]
    clients: dict[str, Client]
    routing: RoutingConfig
    cache_path: Path
    theme: str = "triage-dark"
    keys: dict[str, str] = field(default_factory=dict)  # action id -> key(s)
    cache_shared: bool = False  # a team cache: a group-owned 2770 directory

    def manager_name(self, manager_id: str) -> str:
        if manager_id == CEO_ID:
            return "CEO"
        m = self.managers.get(manager_id)
        return m.name if m else manager_id
