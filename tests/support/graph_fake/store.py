"""What the Microsoft Graph fake keeps: mailboxes, folders, messages, and the change log
behind delta queries.

Shaped from Microsoft's documentation (learn.microsoft.com/graph/api/resources/message,
mailfolder, delta-query-messages): messages have immutable ids (they keep their id
when moved or sent, as with `Prefer: IdType="ImmutableId"`), a `conversationId`, a
change key behind `@odata.etag`, `categories`, and `internetMessageId`. A delivered
message joins the conversation of the message its In-Reply-To or References name
(Exchange also reads Thread-Index; no client here sends one). Plain data: no HTTP.
"""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Json = dict[str, Any]
WELL_KNOWN = ("inbox", "sentitems", "drafts", "deleteditems", "archive", "outbox", "junkemail")
DISPLAY = {
    "inbox": "Inbox",
    "sentitems": "Sent Items",
    "drafts": "Drafts",
    "deleteditems": "Deleted Items",
    "archive": "Archive",
    "outbox": "Outbox",
    "junkemail": "Junk Email",
}


def utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bare(message_id: str) -> str:
    return message_id.strip().strip("<>")


@dataclass
class FakeMessage:
    """One message as Exchange keeps it."""

    id: str
    folder: str
    conversation_id: str
    internet_message_id: str  # with angle brackets, as Graph shows it
    subject: str
    sender: tuple[str, str]
    to: list[tuple[str, str]]
    cc: list[tuple[str, str]]
    received: datetime
    body: str
    body_type: str = "text"  # "text" | "html"
    categories: list[str] = field(default_factory=list)
    is_draft: bool = False
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    change_key: int = 1
    changed: int = 0  # the mailbox's change number when it last changed

    @property
    def etag(self) -> str:
        return f'W/"CQAAABYAAA{self.id[-6:]}{self.change_key:08d}"'

    def headers(self) -> list[Json]:
        """internetMessageHeaders: Graph returns them for received mail only."""
        if self.is_draft:
            return []
        out = [{"name": "Message-ID", "value": self.internet_message_id}]
        if self.in_reply_to:
            out.append({"name": "In-Reply-To", "value": f"<{bare(self.in_reply_to)}>"})
        if self.references:
            out.append(
                {"name": "References", "value": " ".join(f"<{bare(r)}>" for r in self.references)}
            )
        return out


@dataclass
class Folder:
    id: str
    name: str
    well_known: str = ""


@dataclass
class Removal:
    changed: int
    message_id: str
    folder: str


class FakeMailbox:
    """A user or shared mailbox: its folders, messages and change log."""

    def __init__(self, address: str, display: str = "") -> None:
        self.address = address.casefold()
        self.display = display or address
        self.folders: dict[str, Folder] = {}
        self.messages: dict[str, FakeMessage] = {}
        self.removals: list[Removal] = []
        self.change = 0
        self._ids = itertools.count(1)
        self.salt = secrets.token_hex(3)
        for name in WELL_KNOWN:
            self.add_folder(DISPLAY[name], name)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{self.salt}{next(self._ids):06d}=="

    def add_folder(self, name: str, well_known: str = "") -> Folder:
        folder = Folder(self.new_id("AAMkF"), name, well_known)
        self.folders[folder.id] = folder
        return folder

    def folder(self, ref: str) -> Folder | None:
        """A folder by id or by well-known name (case-insensitive)."""
        if ref in self.folders:
            return self.folders[ref]
        return next((f for f in self.folders.values() if f.well_known == ref.casefold()), None)

    def named(self, name: str) -> list[Folder]:
        return [f for f in self.folders.values() if f.name.casefold() == name.casefold()]

    def touch(self, m: FakeMessage) -> None:
        self.change += 1
        m.changed, m.change_key = self.change, m.change_key + 1

    def put(self, m: FakeMessage) -> FakeMessage:
        self.messages[m.id] = m
        self.touch(m)
        return m

    def move(self, m: FakeMessage, folder: str) -> None:
        if m.folder != folder:
            self.change += 1
            self.removals.append(Removal(self.change, m.id, m.folder))
            m.folder = folder
        self.touch(m)

    def delete(self, m: FakeMessage) -> None:
        self.change += 1
        self.removals.append(Removal(self.change, m.id, m.folder))
        del self.messages[m.id]

    def by_internet_id(self, message_id: str) -> list[FakeMessage]:
        wanted = bare(message_id)
        return [m for m in self.messages.values() if bare(m.internet_message_id) == wanted]

    def conversation_for(self, in_reply_to: str, references: list[str]) -> str:
        """The conversation of the message a new one answers, else a new conversation."""
        for ref in [in_reply_to, *reversed(references)]:
            found = self.by_internet_id(ref) if ref else []
            if found:
                return found[0].conversation_id
        return self.new_id("AAQkC")

    def in_folder(self, folder: str) -> list[FakeMessage]:
        return sorted(
            (m for m in self.messages.values() if m.folder == folder), key=lambda m: m.changed
        )


_TAG = re.compile(r"<[^>]*>")


def html_as_text(html: str) -> str:
    """Exchange's text rendering of an HTML body (`outlook.body-content-type="text"`), roughly."""
    return _TAG.sub("", html).replace("&nbsp;", " ").replace("&amp;", "&").strip()
