"""Which reply target applies to a client message: client > tier > region, first or next.

A client's **first** message (no staff message before it in the thread) is a new
request and uses `first_reply_within`; a message after a staff reply uses
`reply_within`. Each level of the config may set either: the client's own
directory entry, then its tier (`[tiers.premium]`), then its region. The most
specific level that sets anything for the message wins; at that level a first
message without a `first_reply_within` uses its `reply_within`. With none of the
new keys set, every target is the region's `reply_within`, as before.
Pure: the config is given; the arithmetic is `triage.domain.calendar`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from triage.domain.model import NEXT_BUSINESS_DAY, Region, Targets, Tier, Within
from triage.domain.settings import Config


@dataclass(frozen=True)
class Target:
    """The target that applies, and where it came from."""

    within: timedelta | None  # business time; None: the end of the next business day
    first: bool  # a first reply (a new request), else a next reply
    source: str  # "client" | "tier" | "region"
    source_name: str  # the client's name, the tier, the region's label

    @property
    def span(self) -> str:
        """'30m', '1h30m', 'next business day'."""
        if self.within is None:
            return NEXT_BUSINESS_DAY
        h, m = divmod(int(self.within.total_seconds() // 60), 60)
        return f"{h}h{m:02d}m" if h and m else (f"{h}h" if h else f"{m}m")

    @property
    def label(self) -> str:
        """'first reply, premium tier: 30m' (what `queue --json` calls "target")."""
        kind = "first reply" if self.first else "next reply"
        where = {"client": f"client {self.source_name}", "tier": f"{self.source_name} tier",
                 "region": f"region {self.source_name}"}[self.source]  # fmt: skip
        return f"{kind}, {where}: {self.span}"

    @property
    def rule(self) -> str:
        """The target in words, for the thread view: 'reply within 30m of business time'."""
        if self.within is None:
            return "reply by the end of the next business day"
        return f"reply within {self.span} of business time"


def target_for(first: bool, client_key: str, tier: Tier, region: Region, cfg: Config) -> Target:
    """The target of a client message: `first` when no staff message came before it."""
    client = cfg.clients.get(client_key)
    own = Targets(region.reply_within or NEXT_BUSINESS_DAY, region.first_reply_within)
    levels = (
        ("client", client.name if client else "", client.targets if client else Targets()),
        ("tier", tier.value, cfg.tiers.get(tier, Targets())),
        ("region", region.label, own),
    )
    for source, name, targets in levels:
        within = (targets.first_reply_within if first else None) or targets.reply_within
        if within is not None:
            return Target(_duration(within), first, source, name)
    raise AssertionError("unreachable: the region always has a reply target")


def _duration(within: Within) -> timedelta | None:
    return within if isinstance(within, timedelta) else None  # else: NEXT_BUSINESS_DAY
