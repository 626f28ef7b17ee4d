"""Textual messages shared across the console, each named as a fact.

Workers (sync loop, actions) finish by posting one of these to the app; `@on`
handlers update the screens. A widget's own messages are nested in the widget.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from triage.service.api import Draft, SyncResult


@dataclass
class ConversationsSynced(Message):
    """A sync round finished; the service's conversations may have changed.
    `started` is the round's number in the app's count (0: not the app's loop)."""

    result: SyncResult
    started: int = 0


@dataclass
class SyncFailed(Message):
    """A sync round failed; the console keeps working from the cache."""

    error: str
    started: int = 0


@dataclass
class ActionDone(Message):
    """An action (escalate, reassign, acknowledge, ...) was recorded; `text` says what.

    Email text inside `text` is already sanitized (`triage.ui.text.safe_plain`)."""

    text: str


@dataclass
class ActionFailed(Message):
    """An action could not be recorded; `text` says what and why, in plain words
    (sanitized, like ActionDone's)."""

    text: str


@dataclass
class DraftSaved(Message):
    """A reply draft was saved to the outbox (so it survives a crash)."""

    draft: Draft


@dataclass
class ReplySent(Message):
    """A reply was handed to the outbox for sending (queued until the provider confirms)."""

    draft: Draft
