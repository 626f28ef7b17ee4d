"""The provider protocol, in domain terms, and the registry that picks one by `provider.kind`.

A provider reads threads (all of them, or the changes since a state), fetches a
thread's messages with their text, writes shared-state marks and notes, and
sends replies, speaking only `triage.domain.model` types: nothing above this
layer knows whether a mark is a JMAP keyword, a Gmail label or a Graph category.
Adding a provider is one package under `triage/providers/` with an
`open_provider(settings, env, clock)` function, and one line in `KINDS`; its
module is imported only when a config names its kind.

Errors are typed so that the UI can say what happened and what to fix.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, cast

from triage.clock import Clock
from triage.config.secrets import SecretError, read_secret
from triage.domain.model import Mark, Message, Note, ThreadData, ThreadRef
from triage.domain.settings import ProviderConfig

if TYPE_CHECKING:
    import httpx  # a transport type only: no provider code is loaded here

# provider.kind -> the module whose `open_provider` builds it (imported on use)
KINDS: dict[str, str] = {
    "jmap": "triage.providers.jmap",
    "graph": "triage.providers.graph",
    "gmail": "triage.providers.gmail",
}


class ProviderError(Exception):
    """Something went wrong talking to the provider; the message is for the user."""


class OfflineError(ProviderError):
    """The provider could not be reached (DNS, refused, timed out)."""


class AuthError(ProviderError):
    """The provider refused our credentials; the message names the config key to fix."""


class CannotCalculateChanges(ProviderError):
    """The provider lost the state we synced from: a full resync is needed."""


class ThreadGone(ProviderError):
    """The thread asked for is not on the provider (any more)."""


class Refused(ProviderError):
    """The provider answered and said no (a 4xx status): definite, nothing was applied."""


class UnclearOutcome(ProviderError):
    """A write left but no answer came back: it may or may not have happened."""


@dataclass(frozen=True)
class Snapshot:
    """Every thread of the watched mailbox, and the state to ask for changes from."""

    state: str
    threads: tuple[ThreadData, ...]
    account_notes: tuple[Note, ...]  # account-level reassignments, wherever filed


@dataclass(frozen=True)
class Delta:
    """What changed since a state: threads to refresh (whole), threads gone."""

    state: str
    threads: tuple[ThreadData, ...]
    gone_threads: tuple[str, ...]
    destroyed_messages: tuple[str, ...]
    account_notes: tuple[Note, ...]


@dataclass(frozen=True)
class OutgoingReply:
    """A reply ready to send: our Message-ID is generated and recorded before sending."""

    message_id: str
    from_name: str
    from_email: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    body: str
    in_reply_to: str
    references: tuple[str, ...]
    thread_id: str = ""  # the provider's thread it answers (Gmail files a reply by it)


class SentState(StrEnum):
    SENT = "sent"  # in Sent: it went out
    DRAFTED = "drafted"  # created but never submitted (the connection dropped between)


@dataclass(frozen=True)
class SentLookup:
    """Where a Message-ID was found; `handle` is the provider's id of that message."""

    state: SentState
    handle: str


class Provider(Protocol):
    """What the sync engine, the actions and the thread view need from a mail provider."""

    @property
    def account_id(self) -> str: ...  # the mailbox's identity (one sync state per account)

    async def connect(self) -> None: ...
    async def full_sync(self) -> Snapshot: ...
    async def changes(self, since_state: str, known: Mapping[str, str]) -> Delta: ...
    async def thread_message_ids(self, thread_id: str) -> list[str]: ...  # mail, oldest first
    async def messages(self, message_ids: Sequence[str]) -> list[Message]: ...  # with text
    async def set_marks(self, thread: ThreadRef, marks: Mapping[Mark, bool]) -> None: ...
    async def add_note(self, thread: ThreadRef, note: Note) -> None: ...
    async def send(self, reply: OutgoingReply) -> None: ...
    async def find_sent(self, message_id: str) -> SentLookup | None: ...
    async def send_drafted(self, handle: str, reply: OutgoingReply) -> None: ...
    async def account_notes(self) -> tuple[Note, ...]: ...  # team-level: accounts, absences
    # Compare-and-set `mark` on the thread's first message unless `blocked(its marks)`:
    # of racing callers exactly one sets a given mark; the marks it found, or None.
    async def claim(
        self, thread: ThreadRef, mark: Mark, blocked: Callable[[frozenset[Mark]], bool]
    ) -> frozenset[Mark] | None: ...
    async def wait_for_changes(self, timeout: float) -> bool: ...
    async def aclose(self) -> None: ...


