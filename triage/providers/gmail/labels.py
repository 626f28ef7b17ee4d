"""How triage's shared state looks in Gmail: marks as user labels under `triage/`, and the
mailbox's labels by id and by name.

A mark is a label on every message of the thread: `triage/<kind>` for a flag
(`triage/escalated`, `triage/ack`) and `triage/<kind>/<value>` for a valued mark
(`triage/owner/alice`). Any `triage/` label whose kind is a `MarkKind` is read as
that mark, so a new kind needs no change here; other labels are ignored. Labels
are created on first use. Values are manager ids (one label each), never times
or free text, which is what keeps the mailbox far below Google's label limits.

Notes are messages under the notes label (`provider.notes_mailbox`, "Triage Notes"
by default), account-level ones also under `<notes label>/account`.
"""

from __future__ import annotations

from collections.abc import Iterable

from triage.domain.model import Mark, MarkKind
from triage.providers.base import ProviderError
from triage.providers.gmail.http import Conflict, GmailHttp, Json
from triage.providers.gmail.quota import UNITS

PREFIX = "triage/"
_KINDS = {k.value: k for k in MarkKind}


def label_name(mark: Mark) -> str:
    """The label that stores `mark` (a "/" or "%" in a value is escaped: one level only)."""
    if not mark.value:
        return PREFIX + mark.kind.value
    value = mark.value.casefold().replace("%", "%25").replace("/", "%2F")
    return f"{PREFIX}{mark.kind.value}/{value}"


def mark_of(name: str) -> Mark | None:
    """The mark a label stores, or None for labels that are not triage's marks."""
    if not name.startswith(PREFIX):
        return None
    kind_text, _, value = name[len(PREFIX) :].partition("/")
    kind = _KINDS.get(kind_text)
    if kind is None or "/" in value:
        return None
    return Mark(kind, value.replace("%2F", "/").replace("%25", "%"))


class Labels:
    """The mailbox's labels: id <-> name, read once and again when an unknown id shows up
    (a colleague's console created it), and created on first use."""

    def __init__(self, http: GmailHttp) -> None:
        self.http = http
        self.names: dict[str, str] = {}  # id -> name
        self.ids: dict[str, str] = {}  # casefolded name -> id
        self._unlisted: set[str] = set()  # ids on messages that labels.list does not give
        self._absent: set[str] = set()  # names not there when we last looked for them

    async def load(self) -> None:
        answer = await self.http.get("labels", units=UNITS["labels.list"])
        labels = answer.get("labels", [])
        if not isinstance(labels, list):
            raise ProviderError("labels.list: Gmail's answer has no list of labels")
        self.names = {str(x["id"]): str(x.get("name") or x["id"]) for x in labels
                      if isinstance(x, dict) and isinstance(x.get("id"), str)}  # fmt: skip
        self.ids = {name.casefold(): i for i, name in self.names.items()}
        self._absent -= set(self.ids)

    def find(self, name: str) -> str:
        """The id of the label called `name` (or whose id it is), "" when none."""
        if name in self.names:
            return name
        return self.ids.get(name.casefold(), "")

    async def know(self, label_ids: Iterable[str]) -> None:
        """Read the labels again if any of these ids is new to us (once per such id: one
        that labels.list does not give must not cost a request every sync)."""
        new = {i for i in label_ids if i not in self.names and i not in self._unlisted}
        if new:
            await self.load()
            self._unlisted |= new - set(self.names)

    def marks(self, label_ids: Iterable[str]) -> frozenset[Mark]:
        found = (mark_of(self.names.get(i, "")) for i in label_ids)
        return frozenset(m for m in found if m is not None)

    async def existing(self, names: Iterable[str]) -> list[str]:
        """The ids of those labels that exist. A name we do not know may be a colleague's
        new label: the labels are read again, once per such name until a later read finds
        it (a sync reads them again anyway when it meets a new id)."""
        wanted = list(names)
        if any(not self.find(n) and n.casefold() not in self._absent for n in wanted):
            await self.load()
            self._absent |= {n.casefold() for n in wanted if not self.find(n)}
        return [i for i in map(self.find, wanted) if i]

    async def ensure(self, name: str) -> str:
        """The id of the label `name`, created if it does not exist yet (by anyone)."""
        found = self.find(name)
        if found:
            return found
        body = {"name": name, "labelListVisibility": "labelShow",
                "messageListVisibility": "show"}  # fmt: skip
        try:
            created = await self.http.post("labels", body, units=UNITS["labels.create"],
                                           idempotent=True)  # fmt: skip
        except Conflict:  # another console created it since we last read the labels
            await self.load()
            found = self.find(name)
            if not found:
                raise ProviderError(
                    f"Gmail says the label {name!r} exists but does not "
                    "list it; rename the label that clashes"
                ) from None
            return found
        return self._remember(created, name)

    def _remember(self, created: Json, name: str) -> str:
        label_id = created.get("id")
        if not isinstance(label_id, str):
            raise ProviderError(f"labels.create: Gmail did not say the new label {name!r}'s id")
        self.names[label_id] = name
        self.ids[name.casefold()] = label_id
        return label_id
