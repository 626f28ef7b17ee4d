"""`triage watch` (nudges by email for people away from the console) and `triage away`.

`watch` is a long-lived service: a round (sync, then send the nudges due now), then
a wait of `--interval` seconds, until SIGTERM or SIGINT ends it cleanly between
rounds (a round in progress finishes first). `watch --once [--now T]` is one round,
for cron and tests. Any number of watchers may run on one mailbox (several servers,
cron and a console): each nudge goes out once (`triage.engine.nudges`). A round the
provider fails is reported on stderr and retried at the next one; `--once` then
exits 1.

`away ID --until WHEN [--backup ID]` records an absence on the provider (every
console and watcher sees it); `away ID --back` ends it. WHEN is read in the
manager's own time zone ('fri 18:00', 'tomorrow 9:00', '3d', ISO 8601).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Mapping
from datetime import UTC
from zoneinfo import ZoneInfo

from triage.cli.commands import _parse_now
from triage.cli.start import UsageError, open_service
from triage.clock import FrozenClock, SystemClock
from triage.domain.when import parse_when
from triage.engine.nudges import NudgeRound
from triage.providers.base import ProviderError
from triage.service.core import TriageService
from triage.text.datefmt import full_date_time
from triage.text.i18n import _
from triage.text.isotime import iso


def add_parsers(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    w = command("watch", _("send nudges by email as conversations become at risk or breach"))
    w.add_argument("--once", action="store_true", help=_("one round, then exit (for cron)"))
    w.add_argument("--now", help=_("with --once: the round at this ISO 8601 instant"))
    w.add_argument(
        "--interval",
        type=float,
        metavar="SECONDS",
        help=_("seconds between rounds (default: [alerts] watch_seconds, 60)"),
    )
    a = command("away", _("mark a manager away (their alerts go to a backup), or back"))
    a.add_argument("manager", metavar="ID")
    when = a.add_mutually_exclusive_group(required=True)
    until = _("'fri 18:00', 'tomorrow 9:00' (their time), '3d', ISO 8601")
    when.add_argument("--until", metavar="WHEN", help=until)
    when.add_argument("--back", action="store_true", help=_("the manager is back"))
    a.add_argument(
        "--backup",
        metavar="ID",
        help=_("who takes their alerts (default: the least-loaded qualified colleague)"),
    )


async def watch_command(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    if args.now and not args.once:
        raise UsageError(_("--now goes with --once (a long-lived watch runs on the real clock)"))
    if args.interval is not None and args.interval <= 0:
        raise UsageError(_("--interval: a number of seconds above 0"))
    now = _parse_now(args.now)
    service = open_service(args, env, FrozenClock(now) if now else SystemClock())
    try:
        alerts = service.config.alerts
        if not alerts.email:
            where = service.config.path or _("the config")
            raise UsageError(_("{where}: alerts.email is false, so there is nothing to watch "
                               "for: set [alerts] email = true to send nudges").format(
                                   where=where))  # fmt: skip
        if args.once:
            return 0 if await _round(service) else 1
        await _serve(service, args.interval or alerts.watch_seconds)
        return 0
    finally:
        await service.close()


async def _round(service: TriageService) -> bool:
    """One round, told on stdout (one line a nudge sent); False when something failed."""
    try:
        done = await service.watch_round()
    except ProviderError as e:
        print(_("triage watch: {error} (tried again at the next round)").format(error=e),
              file=sys.stderr)  # fmt: skip
        return False
    _tell(done)
    return not done.problems


def _tell(done: NudgeRound) -> None:
    for n in done.sent:
        print(_("nudged {recipient} ({to}): {step} {thread_id}").format(
            recipient=n.recipient, to=n.to, step=_(n.step.value), thread_id=n.thread_id
        ), flush=True)  # fmt: skip
    for problem in done.problems:
        print(_("triage watch: {problem}").format(problem=problem), file=sys.stderr, flush=True)


async def _serve(service: TriageService, interval: float) -> None:
    """Rounds until SIGTERM or SIGINT (either ends the wait at once, not a round)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(_("triage watch: every {interval} s as {user}; SIGTERM or Ctrl+C stops").format(
        interval=f"{interval:g}", user=service.user), flush=True)  # fmt: skip
    try:
        while not stop.is_set():
            await _round(service)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    print(_("triage watch: stopped"), flush=True)


async def away_command(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    service = open_service(args, env, SystemClock())
    try:
        await service.sync()
        manager = service.config.managers.get(args.manager)
        if manager is None:
            known = ", ".join(sorted(service.config.managers))
            raise UsageError(_("no manager {manager!r} in the config (known: {known})").format(
                manager=args.manager, known=known))  # fmt: skip
        if args.back:
            await service.set_away(manager.id, None)
            print(_("{manager} is back: their alerts and nudges are theirs again").format(
                manager=manager.id))  # fmt: skip
            return 0
        zone = ZoneInfo(manager.timezone) if manager.timezone else UTC
        try:
            until = parse_when(args.until, service.now(), zone)
        except ValueError as e:
            raise UsageError(_("--until: {e}").format(e=e)) from None
        await service.set_away(manager.id, until, args.backup or "")
        who = args.backup or _("the least-loaded qualified colleague on shift")
        local = full_date_time(until.astimezone(zone))
        print(_("{manager} is away until {local} ({iso}); their alerts go to {who}").format(
            manager=manager.id, local=local, iso=iso(until), who=who))  # fmt: skip
        return 0
    finally:
        await service.close()
