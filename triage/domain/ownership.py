"""Who owns a conversation: the one resolver, and the owner marks it reads.

Precedence, highest first:
1. the conversation's own owner mark on the provider (set when it was reassigned,
   or when its whole account was: the thread being acted on gets the mark too);
2. the account's owner from the latest account-level reassignment note (the
   client's conversations that carry no mark of their own follow it);
3. the client directory's owner in the config;
4. for senders the directory does not know, the first manager qualified for the
   guessed region ("" when none is).
So a later account reassignment does not take back a conversation that someone
reassigned on its own: that was a decision about that conversation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from triage.domain.model import MarkKind, MessageInfo, Route
from triage.domain.settings import Config


def owner_mark(messages: Iterable[MessageInfo]) -> str:
    """The owner marked on the thread: the latest message carrying an owner mark wins."""
    for m in reversed(tuple(messages)):
        for mark in m.marks:
            if mark.kind is MarkKind.OWNER and mark.value:
                return mark.value
    return ""


def directory_owner(route: Route, cfg: Config) -> str:
    """Steps 3 and 4: the configured owner, or the region's first qualified manager."""
    client = cfg.clients.get(route.client_key)
    if client is not None and not route.region_guessed:
        return client.owner
    for manager in cfg.managers.values():
        if route.region in manager.regions:
            return manager.id
    return ""


def resolve_owner(mark: str, route: Route, account_owners: Mapping[str, str], cfg: Config) -> str:
    """The owner of a conversation (the module docstring gives the precedence)."""
    if mark:
        return mark
    if route.client_key in account_owners:
        return account_owners[route.client_key]
    return directory_owner(route, cfg)
