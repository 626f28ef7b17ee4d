"""The mailbox triage watches in Microsoft 365: its address, path and folders.

`provider.mailbox` is a shared mailbox's address (`/users/{address}`, opened with the
signed-in user's delegated access) or "me" (the user's own). `connect()` finds, in
one batch, the watched folder (a well-known name such as "inbox", or a top-level
folder's display name), Drafts (where a reply waits until it is sent) and the notes
folder (created on the first note), and for "me" the user's own address.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from triage.providers.base import ProviderError
from triage.providers.graph.errors import NotFound
from triage.providers.graph.http import Call, GraphHttp, values

# learn.microsoft.com/graph/api/resources/mailfolder: the well-known folder names.
WELL_KNOWN = frozenset({
    "archive", "clutter", "conflicts", "conversationhistory", "deleteditems", "drafts",
    "inbox", "junkemail", "localfailures", "msgfolderroot", "outbox", "recoverableitemsdeletions",
    "scheduled", "searchfolders", "sentitems", "serverfailures", "syncissues",
})  # fmt: skip


def odata_string(text: str) -> str:
    """A string literal of an OData $filter ('it''s')."""
    return "'" + text.replace("'", "''") + "'"


def query(**params: str) -> str:
    """A query string with OData's `$` names (`select` -> `$select`), percent-encoded."""
    parts = [f"${k}={quote(v, safe=',:()/@')}" for k, v in params.items() if v]
    return "?" + "&".join(parts) if parts else ""


class GraphMailbox:
    """One mailbox's path and folder ids, found once per connection."""

    def __init__(self, http: GraphHttp, *, mailbox: str, folder: str, notes_name: str) -> None:
        self.http = http
        self.spec = mailbox
        self.me = mailbox.casefold() == "me"
        self.path = "/me" if self.me else "/users/" + quote(mailbox, safe="@")
        self.address = "" if self.me else mailbox.casefold()
        self.folder_spec = folder
        self.notes_name = notes_name or "Triage Notes"
        self.watched = self.drafts = self.notes = ""

    def call(self, method: str, tail: str, body: Any = None, **kw: str) -> Call:
        """A request on this mailbox: `tail` after its path ("/messages/...")."""
        return Call(method, self.path + tail, body, **kw)

    def message(self, message_id: str) -> str:
        return "/messages/" + quote(message_id, safe="")

    async def connect(self) -> None:
        calls = [self._folder(self.folder_spec), self.call("GET", "/mailFolders/drafts?$select=id"),
                 self.by_name(self.notes_name)]  # fmt: skip
        if self.me:
            calls.append(Call("GET", "/me" + query(select="mail,userPrincipalName")))
        answers = await self.http.calls(calls)
        for a in answers:
            if isinstance(a, NotFound) and a is answers[0]:
                raise self._no_folder()
            if isinstance(a, ProviderError):
                raise a
        self.watched = self._one_id(answers[0])
        self.drafts = _id(answers[1])
        self.notes = _first_id(answers[2])
        if self.me:
            me = answers[3] if isinstance(answers[3], dict) else {}
            self.address = str(me.get("mail") or me.get("userPrincipalName") or "").casefold()

    async def ready(self) -> None:
        """Connect first when no sync has yet (an action right after an offline start)."""
        if not self.watched:
            await self.connect()

    def _folder(self, spec: str) -> Call:
        if spec.casefold() in WELL_KNOWN:
            return self.call("GET", f"/mailFolders/{spec.casefold()}" + query(select="id"))
        return self.by_name(spec)

    def by_name(self, name: str) -> Call:
        flt = f"displayName eq {odata_string(name)}"
        return self.call("GET", "/mailFolders" + query(filter=flt, select="id,displayName"))

    def learn_notes_folder(self, answer: Any) -> None:
        """The notes folder, from the answer to `by_name(notes_name)` (None: not asked)."""
        if not self.notes and isinstance(answer, dict):
            self.notes = _first_id(answer)

    def _one_id(self, answer: Any) -> str:
        found = _id(answer) if isinstance(answer, dict) and "value" not in answer else ""
        found = found or _first_id(answer)
        if not found:
            raise self._no_folder()
        return found

    def _no_folder(self) -> ProviderError:
        return ProviderError(
            f"folder {self.folder_spec!r} not found in {self.spec} (provider.folder): use a "
            "well-known name such as 'inbox', or the display name of a top-level folder"
        )

    async def notes_folder(self) -> str:
        """The notes folder's id, created when it does not exist yet."""
        if self.notes:
            return self.notes
        body = {"displayName": self.notes_name}
        try:
            created = await self.http.call(self.call("POST", "/mailFolders", body))
            self.notes = _id(created)
        except ProviderError as e:  # another console created it first: look it up
            self.notes = _first_id(await self.http.call(self.by_name(self.notes_name)))
            if not self.notes:
                raise ProviderError(f"could not create the folder {self.notes_name!r}: {e}") from e
        return self.notes


def _id(answer: Any) -> str:
    value = answer.get("id") if isinstance(answer, dict) else None
    return value if isinstance(value, str) else ""


def _first_id(answer: Any) -> str:
    items = values(answer) if isinstance(answer, dict) and "value" in answer else []
    return _id(items[0]) if items else ""
