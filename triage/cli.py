"""The `triage` command: the console, and subcommands for scripts and cron.

`triage` starts the console; `check-config`, `sync`, `queue`, `escalate`,
`reassign` and `reply` use the same Service as the console's keys.
Exit codes: 0 success, 1 the provider failed (offline, auth), 2 bad usage or config.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from triage.clock import Clock, FrozenClock, SystemClock
from triage.config import (
    THEMES,
    Config,
    ConfigError,
    Problem,
    SecretError,
    check_config,
    check_key_actions,
    default_config_path,
    load_config,
)
from triage.domain.model import Conversation
from triage.domain.urgency import state_of
from triage.engine.outbox import ActionError
from triage.providers.base import ProviderError
from triage.service.core import TriageService
from triage.store.cache import CacheError
from triage.store.files import prepare_directory
from triage.text.isotime import iso
from triage.text.sanitize import sanitize_line
from triage.text.timefmt import format_left

START_HELP = """\
no config file at {path}

To look around first, start the console on the embedded demo mailbox:
    triage --demo
To connect to your team mailbox, copy the example config and edit it:
    mkdir -p {dir} && cp config.example.toml {path}
    triage check-config
(or point to another file with --config PATH or TRIAGE_CONFIG)."""


class UsageError(Exception):
    """Bad arguments or config: exit code 2 with the message."""


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="config file (default: XDG config dir)")
    common.add_argument("--demo", action="store_true", help="use the embedded demo mailbox")
    common.add_argument("--as", dest="user", metavar="ID", help="act as this manager (or ceo)")
    p = argparse.ArgumentParser(prog="triage", parents=[common], description=__doc__)
    p.add_argument("--theme", choices=THEMES, help="colour theme (NO_COLOR=1 picks triage-mono)")
    p.add_argument("--view", choices=["queue", "escalations"], default="queue")
    sub = p.add_subparsers(dest="command")
    c = sub.add_parser("check-config", help="validate a config file")
    c.add_argument("path", nargs="?", type=Path)
    sub.add_parser("sync", parents=[common], help="one sync round; print what changed")
    q = sub.add_parser("queue", parents=[common], help="print the queue (works offline)")
    q.add_argument("--json", action="store_true", help="a JSON array (times in ISO 8601 UTC)")
    q.add_argument("--now", help="evaluate time left at this ISO 8601 instant")
    q.add_argument("--sync", action="store_true", help="sync once before printing")
    e = sub.add_parser("escalate", parents=[common], help="escalate a conversation")
    e.add_argument("thread_id")
    e.add_argument("--reason", required=True)
    r = sub.add_parser("reassign", parents=[common], help="give a conversation to another AM")
    r.add_argument("thread_id")
    r.add_argument("--to", required=True, metavar="MANAGER")
    r.add_argument("--reason", required=True)
    r.add_argument("--account", action="store_true", help="also for the client's future mail")
    y = sub.add_parser("reply", parents=[common], help="send a reply from a file")
    y.add_argument("thread_id")
    y.add_argument("--body-file", required=True, metavar="FILE",
                   help="the reply's text (UTF-8); - reads standard input")  # fmt: skip
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    env = dict(os.environ)
    try:
        if args.command == "check-config":
            path = args.path or default_config_path(env)
            code, text = check_config(path, env)
            if code == 0:
                cfg = load_config(path, env=env)
                check_keys(cfg)
                check_team_cache(cfg)
            print(text, file=sys.stdout if code == 0 else sys.stderr)
            return code
        if args.command is None:
            return run_console(args, env)
        return asyncio.run(run_command(args, env))
    except (UsageError, ConfigError, SecretError, CacheError, ActionError) as e:
        print(f"triage: {e}", file=sys.stderr)
        return 2
    except ProviderError as e:
        print(f"triage: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


# -- building the service -----------------------------------------------------------


def open_service(args: argparse.Namespace, env: Mapping[str, str], clock: Clock) -> TriageService:
    """The real service from the config, or the demo one (a fresh private cache each run)."""
    if getattr(args, "demo", False):
        return demo_service(clock, user=args.user)
    path = args.config or default_config_path(env)
    if not path.exists():
        raise UsageError(START_HELP.format(path=path, dir=path.parent))
    cfg = load_config(path, user_override=args.user, env=env)
    return TriageService(cfg, clock, env=env)


class DemoService(TriageService):
    """A service on the embedded demo mailbox, with a private cache removed on close."""

    def __init__(self, clock: Clock, *, user: str | None = None, live: bool = True) -> None:
        from triage.demo.mailbox import DemoMailbox

        self.demo = DemoMailbox(clock, live=live)
        self.demo_dir = Path(tempfile.mkdtemp(prefix="triage-demo-"))
        cfg = dataclasses.replace(self.demo.config, cache_path=self.demo_dir / "cache.json")
        super().__init__(cfg, clock, user=user, provider=self.demo.provider())

    async def close(self) -> None:
        await super().close()
        shutil.rmtree(self.demo_dir, ignore_errors=True)


def demo_service(clock: Clock, *, user: str | None = None, live: bool = True) -> DemoService:
    return DemoService(clock, user=user, live=live)


async def close_service(service: TriageService) -> None:
    await service.close()


# -- subcommands ------------------------------------------------------------------


async def run_command(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    now = _parse_now(getattr(args, "now", None))
    service = open_service(args, env, FrozenClock(now) if now else SystemClock())
    try:
        if args.command != "queue" or args.sync or args.demo:
            result = await service.sync()
            if args.command == "sync":
                print(_describe(result))
        if args.command == "queue":
            _print_queue(service, now or service.now(), as_json=args.json)
        elif args.command == "escalate":
            await service.escalate(args.thread_id, args.reason)
            print(f"escalated {args.thread_id}")
        elif args.command == "reassign":
            await service.reassign(args.thread_id, args.to, args.reason, args.account)
            print(f"reassigned {args.thread_id} to {args.to}")
        elif args.command == "reply":
            code = await _reply(service, args.thread_id, args.body_file)
            await _settle(service)
            return code
        if args.command in ("escalate", "reassign"):
            await _settle(service)
        return 0
    finally:
        await close_service(service)


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
        raise UsageError(f"cannot read {name}: {e.strerror}") from None
    if len(data) > MAX_BODY_BYTES:
        raise UsageError(f"{name} is larger than {MAX_BODY_BYTES:,} bytes: too long for a reply")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UsageError(
            f"{name} is not UTF-8 text (byte {e.start} cannot be read); "
            "save it as UTF-8, e.g. iconv -f latin1 -t utf-8"
        ) from None


async def _reply(service: TriageService, thread_id: str, body_file: str) -> int:
    body = read_body(body_file)
    draft = service.save_draft(thread_id, body)
    sent = await service.send_reply(draft.id)
    if sent.status == "sent":
        print(f"reply sent to {thread_id} (Message-ID <{sent.message_id}>)")
        return 0
    print(f"reply {sent.status}: {sent.error}; kept in the outbox, sent on the next sync")
    return 1


def _describe(result: Any) -> str:
    kind = "full sync" if result.full else "incremental sync"
    parts = f"{len(result.added)} new, {len(result.updated)} updated, {len(result.removed)} removed"
    flushed = f", {result.flushed} queued actions sent" if result.flushed else ""
    return f"{kind}: {parts}{flushed}"


def _parse_now(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--now: not an ISO 8601 instant: {text!r}") from None
    if at.tzinfo is None:
        raise UsageError("--now needs a time zone, e.g. 2026-11-26T15:00:00Z")
    if not 1970 <= at.year <= 9000:  # the calendar counts days either side of it
        raise UsageError(f"--now: {text!r} is outside the years 1970 to 9000")
    return at.astimezone(UTC)


def queue_rows(service: TriageService, now: datetime) -> list[dict[str, Any]]:
    """The queue as the console sorts it, as JSON-ready objects."""
    at_risk = timedelta(minutes=service.config.agency.at_risk_minutes)
    escalated = {c.thread_id: c for c in service.escalations(now)}
    return [_row(c, escalated.get(c.thread_id), now, at_risk) for c in service.queue_view()]


def _row(
    c: Conversation, esc: Conversation | None, now: datetime, at_risk: timedelta
) -> dict[str, Any]:
    left = c.seconds_left(now)
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
        "deadline": iso(c.deadline) if c.deadline else None,
        "seconds_left": round(left) if left is not None else None,
        "state": state_of(c, now, at_risk).value,
        "escalated": esc is not None,
        "escalation_reason": esc.escalation_reason if esc else "",
        "ceo_contacted": c.ceo_contacted,
    }


def _print_queue(service: TriageService, now: datetime, *, as_json: bool) -> None:
    rows = queue_rows(service, now)
    if as_json:
        print(json.dumps(rows, indent=2))  # ensure_ascii: control characters are escaped
        return
    cfg = service.config
    print(f"{'STATE':9} {'LEFT':>8}  {'CLIENT':22} {'REGION':14} {'OWNER':8} SUBJECT")
    for r in rows:
        region = cfg.regions.get(r["region"])
        label = (region.label if region else r["region"]) + ("?" if r["region_guessed"] else "")
        left = format_left(r["seconds_left"]) if r["seconds_left"] is not None else ""
        mark = " ESC" if r["escalated"] else ""
        print(
            f"{r['state']:9} {left:>8}  {sanitize_line(r['client'], 22):22} "
            f"{sanitize_line(label, 14):14} {r['owner']:8} {sanitize_line(r['subject'], 60)}{mark}"
        )


# -- the console ------------------------------------------------------------------


def check_keys(cfg: Config) -> None:
    """A [keys] entry naming no console action is a config mistake, not a silent no-op."""
    if not cfg.keys:
        return
    from triage.ui.keys import remappable

    problems = check_key_actions(cfg, remappable())
    if problems:
        raise ConfigError(problems)


def check_team_cache(cfg: Config) -> None:
    """A team cache's directory must exist, be the team's and closed to others."""
    if not cfg.cache_shared:
        return
    try:
        prepare_directory(cfg.cache_path.parent, shared=True)
    except CacheError as e:
        raise ConfigError([Problem(str(cfg.path), "cache.shared", str(e))]) from None


def run_console(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    service = open_service(args, env, SystemClock())
    cfg: Config = service.config
    check_keys(cfg)
    from triage.ui.app import TriageApp  # textual is imported only for the console

    theme = args.theme or cfg.theme
    app = TriageApp(service, theme=theme, start_view=args.view, keymap=dict(cfg.keys))
    try:
        app.run()
    finally:
        asyncio.run(close_service(service))
    return 0


if __name__ == "__main__":
    sys.exit(main())
