"""The seam between the console/CLI and everything below: the `Service` protocol and its
view types (`api`), and the one implementation wired from a config (`core`)."""

from triage.service.api import (
    Draft,
    ManagerChoice,
    OutboxStatus,
    Service,
    SyncResult,
    SyncStatus,
    ThreadView,
)

__all__ = [
    "Draft",
    "ManagerChoice",
    "OutboxStatus",
    "Service",
    "SyncResult",
    "SyncStatus",
    "ThreadView",
]
