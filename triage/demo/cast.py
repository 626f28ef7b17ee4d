"""Who plays whom when the demo's story runs on a team's own config.

A config with `[provider] kind = "demo"` runs the embedded mailbox with the team's
regions, managers and clients, so a team can try its setup before connecting.
The scenes are written for the bundled demo's clients and managers; the cast maps
each of those onto one of the team's (in a fixed order, so a run is repeatable),
and the team's staff domain, team address and CEO replace the demo's. Senders the
bundled demo does not know (a stranger, the hostile invoice) stay who they are:
they exercise the team's own routing fallbacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formataddr, parseaddr

from triage.domain.settings import Config


@dataclass(frozen=True)
class Cast:
    clients: dict[str, str]  # a bundled client key (domain or address) -> the team's
    managers: dict[str, str]  # a bundled manager id -> the team's
    staff_domain: str
    team: str
    ceo: str

    @classmethod
    def of(cls, cfg: Config, bundled: Config) -> Cast:
        """The cast for `cfg`; for the bundled config itself, everyone plays themselves."""
        staff = cfg.agency.staff_domains[0] if cfg.agency.staff_domains else "agency.example"
        return cls(
            clients=_pair(list(bundled.clients), list(cfg.clients)),
            managers=_pair(list(bundled.managers), list(cfg.managers)),
            staff_domain=staff,
            team=f"team@{staff}",
            ceo=cfg.agency.ceo or f"ceo@{staff}",
        )

    def sender(self, sender: str) -> str:
        """A scene's "Name <address>" as the team's client of the same role."""
        name, address = parseaddr(sender)
        local, _, domain = address.rpartition("@")
        key = address if address in self.clients else domain
        role = self.clients.get(key)
        if role is None:
            return sender
        recast = role if "@" in role else f"{local}@{role}"
        return formataddr((name, recast))

    def manager(self, manager_id: str) -> str:
        return self.managers.get(manager_id, manager_id)

    def keyword(self, keyword: str) -> str:
        """A scene's keyword, with an owner keyword naming the team's manager."""
        head, _, who = keyword.rpartition("-")
        return f"{head}-{self.manager(who)}" if head == "triage-owner" else keyword


def _pair(roles: list[str], players: list[str]) -> dict[str, str]:
    """Each role to a player: the same name when the player list has it, else the
    players in order (cycling when there are fewer players than roles)."""
    if not players:
        return {}
    if set(roles) <= set(players):
        return {r: r for r in roles}
    return {role: players[i % len(players)] for i, role in enumerate(roles)}
