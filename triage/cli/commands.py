"""The subcommands for scripts and cron: sync, queue, escalate, reassign, reply.

They use the same Service as the console's keys. `queue` prints the console's
order (a table with thread ids, or JSON); the others print one line about what
was done and exit 0, or 1 when the provider failed (the work stays queued).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from triage.cli.demo import DemoService
from triage.cli.explain import print_explain
from triage.cli.start import UsageError, open_service
from triage.cli.teamreport import period, print_report
from triage.clock import FrozenClock, SystemClock
from triage.domain.model import Conversation
from triage.domain.reasons import reason_label
from triage.domain.routing import is_staff
from triage.domain.templates import render, unfilled, values_for, with_signature
from triage.domain.urgency import Escalation, escalation_of, state_of
from triage.domain.when import parse_when
from triage.domain.workflow import status_at
from triage.engine.outbox import ActionError
from triage.providers.base import ProviderError
from triage.service.api import SyncResult
from triage.service.core import TriageService
from triage.text.datefmt import full_date_time
from triage.text.i18n import N_, _
from triage.text.isotime import iso
from triage.text.sanitize import sanitize_line
from triage.text.timefmt import format_left


async def run_command(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    now = _parse_now(getattr(args, "now", None))
    service = open_service(args, env, FrozenClock(now) if now else SystemClock())
    try:
        offline = args.command in ("queue", "explain", "report")
        if not offline or getattr(args, "sync", False) or isinstance(service, DemoService):
            result = await service.sync()
            if args.command == "sync":
                print(_describe(result))
        if args.command == "queue":
            print_queue(service, now or service.now(), as_json=args.json, view=args.list_view)
        elif args.command == "explain":
            print_explain(service, args.thread_id, now or service.now(), args.json)
        elif args.command == "report":
            start, end = period(args.days, args.since, args.until, now or service.now())
            fmt = "json" if args.json else "csv" if args.csv else "table"
            await print_report(service, start, end, args.by, fmt)
        elif args.command == "escalate":
            await service.escalate(args.thread_id, args.reason)
            print(_("escalated {thread_id}").format(thread_id=args.thread_id))
        elif args.command == "reassign":
            await service.reassign(args.thread_id, args.to, args.reason, args.account)
            print(_("reassigned {thread_id} to {to}").format(thread_id=args.thread_id, to=args.to))
        elif args.command in WORKFLOW:
            print(await WORKFLOW[args.command](service, args))
        elif args.command == "reply":
            code = await _reply(service, args.thread_id, args.body_file, args.template)
            await _settle(service)
            return code
        if args.command in ("escalate", "reassign", *WORKFLOW):
            await _settle(service)
        return 0
    finally:
        await service.close()


# The plain queue's words for a row's state (its JSON keeps the ids).
STATE_WORDS = {"breached": N_("breached"), "at_risk": N_("at_risk"), "ok": N_("ok"),
               "waiting": N_("waiting"), "follow-up": N_("follow-up"), "snoozed": N_("snoozed"),
               "done": N_("done"), "answered": N_("answered")}  # fmt: skip


def _describe(result: SyncResult) -> str:
    """Every count, always: scripts read this line."""
    kind = "full sync" if result.full else "incremental sync"
    parts = f"{len(result.added)} new, {len(result.updated)} updated, {len(result.removed)} removed"
    flushed = f", {result.flushed} queued actions sent" if result.flushed else ""
    return f"{kind}: {parts}{flushed}"


QUEUED = N_(" (queued: the provider is unreachable; it is written by the next sync)")


def _said(recorded: bool) -> str:
    """Nothing when the provider has it; the queued note when it does not yet."""
    return "" if recorded else _(QUEUED)


async def _done(service: TriageService, args: argparse.Namespace) -> str:
    recorded = await service.done(args.thread_id, args.reason)
    return _("done {thread_id}: {reason}").format(
        thread_id=args.thread_id, reason=reason_label(args.reason or "no reply needed")
    ) + _said(recorded)


async def _reopen(service: TriageService, args: argparse.Namespace) -> str:
    recorded = await service.reopen(args.thread_id)
    return _("reopened {thread_id}").format(thread_id=args.thread_id) + _said(recorded)


async def _snooze(service: TriageService, args: argparse.Namespace) -> str:
    conv = service.conversation(args.thread_id)
    if conv is None:
        raise ActionError(f"no conversation {args.thread_id!r} in the cache (run a sync first)")
    region = service.config.regions.get(conv.region)
    zone = ZoneInfo(region.timezone) if region else UTC
    try:
        until = parse_when(args.until, service.now(), zone)
    except ValueError as e:
        raise UsageError(_("--until: {e}").format(e=e)) from None
    recorded = await service.snooze(args.thread_id, until)
    local = full_date_time(until.astimezone(zone))
    return _("snoozed {thread_id} until {local} (the client's time), {iso}").format(
        thread_id=args.thread_id, local=local, iso=iso(until)
    ) + _said(recorded)


async def _wake(service: TriageService, args: argparse.Namespace) -> str:
    recorded = await service.wake(args.thread_id)
    return _("woke {thread_id}").format(thread_id=args.thread_id) + _said(recorded)


async def _deescalate(service: TriageService, args: argparse.Namespace) -> str:
    recorded = await service.deescalate(args.thread_id, args.reason)
    return _("took the escalation of {thread_id} back").format(thread_id=args.thread_id) + _said(
        recorded
    )


Command = Callable[[TriageService, argparse.Namespace], Awaitable[str]]
WORKFLOW: dict[str, Command] = {"done": _done, "reopen": _reopen, "snooze": _snooze,
                                "wake": _wake, "deescalate": _deescalate}  # fmt: skip


async def _settle(service: TriageService) -> None:
    """Sync once more so the cache holds the provider's view of what we just did."""
    with contextlib.suppress(ProviderError):
        await service.sync()