class ProviderFactory(Protocol):
    def __call__(
        self, settings: ProviderConfig, *, env: Mapping[str, str], clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> Provider: ...  # fmt: skip


class LoginFlow(Protocol):
    async def __call__(
        self, settings: ProviderConfig, *, env: Mapping[str, str], clock: Clock,
        say: Callable[[str], None],
    ) -> None: ...  # fmt: skip


async def login(
    settings: ProviderConfig, *, env: Mapping[str, str], clock: Clock, say: Callable[[str], None]
) -> None:
    """`triage login`: the provider's sign-in (a kind with `auth = "oauth"` has one), which
    tells the user what to do through `say` and stores the token it gets."""
    module_name = KINDS.get(settings.kind)
    flow: LoginFlow | None = (
        getattr(importlib.import_module(module_name), "login", None) if module_name else None
    )
    if flow is None or settings.auth != "oauth":
        raise ProviderError(
            f"provider.kind {settings.kind!r} with auth = {settings.auth!r} has no sign-in: "
            "its secret is read from token_file or token_env (see config.example.toml)"
        )
    await flow(settings, env=env, clock=clock, say=say)


class DeferredProvider:
    """The configured provider, built (its package and httpx imported, ~50-90 ms) the
    first time it is asked anything: after the console's first paint, or never for a
    command that only reads the cache. A problem building it (a missing token file)
    is raised then, where every provider error is already handled and shown."""

    def __init__(self, build: Callable[[], Provider]) -> None:
        self._build: Callable[[], Provider] | None = build
        self._provider: Provider | None = None

    def _real(self) -> Provider:
        if self._provider is None:
            assert self._build is not None
            try:
                self._provider = self._build()
            except SecretError as e:  # a token file emptied since start: said like a 401
                raise AuthError(str(e)) from e
            self._build = None
        return self._provider

    def __getattr__(self, name: str) -> object:
        return getattr(self._real(), name)

    async def aclose(self) -> None:
        if self._provider is not None:  # never built: nothing to close
            await self._provider.aclose()


def deferred_provider(
    settings: ProviderConfig, *, env: Mapping[str, str], clock: Clock
) -> Provider:
    """`open_provider`, built when first used (see `DeferredProvider`)."""
    if settings.kind not in KINDS:
        open_provider(settings, env=env, clock=clock)  # the unknown kind, said now
    if settings.auth in ("bearer", "basic"):
        read_secret(settings, env)  # a missing or exposed token file is said now, as a config error
    return cast(Provider, DeferredProvider(lambda: open_provider(settings, env=env, clock=clock)))


def open_provider(
    settings: ProviderConfig, *, env: Mapping[str, str], clock: Clock,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Provider:  # fmt: skip
    """The provider `settings.kind` names, built from the config (no network I/O yet).
    `transport` replaces the network (the embedded demo server, tests)."""
    module_name = KINDS.get(settings.kind)
    if module_name is None:
        known = ", ".join(sorted(KINDS))
        raise ProviderError(f"provider.kind {settings.kind!r} is not known here (known: {known})")
    factory: ProviderFactory = importlib.import_module(module_name).open_provider
    return factory(settings, env=env, clock=clock, transport=transport)
