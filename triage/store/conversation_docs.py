"""The hot cache's conversation documents (schema 2): compact, readable without a build.

The hot file is parsed whole at every start and rewritten by every sync, so its
documents are as small as they can be read back exactly: one- to three-letter
keys, times as whole epoch seconds (an ISO string in the rare case of a fraction),
every field at its default left out, and the per-message data (mail ids, the
References to cite, the latest staff Message-IDs) in a document of its own in
another file (`ref_doc`), read only when an action or a sync needs it. At 50k
conversations the hot file is ~14 MB instead of ~50 MB for schema 1.

`queue_key` reads the few fields the queue's order needs straight from a
document, so the console can sort and count 50k conversations at start-up and
build a `Conversation` only for the rows it shows (`conversation_from_doc`).
`legacy_conversation` reads schema 1 documents, for the one-time migration.

| key | field | key | field |
|---|---|---|---|
| i | thread_id | x, xr, xb, xa | escalated, its reason, by, at |
| s | subject | ceo, ack | ceo_contacted, acknowledged |
| e | client_email | om | owner_mark |
| n | client_name | no | notes |
| k | client_key (left out: the email's domain) | im, pb | impersonation, problem |
| r, rg | region, region_guessed | st | status (left out: waiting) |
| o | owner | wk, su | wake_at, snoozed_until |
| t | tier ("premium"; left out: standard) | fu | follow_up |
| w | waiting | dr, db, da | done reason, by, at |
| fa, la | first_arrival, last_message_at | rp, ru | replying, replying_until |
| mc | message_count | ra, rb, rs, ro | replied at, by, seconds, on time |
| ws, cs | waiting_since, clock_start | tg, ts | target, target_source |
| d | deadline | am | asked_new_manager |

The thread reference document: i (thread id), m (mail ids), ni (note ids), rt
(reply-to, left out when it is the client's address), rf (References), sm
(staff Message-IDs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from triage.domain import history
from triage.domain.model import Conversation, DeferredRef, Status, ThreadRef, Tier
from triage.store.documents import DocumentError, read_note, read_str, read_strs
from triage.text.isotime import iso, parse_iso

Doc = dict[str, Any]
QueueKey = tuple[float, int, float, str]  # (deadline or NO_DEADLINE, tier rank, first, id)
NO_DEADLINE = float(datetime.max.replace(tzinfo=UTC).timestamp())


def conversation_doc(c: Conversation) -> Doc:  # long: one line per stored field
    """The compact document of a conversation (see the key table above)."""
    d: Doc = {"i": c.thread_id, "s": c.subject, "e": c.client_email, "r": c.region,
              "o": c.owner, "fa": _t(c.first_arrival), "la": _t(c.last_message_at),
              "mc": c.message_count}  # fmt: skip
    if c.tier is not Tier.STANDARD:
        d["t"] = c.tier.value
    if c.waiting:
        d["w"] = 1
    if c.status is not Status.WAITING:
        d["st"] = c.status.value
    if c.client_key != _domain(c.client_email):
        d["k"] = c.client_key
    _text(d, n=c.client_name, om=c.owner_mark, xr=c.escalation_reason, xb=c.escalated_by,
          im=c.impersonation, pb=c.problem, dr=c.done_reason, db=c.done_by, rp=c.replying,
          rb=c.replied_by, tg=c.target, ts=c.target_source)  # fmt: skip
    _times(d, ws=c.waiting_since, cs=c.clock_start, d=c.deadline, xa=c.escalated_at,
           wk=c.wake_at, su=c.snoozed_until, da=c.done_at, ru=c.replying_until,
           ra=c.replied_at)  # fmt: skip
    _flags(d, rg=c.region_guessed, x=c.escalated, ceo=c.ceo_contacted, ack=c.acknowledged,
           fu=c.follow_up, am=c.asked_new_manager)  # fmt: skip
    if c.reply_seconds is not None:
        d["rs"] = c.reply_seconds
    if c.reply_on_time is not None:
        d["ro"] = c.reply_on_time
    if c.notes:
        d["no"] = [history.fields(n) for n in c.notes]
    return d


def ref_doc(c: Conversation) -> Doc:
    """The document of a conversation's thread reference (kept in the other file)."""
    ref = c.thread
    d: Doc = {"i": c.thread_id}
    _lists(d, m=ref.message_ids, ni=ref.note_ids, rf=ref.references, sm=ref.staff_message_ids)
    if ref.reply_to != c.client_email:
        d["rt"] = ref.reply_to
    return d


def ref_from_doc(
    d: Mapping[str, Any] | None, thread_id: str, subject: str, email: str
) -> ThreadRef:
    """The thread reference a document holds (None: not stored, only what the
    conversation knows); DocumentError when it is malformed."""
    if d is None:
        return ThreadRef(thread_id, subject, reply_to=email)
    try:
        g = d.get
        return ThreadRef(thread_id=thread_id, subject=subject, message_ids=read_strs(g("m", ())),
                         note_ids=read_strs(g("ni", ())), reply_to=read_str(g("rt", email)),
                         references=read_strs(g("rf", ())),
                         staff_message_ids=read_strs(g("sm", ())))  # fmt: skip
    except (TypeError, ValueError) as exc:
        raise DocumentError(f"a thread reference is malformed ({exc!r:.80})") from None


