"""Small domain values for tests: a conversation, a message, a draft, a queued action, and a
small agency config whose every answer differs (so a rule that reads the wrong field shows)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from triage.domain.model import (
    ESCALATED,
    Client,
    Conversation,
    Manager,
    Message,
    Note,
    Region,
    ThreadRef,
    Tier,
)
from triage.domain.outbox import Draft, OutboxStatus, QueuedAction
from triage.domain.settings import AgencyConfig, Config, ProviderConfig, RoutingConfig

T0 = datetime(2026, 11, 26, 10, 15, tzinfo=UTC)


def conversation(n: int, **changes: Any) -> Conversation:
    """Conversation T0000n: waiting, due an hour after T0, with a thread reference."""
    tid = f"T{n:05d}"
    conv = Conversation(
        thread_id=tid, subject=f"Invoice {n}", client_email=f"c{n}@acme.example",
        client_name=f"Client {n}", client_key="acme.example", region="us-east",
        region_guessed=False, owner="alice", tier=Tier.STANDARD, waiting=True,
        first_arrival=T0, last_message_at=T0, message_count=1, waiting_since=T0,
        clock_start=T0, deadline=T0 + timedelta(hours=1),
        ref=ThreadRef(tid, f"Invoice {n}", (f"m{n}",), (), f"c{n}@acme.example",
                      (f"<{n}@acme.example>",), ()),
    )  # fmt: skip
    conv = dataclasses.replace(conv, **changes)
    if "subject" in changes and "ref" not in changes and conv.ref is not None:
        conv = dataclasses.replace(conv, ref=dataclasses.replace(conv.ref, subject=conv.subject))
    return conv


def message(n: int, thread_id: str = "T1", text: str = "hello") -> Message:
    return Message(f"m{n}", thread_id, f"c{n}@acme.example", f"Client {n}",
                   T0 + timedelta(minutes=n), f"Subject {n}", body=text)  # fmt: skip


def draft(item_id: str, body: str = "Hello", **changes: Any) -> Draft:
    return dataclasses.replace(Draft(item_id, "T00001", body, updated_at=T0), **changes)


def action(item_id: str, **changes: Any) -> QueuedAction:
    note = Note("escalate", "alice", T0, reason="client unhappy")
    item = QueuedAction(item_id, "T00001", "escalate", ((ESCALATED, True),), note,
                        OutboxStatus.QUEUED, by="alice", updated_at=T0)  # fmt: skip
    return dataclasses.replace(item, **changes)


def agency_config(**changes: Any) -> Config:
    """Two staff domains, a CEO, three regions; `acme.example` is carol's (not the first
    manager of its region), `vip@acme.example` is a premium client of its own, and
    `.ca` senders fall back to Quebec while everyone else falls back to us-west."""
    regions = {
        r.id: r
        for r in (
            Region("us-east", "US East", "America/New_York", "US"),
            Region("us-west", "US West", "America/Los_Angeles", "US"),
            Region("ca-qc", "Quebec", "America/Toronto", "CA-QC"),
        )
    }
    managers = {
        m.id: m
        for m in (
            Manager("alice", "Alice Martin", "alice@agency.example", ("us-east", "us-west")),
            Manager("bob", "Bob Roy", "bob@agency.example", ("ca-qc",)),
            Manager("carol", "Carol Diaz", "carol@agency.example", ("us-east",)),
        )
    }
    clients = {
        c.key: c
        for c in (
            Client("acme.example", "Acme", "us-east", "carol"),
            Client("vip@acme.example", "Acme VIP", "us-west", "alice", Tier.PREMIUM),
        )
    }
    cfg = Config(path=None, provider=ProviderConfig(), user="alice",
                 agency=AgencyConfig(("agency.example", "agency.ca"), "ceo@agency.example"),
                 regions=regions, managers=managers, clients=clients,
                 routing=RoutingConfig("us-west", {"ca": "ca-qc"}),
                 cache_path=Path("/nonexistent/cache"))  # fmt: skip
    return dataclasses.replace(cfg, **changes)
