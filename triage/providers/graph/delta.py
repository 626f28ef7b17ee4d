"""Incremental sync with Graph's delta query: one round over the folders sync follows.

Delta is a per-folder operation (learn.microsoft.com/graph/delta-query-messages): a
round follows `@odata.nextLink` until `@odata.deltaLink`, whose URL starts the next
round. Sync follows three folders: the watched one (every message: which
conversations exist), Sent Items (a staff reply stops the clock) and the notes
folder (a colleague's note). Sent Items is followed from a day before the full sync
(`$filter=receivedDateTime ge`, the one filter delta allows), so a big Sent Items is
never read whole. The folders' links are fetched together in one `$batch` per page.

triage's sync state is the folders' delta links as JSON. A state that cannot be read,
that was made for another folder or another API URL, or that Graph no longer knows
(HTTP 410, `syncStateNotFound`) means a full sync.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from triage.providers.base import CannotCalculateChanges, ProviderError
from triage.providers.graph.http import Call, GraphHttp, values
from triage.providers.graph.mailbox import GraphMailbox, query
from triage.text.isotime import iso

PAGE = "odata.maxpagesize=200"
TEXT_BODY = 'outlook.body-content-type="text"'
SENT_WINDOW = timedelta(days=1)  # Sent Items is followed from this long before a full sync
MAX_PAGES = 100_000  # a round that never reaches its deltaLink is a broken server
MAIL, SENT, NOTES = "mail", "sent", "notes"


def starts(box: GraphMailbox, now: datetime) -> dict[str, Call]:
    """The first request of a full round for each folder followed."""
    out = {
        MAIL: box.call("GET", f"/mailFolders/{box.watched}/messages/delta"
                       + query(select="id,conversationId"), prefer=PAGE),
        SENT: box.call("GET", "/mailFolders/sentitems/messages/delta"
                       + query(select="id,conversationId",
                               filter=f"receivedDateTime ge {iso(now - SENT_WINDOW)}"),
                       prefer=PAGE),
    }  # fmt: skip
    if box.notes:
        out[NOTES] = notes_start(box)
    return out


def notes_start(box: GraphMailbox) -> Call:
    """The notes folder from the start, bodies included (notes are small; they are read
    once and kept, so later rounds bring only new notes)."""
    select = query(select="id,conversationId,categories,parentFolderId,body")
    return box.call("GET", f"/mailFolders/{box.notes}/messages/delta{select}",
                    prefer=f"{PAGE}, {TEXT_BODY}")  # fmt: skip


def encode_state(box: GraphMailbox, api: str, links: Mapping[str, str]) -> str:
    return json.dumps({"v": 1, "api": api, "folder": box.watched, "notes": box.notes,
                       "links": dict(links)}, sort_keys=True)  # fmt: skip


def resume(box: GraphMailbox, http: GraphHttp, state: str) -> dict[str, Call]:
    """The requests that continue from `state`; CannotCalculateChanges if it cannot."""
    try:
        data = json.loads(state)
        links = data["links"]
        same = data["api"] == http.api and data["folder"] == box.watched
    except (ValueError, KeyError, TypeError):
        raise CannotCalculateChanges("the sync state is not one of ours") from None
    if not same or not isinstance(links, dict) or not {MAIL, SENT} <= set(links):
        raise CannotCalculateChanges("the sync state was made for another folder or API URL")
    if not all(isinstance(v, str) and v.startswith(http.api + "/") for v in links.values()):
        raise CannotCalculateChanges("the sync state's links are not Graph delta links")
    out = {k: Call("GET", http.relative(v), prefer=_prefer(k)) for k, v in links.items()}
    if box.notes and (NOTES not in out or data.get("notes") != box.notes):
        out[NOTES] = notes_start(box)  # the notes folder was made (or made again) since
    return out


def _prefer(key: str) -> str:
    return f"{PAGE}, {TEXT_BODY}" if key == NOTES else PAGE


async def round_of(
    http: GraphHttp, first: Mapping[str, Call], along: Call | None = None
) -> tuple[dict[str, str], dict[str, list[dict[str, Any]]], Any]:
    """One round: each folder's new delta link, the items it reported, and the answer to
    `along`, a request sent in the first batch (it costs no round trip of its own)."""
    pending = dict(first)
    items: dict[str, list[dict[str, Any]]] = {k: [] for k in first}
    links: dict[str, str] = {}
    extra: Any = None
    for _ in range(MAX_PAGES):
        if not pending:
            return links, items, extra
        keys = list(pending)
        answers = await http.calls([pending[k] for k in keys] + ([along] if along else []))
        if along is not None:
            extra, along = answers.pop(), None
        pending = {}
        for key, answer in zip(keys, answers, strict=True):
            if isinstance(answer, ProviderError):
                raise answer
            items[key].extend(values(answer))
            after = _next(answer, key)
            if after.startswith("next:"):
                pending[key] = Call("GET", http.relative(after[5:]), prefer=_prefer(key))
            else:
                links[key] = after
    raise ProviderError("Microsoft Graph's delta never reached its deltaLink")


def _next(answer: dict[str, Any], key: str) -> str:
    """ "next:<link>" for another page, else the round's delta link."""
    next_link, delta_link = answer.get("@odata.nextLink"), answer.get("@odata.deltaLink")
    if isinstance(next_link, str) and next_link:
        return "next:" + next_link
    if isinstance(delta_link, str) and delta_link:
        return delta_link
    raise ProviderError(f"Microsoft Graph's delta of the {key} folder has no next or delta link")


def removed(items: Mapping[str, list[dict[str, Any]]]) -> set[str]:
    return {str(i["id"]) for group in items.values() for i in group
            if "@removed" in i and isinstance(i.get("id"), str)}  # fmt: skip


def conversations(items: Mapping[str, list[dict[str, Any]]]) -> set[str]:
    """The conversations of the messages added or changed."""
    return {i["conversationId"] for group in items.values() for i in group
            if "@removed" not in i and isinstance(i.get("conversationId"), str)}  # fmt: skip