_PREMIUM, _FOLLOW_UP = Tier.PREMIUM.value, Status.FOLLOW_UP.value
# escalated, CEO contacted, acknowledged, posing as staff, asked for another manager
_KEPT_APART = ("x", "ceo", "ack", "im", "am")


def queue_key(d: Mapping[str, Any]) -> QueueKey:
    """The queue's sort key of a stored conversation, without building it
    (`triage.domain.ordering.entry` gives the same key for the built one)."""
    try:
        deadline, tid = d.get("d"), d["i"]
        if type(tid) is not str:
            raise DocumentError("a conversation's thread id is not a string")
        return (_seconds(deadline) if deadline is not None else NO_DEADLINE,
                0 if d.get("t") == _PREMIUM else 1, _seconds(d["fa"]), tid)  # fmt: skip
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise DocumentError(f"a conversation document is malformed ({exc!r:.80})") from None


def plain_waiting(d: Mapping[str, Any]) -> bool:
    """Waiting in the queue's order with nothing the queue keeps apart (escalated, CEO
    contacted, acknowledged, posing as staff, asked for another manager, snoozed): may
    stay unbuilt at start."""
    if not d.get("w"):
        return False
    status = d.get("st")
    if status is not None and status != _FOLLOW_UP:
        return False
    return not any(key in d for key in _KEPT_APART)


def message_ids(d: Mapping[str, Any]) -> list[str]:
    """The provider ids of a thread reference document's mail and notes."""
    return [*d.get("m", ()), *d.get("ni", ())]


RefLoader = Callable[[str, str, str], ThreadRef]  # (thread id, subject, client email)


def conversation_from_doc(  # long: one line per field
    d: Mapping[str, Any], ref: RefLoader | None = None
) -> Conversation:
    """The conversation a compact document holds, its thread reference read by `ref`
    when first needed (without: just what the document knows); DocumentError when
    the document is malformed. Built for every row the console shows and every row
    `triage queue` prints: the checks are one pass over the keys, not one call per
    field (~13 us a conversation instead of ~17)."""
    try:
        _check_types(d)
        g = d.get
        tid, email, subject = d["i"], d["e"], d["s"]
        t = _opt
        return Conversation(
            thread_id=tid,
            subject=subject,
            client_email=email,
            client_name=g("n", ""),
            client_key=d["k"] if "k" in d else _domain(email),
            region=d["r"],
            region_guessed=g("rg") is True,
            owner=d["o"],
            tier=_TIERS[g("t", "standard")],
            waiting=bool(g("w")),
            first_arrival=_time(d["fa"]),
            last_message_at=_time(d["la"]),
            message_count=int(d["mc"]),
            waiting_since=t(g("ws")),
            clock_start=t(g("cs")),
            deadline=t(g("d")),
            escalated=g("x") is True,
            escalation_reason=g("xr", ""),
            escalated_by=g("xb", ""),
            escalated_at=t(g("xa")),
            ceo_contacted=g("ceo") is True,
            acknowledged=g("ack") is True,
            owner_mark=g("om", ""),
            notes=tuple(read_note(n) for n in d["no"]) if "no" in d else (),
            ref=DeferredRef(tid, subject, email, ref or _unstored_ref),
            impersonation=g("im", ""),
            problem=g("pb", ""),
            status=_STATUSES[g("st", "waiting")],
            wake_at=t(g("wk")),
            snoozed_until=t(g("su")),
            follow_up=g("fu") is True,
            done_reason=g("dr", ""),
            done_by=g("db", ""),
            done_at=t(g("da")),
            replying=g("rp", ""),
            replying_until=t(g("ru")),
            replied_at=t(g("ra")),
            replied_by=g("rb", ""),
            reply_seconds=_opt_float(g("rs")),
            reply_on_time=g("ro") if isinstance(g("ro"), bool) else None,
            target=g("tg", ""),
            target_source=g("ts", ""),
            asked_new_manager=g("am") is True,
        )
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
        raise DocumentError(f"a conversation document is malformed ({exc!r:.80})") from None


_REQUIRED_TEXT = frozenset(("i", "e", "s", "r", "o"))
_TEXT_KEYS = frozenset(("i", "e", "s", "r", "o", "n", "k", "xr", "xb", "om", "im", "pb",
                        "dr", "db", "rp", "rb", "tg", "ts"))  # fmt: skip
_TIME_KEYS = frozenset(("fa", "la", "ws", "cs", "d", "xa", "wk", "su", "da", "ru", "ra"))
_TIERS = {t.value: t for t in Tier}
_STATUSES = {s.value: s for s in Status}


