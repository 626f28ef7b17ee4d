"""Delta queries in the fake: rounds, pages, delta tokens, and losing them.

As documented (learn.microsoft.com/graph/delta-query-overview, delta-query-messages):
the first request of a round (no token) lists the folder's messages; later rounds,
from a `$deltatoken`, list what was added or changed since, and `@removed` entries
(id only) for what left the folder. Pages follow `@odata.nextLink` (`$skiptoken`)
until `@odata.deltaLink` (`$deltatoken`). The page size is `Prefer:
odata.maxpagesize` (10 without it), capped by `max_page` so tests can force paging.
The query options of the first request are kept in the tokens. `$filter` takes only
`receivedDateTime ge|gt`. A token the fake forgot (`forget`) answers 410 Gone with a
Location header, or, with `reset_status = 400`, a 400 `syncStateNotFound` (how an
expired token is documented to fail).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from tests.support.graph_fake.mail_api import Answer, Request, error
from tests.support.graph_fake.odata import message_filter, render, select_of
from tests.support.graph_fake.store import FakeMailbox

Json = dict[str, Any]
_PAGE_SIZE = re.compile(r"odata\.maxpagesize=(\d+)")


@dataclass(frozen=True)
class Tracking:
    """What a delta token stands for: a folder, from a change number, with the options."""

    mailbox: str
    folder: str
    since: int
    select: str
    filter: str
    text_body: bool


@dataclass
class Deltas:
    """Every round in progress and every delta token given out."""

    max_page: int = 1000
    reset_status: int = 410
    tokens: dict[str, Tracking] = field(default_factory=dict)
    rounds: dict[str, tuple[list[Json], int, Tracking, int]] = field(default_factory=dict)
    epoch: int = 0
    issued: dict[tuple[int, Tracking], str] = field(default_factory=dict)

    def forget(self) -> None:
        """Every token given out becomes unknown (as when Exchange drops its sync states)."""
        self.tokens.clear()
        self.rounds.clear()
        self.epoch += 1

    def handle(self, box: FakeMailbox, folder_ref: str, r: Request) -> Answer:
        folder = box.folder(folder_ref)
        if folder is None:
            return error(404, "ErrorItemNotFound", "The specified folder was not found.")
        base = f"{r.link_base}/mailFolders('{folder.id}')/messages/delta"
        if "$skiptoken" in r.query:
            return self._page(r.query["$skiptoken"], base, r)
        if "$deltatoken" in r.query:
            tracking = self.tokens.get(r.query["$deltatoken"])
            if tracking is None:
                return self._lost(base)
        else:
            select_of(r.query)  # an unknown property is a 400 now, not later
            message_filter(r.query.get("$filter", ""), delta=True)
            tracking = Tracking(
                box.address,
                folder.id,
                -1,
                r.query.get("$select", ""),
                r.query.get("$filter", ""),
                "body-content-type" in r.prefer,
            )
        return self._start(box, tracking, base, r)

    def _lost(self, base: str) -> Answer:
        if self.reset_status == 400:
            return error(
                400,
                "syncStateNotFound",
                "The sync state generation is not found. "
                "The delta token is expired and data must be synchronized again.",
            )
        return error(410, "SyncStateNotFound", "The sync state is not found.", {"Location": base})

    def _start(self, box: FakeMailbox, t: Tracking, base: str, r: Request) -> Answer:
        """A new round: everything since the token (everything, without one), then pages."""
        select = select_of({"$select": t.select}) if t.select else None
        pick = message_filter(t.filter, delta=True)
        items = [
            render(m, select, text_body=t.text_body)
            for m in box.in_folder(t.folder)
            if m.changed > t.since and pick(m)
        ]
        here = {m.id for m in box.in_folder(t.folder)}
        gone = dict.fromkeys(
            x.message_id
            for x in box.removals
            if x.folder == t.folder and x.changed > t.since and x.message_id not in here
        )
        items += [{"id": i, "@removed": {"reason": "deleted"}} for i in gone]
        round_id = secrets.token_urlsafe(12)
        self.rounds[round_id] = (items, 0, t, box.change)
        return self._page(round_id, base, r)

    def _page(self, round_id: str, base: str, r: Request) -> Answer:
        found = self.rounds.get(round_id)
        if found is None:
            return self._lost(base)
        items, offset, t, change = found
        match = _PAGE_SIZE.search(r.prefer)
        size = min(int(match.group(1)) if match else 10, self.max_page)
        page: Json = {"value": items[offset : offset + size]}
        if offset + size < len(items):
            self.rounds[round_id] = (items, offset + size, t, change)
            page["@odata.nextLink"] = f"{base}?$skiptoken={round_id}"
        else:
            del self.rounds[round_id]
            page["@odata.deltaLink"] = f"{base}?$deltatoken={self._token(t, change)}"
        return 200, {}, page

    def _token(self, t: Tracking, change: int) -> str:
        """The same state gives the same token (an idle mailbox keeps its sync state)."""
        at = Tracking(t.mailbox, t.folder, change, t.select, t.filter, t.text_body)
        key = (self.epoch, at)
        if key not in self.issued:
            self.issued[key] = secrets.token_urlsafe(18)
        self.tokens[self.issued[key]] = at
        return self.issued[key]
