"""The validated settings, as frozen values: what the rules and the layers above read.

`triage.config` builds a `Config` from the TOML file (and reports every mistake);
everything else only reads one. Defined here, below the config loader, so the
domain's rules (routing, deadlines, ownership) can take a `Config` without the
domain depending on how settings are loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from triage.domain import signals
from triage.domain.model import CEO_ID, Client, Manager, Region, Targets, Tier
from triage.domain.templates import Template


@dataclass(frozen=True)
class ProviderConfig:
    """`[provider]`: which mail provider, where, and how to sign in."""

    kind: str = "demo"  # a registered provider kind ("jmap", "graph", "gmail"), or "demo"
    session_url: str = ""  # jmap
    auth: str = "bearer"  # jmap: bearer | basic; graph: oauth | bearer; gmail: + service_account
    username: str = ""  # jmap, basic auth
    token_file: Path | None = None  # the secret; for oauth, where `triage login` keeps it
    token_env: str = ""
    mailbox: str = "inbox"  # jmap: a role or name; graph: the shared mailbox's address or "me"
    account: str = ""  # jmap: "" = the session's primary mail account
    poll_seconds: float = 30.0
    timeout_seconds: float = 30.0  # overall deadline of one request
    notes_mailbox: str = "Triage Notes"  # a JMAP mailbox, a Graph folder, a Gmail label
    folder: str = "inbox"  # graph: a well-known folder name or a display name
    tenant: str = "organizations"  # graph
    client_id: str = ""  # graph, gmail: the OAuth client (a public client)
    api_url: str = ""  # graph, gmail
    login_url: str = ""  # graph
    token_url: str = ""  # gmail
    user: str = "me"  # gmail: the mailbox to read
    label: str = "INBOX"  # gmail: a system label id or a user label's name
    client_secret_file: Path | None = None  # gmail oauth, when the client has a secret
    key_file: Path | None = None  # gmail service_account


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
class AlertsConfig:
    """`[alerts]`: how the console tells a user that something changed."""

    bell: bool = True  # the terminal bell (reaches tmux and a terminal over SSH)
    toast: bool = True
    desktop: str = "off"  # "osc9" or "osc777": the terminal's own notification sequence
    outside_hours: bool = False  # alerts outside the manager's working hours too
    email: bool = True  # nudges by email from `triage watch` (false: watch sends nothing)
    watch_seconds: float = 60.0  # between two rounds of a long-lived `triage watch`


@dataclass(frozen=True)
class SignalsConfig:
    """`[signals]`: the phrases that mean "give us another account manager", folded
    (`triage.domain.signals`): the built-in English and French ones and the config's."""

    new_manager_phrases: tuple[str, ...] = field(default_factory=signals.phrases)


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
    templates: dict[str, Template] = field(default_factory=dict)  # canned replies, by name
    default_filter: str = ""  # "mine": the queue starts on the user's own conversations
    language: str = ""  # "en", "fr": the console's and the CLI's ([user] language; "": the locale)
    undo_send_seconds: int = 10  # a sent reply waits this long for u (0: it goes at once)
    tiers: dict[Tier, Targets] = field(default_factory=dict)  # [tiers.premium] and so on
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    signals: SignalsConfig = field(default_factory=SignalsConfig)

    def manager_name(self, manager_id: str) -> str:
        if manager_id == CEO_ID:
            return "CEO"
        m = self.managers.get(manager_id)
        return m.name if m else manager_id