def _check_types(d: Mapping[str, Any]) -> None:
    """Every text a string, every time an epoch second or ISO text (the rest is checked
    as it is converted)."""
    keys = d.keys()
    if not keys >= _REQUIRED_TEXT:
        raise KeyError(f"missing {sorted(_REQUIRED_TEXT - keys)}")
    for key in _TEXT_KEYS & keys:
        if type(d[key]) is not str:
            raise TypeError(f"{key}: expected a string, got {type(d[key]).__name__}")
    for key in _TIME_KEYS & keys:
        if type(d[key]) not in (int, str):
            raise TypeError(f"{key}: expected a time, got {type(d[key]).__name__}")


def _unstored_ref(tid: str, subject: str, email: str) -> ThreadRef:
    return ThreadRef(tid, subject, reply_to=email)


# ---- schema 1, read once to migrate ----

_V1_TIMES = ("wake_at", "snoozed_until", "done_at", "replying_until", "replied_at")
_V1_TEXT = ("done_reason", "done_by", "replying", "replied_by", "target", "target_source")


def legacy_conversation(d: Mapping[str, Any]) -> Conversation:  # long: one line per field
    """A schema 1 document (long keys, ISO times) as the conversation it holds."""
    try:
        tid, raw = read_str(d["thread_id"]), d.get("workflow") or {}
        seconds, on_time = raw.get("reply_seconds"), raw.get("reply_on_time")
        return Conversation(
            thread_id=tid, subject=read_str(d["subject"]), client_email=read_str(d["client_email"]),
            client_name=read_str(d["client_name"]), client_key=read_str(d["client_key"]),
            region=read_str(d["region"]), region_guessed=bool(d["region_guessed"]),
            owner=read_str(d["owner"]), tier=Tier(d.get("tier", "standard")),
            waiting=bool(d["waiting"]), first_arrival=parse_iso(d["first_arrival"]),
            last_message_at=parse_iso(d["last_message_at"]),
            message_count=int(d["message_count"]), waiting_since=_opt(d.get("waiting_since")),
            clock_start=_opt(d.get("clock_start")), deadline=_opt(d.get("deadline")),
            escalated=bool(d.get("escalated", False)),
            escalation_reason=read_str(d.get("escalation_reason", "")),
            escalated_by=read_str(d.get("escalated_by", "")),
            escalated_at=_opt(d.get("escalated_at")),
            ceo_contacted=bool(d.get("ceo_contacted", False)),
            acknowledged=bool(d.get("acknowledged", False)),
            owner_mark=read_str(d.get("owner_kw") or ""),
            notes=tuple(read_note(n) for n in d.get("notes", ())),
            ref=ThreadRef(thread_id=tid, subject=read_str(d["subject"]),
                          message_ids=read_strs(d.get("email_ids", ())),
                          note_ids=read_strs(d.get("note_ids", ())),
                          reply_to=read_str(d.get("reply_to", "")),
                          references=read_strs(d.get("refs", ())),
                          staff_message_ids=read_strs(d.get("staff_mids", ()))),
            impersonation=read_str(d.get("impersonation", "")),
            problem=read_str(d.get("problem", "")),
            status=Status(raw.get("status", Status.WAITING.value)),
            follow_up=raw.get("follow_up") is True,
            reply_seconds=float(seconds) if seconds is not None else None,
            reply_on_time=on_time if isinstance(on_time, bool) else None,
            **_v1_workflow(raw),
        )  # fmt: skip
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
        raise DocumentError(f"a conversation document is malformed ({exc!r:.80})") from None


def _v1_workflow(raw: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {key: _opt(raw.get(key)) for key in _V1_TIMES}
    out.update({key: read_str(raw.get(key, "")) for key in _V1_TEXT})
    return out


# ---- values ----


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _t(at: datetime) -> int | str:
    """Whole epoch seconds, or the ISO text when the time has a fraction of a second."""
    seconds = at.timestamp()
    return int(seconds) if seconds.is_integer() else iso(at)


def _time(value: Any) -> datetime:
    if type(value) is int:
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        return parse_iso(value)
    raise TypeError(f"expected a time, got {type(value).__name__}")


def _opt(value: Any) -> datetime | None:
    return None if value is None else _time(value)


def _seconds(value: Any) -> float:
    # Always a float, as `datetime.timestamp()` gives for a built one: a list whose keys
    # start with one type sorts with Python's fast same-type comparison (~3x faster).
    if type(value) is int:
        return float(value)
    return _time(value).timestamp()


def _domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def _text(doc: Doc, /, **values: str) -> None:
    doc.update((k, v) for k, v in values.items() if v)


def _times(doc: Doc, /, **values: datetime | None) -> None:
    doc.update((k, _t(v)) for k, v in values.items() if v is not None)


def _flags(doc: Doc, /, **values: bool) -> None:
    doc.update((k, True) for k, v in values.items() if v)


def _lists(doc: Doc, /, **values: tuple[str, ...]) -> None:
    doc.update((k, list(v)) for k, v in values.items() if v)