MAX_BODY_BYTES = 1_000_000  # a reply, not an attachment


def read_body(source: str) -> str:
    """A reply's text from a file, or standard input for "-": at most MAX_BODY_BYTES, UTF-8."""
    name = "standard input" if source == "-" else source
    try:
        if source == "-":
            data = sys.stdin.buffer.read(MAX_BODY_BYTES + 1)
        else:
            with open(source, "rb") as f:  # reads at most what is allowed, never all of it
                data = f.read(MAX_BODY_BYTES + 1)
    except OSError as e:
        raise UsageError(
            _("cannot read {name}: {strerror}").format(name=name, strerror=e.strerror)
        ) from None
    if len(data) > MAX_BODY_BYTES:
        raise UsageError(
            _("{name} is larger than {MAX_BODY_BYTES:,} bytes: too long for a reply").format(
                name=name, MAX_BODY_BYTES=MAX_BODY_BYTES
            )
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UsageError(
            _(
                "{name} is not UTF-8 text (byte {start} cannot be read); save it as UTF-8, "
                "e.g. iconv -f latin1 -t utf-8"
            ).format(name=name, start=e.start)
        ) from None


async def _reply(
    service: TriageService, thread_id: str, body_file: str | None, template: str | None
) -> int:
    body = read_body(body_file) if body_file else await _from_template(service, thread_id,
                                                                        template or "")  # fmt: skip
    me = service.config.managers.get(service.user)
    body = with_signature(body, me.signature if me else "")
    draft = service.save_draft(thread_id, body)
    sent = await service.send_reply(draft.id)
    if sent.status == "sent":
        print(
            _("reply sent to {thread_id} (Message-ID <{message_id}>)").format(
                thread_id=thread_id, message_id=sent.message_id
            )
        )
        return 0
    print(
        _("reply {status}: {error}; kept in the outbox, sent on the next sync").format(
            status=sent.status, error=sent.error
        )
    )
    return 1


async def _from_template(service: TriageService, thread_id: str, name: str) -> str:
    """The template rendered for this thread; UsageError when it is unknown or leaves a
    placeholder unfilled (nothing half-written is sent)."""
    cfg = service.config
    template = cfg.templates.get(name)
    if template is None:
        known = ", ".join(cfg.templates) or _("none: add [templates.NAME] to the config")
        raise UsageError(
            _("--template: no template {name!r} (templates: {known})").format(
                name=name, known=known
            )
        )
    view = await service.thread(thread_id)
    clients = [m for m in view.messages if not is_staff(m.sender, cfg)]
    conv = view.conversation
    values = values_for(conv, clients[-1].sender_name if clients else "",
                        cfg.managers.get(service.user), cfg.regions.get(conv.region),
                        template.language)  # fmt: skip
    body = render(template.body, values)
    if left := unfilled(body):
        names = ", ".join("{" + n + "}" for n in left)
        raise UsageError(_("--template {name}: {names} cannot be filled for {thread_id}; write "
                           "the reply in a file and use --body-file").format(
                               name=name, names=names, thread_id=thread_id))  # fmt: skip
    return body


def _parse_now(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(_("--now: not an ISO 8601 instant: {text!r}").format(text=text)) from None
    if at.tzinfo is None:
        raise UsageError(_("--now needs a time zone, e.g. 2026-11-26T15:00:00Z"))
    if not 1970 <= at.year <= 9000:  # the calendar counts days either side of it
        raise UsageError(_("--now: {text!r} is outside the years 1970 to 9000").format(text=text))
    return at.astimezone(UTC)


# -- the queue ----------------------------------------------------------------------


def queue_rows(
    service: TriageService, now: datetime, view: str = "waiting"
) -> list[dict[str, Any]]:
    """The queue as the console sorts it (or another view), as JSON-ready objects."""
    at_risk = timedelta(minutes=service.config.agency.at_risk_minutes)
    grace = timedelta(minutes=service.config.agency.escalate_after_minutes)
    rows = service.queue_view(now) if view == "waiting" else service.view(view, now)
    out = [_row(c, escalation_of(c, now, grace), now, at_risk) for c in rows]
    if view != "waiting":
        for row, c in zip(out, rows, strict=True):
            row.update(_view_fields(c, now))
    return out


def _view_fields(c: Conversation, now: datetime) -> dict[str, Any]:
    """What a view beside the queue adds: its status, and the snooze or the reason."""
    out: dict[str, Any] = {"status": status_at(c, now).value}
    if c.snoozed_until is not None:
        out["snoozed_until"] = iso(c.snoozed_until)
        out["wakes_at"] = iso(c.wake_at) if c.wake_at else None
    if c.done_reason:
        out.update(done_reason=c.done_reason, done_by=c.done_by,
                   done_at=iso(c.done_at) if c.done_at else None)  # fmt: skip
    if c.replied_at is not None:
        out.update(replied_at=iso(c.replied_at), replied_by=c.replied_by,
                   reply_business_seconds=c.reply_seconds,
                   reply_on_time=c.reply_on_time)  # fmt: skip
    return out


def _row(
    c: Conversation, esc: Escalation | None, now: datetime, at_risk: timedelta
) -> dict[str, Any]:
    left = c.seconds_left(now) if c.waiting else None
    return {
        "thread_id": c.thread_id,
        "subject": c.subject,
        "client": c.client_name,
        "client_email": c.client_email,
        "region": c.region,
        "region_guessed": c.region_guessed,
        "owner": c.owner,
        "tier": c.tier.value,
        "waiting_since": iso(c.clock_start or c.first_arrival) if c.waiting else None,
        "deadline": iso(c.deadline) if c.deadline and c.waiting else None,
        "seconds_left": round(left) if left is not None else None,
        "state": state_of(c, now, at_risk).value if c.waiting else "",
        "target": c.target if c.waiting else "",  # "first reply, premium tier: 30m"
        "target_source": c.target_source if c.waiting else "",  # client | tier | region
        "escalated": esc is not None,
        "escalation_reason": esc.reason if esc else "",
        "ceo_contacted": c.ceo_contacted,
        "status": status_at(c, now).value,
    }


def print_queue(
    service: TriageService, now: datetime, *, as_json: bool, view: str = "waiting"
) -> None:
    rows = queue_rows(service, now, view)
    if as_json:
        print(ascii_json(rows))
        return
    cfg = service.config
    ids = [sanitize_line(r["thread_id"], 40) for r in rows]
    w = max([len("ID"), *(len(i) for i in ids)])
    head = [_("ID"), _("STATE"), _("LEFT"), _("CLIENT"), _("REGION"), _("OWNER"), _("SUBJECT")]
    print(
        f"{head[0]:{w}} {head[1]:9} {head[2]:>8}  {head[3]:22} {head[4]:14} {head[5]:8} {head[6]}"
    )
    for tid, r in zip(ids, rows, strict=True):
        region = cfg.regions.get(r["region"])
        label = (region.label if region else r["region"]) + ("?" if r["region_guessed"] else "")
        left = format_left(r["seconds_left"]) if r["seconds_left"] is not None else ""
        mark = " ESC" if r["escalated"] else ""
        state = _(STATE_WORDS.get(r["state"] if view == "waiting" else r["status"], "?"))
        print(
            f"{tid:{w}} {state:9} {left:>8}  {sanitize_line(r['client'], 22):22} "
            f"{sanitize_line(label, 14):14} {r['owner']:8} {sanitize_line(r['subject'], 60)}{mark}"
            + _view_note(r)
        )


def ascii_json(value: Any) -> str:
    """JSON indented by 2, every character past ASCII escaped (as `json.dumps` does by
    default): control characters and bidi overrides in email text reach the terminal
    as `\\uXXXX`, never raw. orjson: ~20x faster than `json` on 30k queue rows."""
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    if text.isascii() and "\x7f" not in text:
        return text
    return _NON_ASCII.sub(_escaped, text)


_NON_ASCII = re.compile(r"[^\x00-\x7e]")  # DEL too, as `json.dumps` does


def _escaped(m: re.Match[str]) -> str:
    code = ord(m.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # a UTF-16 surrogate pair, as JSON spells it
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _view_note(row: dict[str, Any]) -> str:
    """What a view beside the queue adds to a line: the wake time or the reason."""
    if row.get("wakes_at"):
        return _("  (back {time})").format(time=row["wakes_at"])
    if row.get("done_reason"):
        reason = reason_label(row["done_reason"])
        return _("  (done: {reason})").format(reason=sanitize_line(reason, 40))
    if row.get("replied_by"):
        return _("  (replied by {name})").format(name=sanitize_line(row["replied_by"], 20))
    return ""
