"""Small domain values for tests: a conversation, a message, a draft, a queued action."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from triage.domain.model import (
    ESCALATED,
    Conversation,
    Message,
    Note,
    ThreadRef,
    Tier,
)
from triage.domain.outbox import Draft, OutboxStatus, QueuedAction

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
