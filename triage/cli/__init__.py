"""The `triage` command: the console, and subcommands for scripts and cron.

`triage` starts the console; `check-config`, `sync`, `queue`, `escalate`,
`reassign`, `reply`, `away` and `watch` use the same Service as the console's keys. `--config`,
`--as` and `--demo` work before or after the subcommand.
Exit codes: 0 success, 1 the provider failed (offline, auth), 2 bad usage or config.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from triage.cli import completion, doctor, watch
from triage.cli.argwords import translate_argparse
from triage.cli.checks import check_file, report
from triage.cli.commands import queue_rows, read_body, run_command
from triage.cli.console import run_console
from triage.cli.demo import DemoService, demo_service
from triage.cli.start import UsageError
from triage.clock import SystemClock
from triage.config import THEMES, ConfigError, SecretError, default_config_path, load_config
from triage.domain.views import VIEWS
from triage.engine.outbox import ActionError
from triage.providers.base import ProviderError, login
from triage.service.core import TriageService
from triage.store.cache import CacheError
from triage.text.i18n import LANGUAGES, N_, _, language_from_env, set_language

__all__ = ["DemoService", "build_parser", "close_service", "demo_service", "main",
           "queue_rows", "read_body"]  # fmt: skip

CONSOLE_ONLY = ("theme", "view")  # options of the console, meaningless to a subcommand


DESCRIPTION = N_("""\
The `triage` command: the console, and subcommands for scripts and cron.

`triage` starts the console; `check-config`, `sync`, `queue`, `escalate`,
`reassign` and `reply` use the same Service as the console's keys. `--config`,
`--as` and `--demo` work before or after the subcommand.
Exit codes: 0 success, 1 the provider failed (offline, auth), 2 bad usage or config.
""")


def _common(p: argparse.ArgumentParser, *, top: bool) -> None:
    """The options every command takes. After a subcommand they default to "not
    given" (SUPPRESS), so they never overwrite the same option given before it."""
    unset: Any = argparse.SUPPRESS
    p.add_argument(
        "--config",
        type=Path,
        default=None if top else unset,
        help=_("config file (default: XDG config dir)"),
    )
    p.add_argument(
        "--demo",
        action="store_true",
        default=False if top else unset,
        help=_("use the embedded demo mailbox"),
    )
    p.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=None if top else unset,
        help=_("the language: en or fr (default: [user] language, else $LANG)"),
    )
    p.add_argument("--as", dest="user", metavar="ID", default=None if top else unset,
                   help=_("act as this manager (or ceo)"))  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="triage", description=_(DESCRIPTION),
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    _common(p, top=True)
    p.add_argument("--theme", choices=THEMES, help=_("colour theme (NO_COLOR=1 picks triage-mono)"))
    p.add_argument("--view", choices=["queue", "escalations"], help=_("the first screen"))
    p.add_argument("--version", action="version", version=version_line(),
                   help=_("print the version and the provider kinds it supports"))  # fmt: skip
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=help, description=help)
        _common(c, top=False)
        return c

    command("login", _("sign in to the provider (Microsoft 365, Google) and keep the token"))
    c = command("check-config", _("validate a config file (or the demo's, with --demo)"))
    c.add_argument("path", nargs="?", type=Path, help=_("the config file (as --config)"))
    command("sync", _("one sync round; print what changed"))
    q = command("queue", _("print the queue (works offline)"))
    q.add_argument("--json", action="store_true", help=_("a JSON array (times in ISO 8601 UTC)"))
    q.add_argument("--now", help=_("evaluate time left at this ISO 8601 instant"))
    q.add_argument("--sync", action="store_true", help=_("sync once before printing"))
    q.add_argument("--view", dest="list_view", choices=VIEWS, default="waiting",
                   help=_("the waiting queue (default) or another view"))  # fmt: skip
    x = command("explain", _("one conversation's deadline in words: arrival, clock, target, due"))
    x.add_argument("thread_id")
    x.add_argument("--json", action="store_true", help=_("a JSON object (times in ISO 8601)"))
    x.add_argument("--now", help=_("evaluate time left at this ISO 8601 instant"))
    x.add_argument("--sync", action="store_true", help=_("sync once before explaining"))
    _report_command(command)
    e = command("escalate", _("escalate a conversation"))
    e.add_argument("thread_id")
    e.add_argument("--reason", required=True)
    r = command("reassign", _("give a conversation to another AM"))
    r.add_argument("thread_id")
    r.add_argument("--to", required=True, metavar="MANAGER")
    r.add_argument("--reason", required=True)
    r.add_argument("--account", action="store_true", help=_("also for the client's future mail"))
    _workflow_commands(command)
    y = command("reply", _("send a reply from a file or a template (signed as in the console)"))
    y.add_argument("thread_id")
    body = y.add_mutually_exclusive_group(required=True)
    body.add_argument("--body-file", metavar="FILE",
                      help=_("the reply's text (UTF-8); - reads standard input"))  # fmt: skip
    body.add_argument(
        "--template",
        metavar="NAME",
        help=_("a [templates.NAME] of the config, its placeholders filled"),
    )
    watch.add_parsers(command)
    doctor.add_parser(command)
    completion.add_parser(sub)
    return p


def version_line() -> str:
    """`triage --version`: the installed version and the provider kinds a config can name."""
    from importlib.metadata import PackageNotFoundError, version

    from triage.config.provider import KINDS

    try:
        number = version("triage")
    except PackageNotFoundError:  # run from a checkout that was never installed
        from triage import __version__ as number
    return f"triage {number} (providers: {', '.join(KINDS)})"  # i18n: not text


def _workflow_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """done, reopen, snooze, wake, deescalate: the workflow from the shell."""
    d = command("done", _("no reply needed: out of the queue until the client writes again"))
    d.add_argument("thread_id")
    d.add_argument("--reason", default="", help=_("why (default: no reply needed)"))
    command("reopen", _("undo done: back in the queue on its own clock")).add_argument("thread_id")
    z = command("snooze", _("out of the queue until a time (or until at risk)"))
    z.add_argument("thread_id")
    z.add_argument(
        "--until",
        required=True,
        metavar="WHEN",
        help=_("'tomorrow 9:00', 'mon 9:00' (client's time), '2h', ISO 8601"),
    )
    command("wake", _("end a snooze now")).add_argument("thread_id")
    x = command("deescalate", _("take an escalation back, with a reason"))
    x.add_argument("thread_id")
    x.add_argument("--reason", required=True)


def _report_command(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """`triage report`'s options: the period, the grouping, the format."""
    rp = command("report", _("the CEO's report: replies, on time, reply times, breaches"))
    rp.add_argument("--days", type=int, help=_("the last N days (default 7)"))
    rp.add_argument("--from", dest="since", metavar="DATE", help=_("first day (UTC), with --to"))
    rp.add_argument("--to", dest="until", metavar="DATE", help=_("last day (UTC), included"))
    rp.add_argument("--by", choices=["manager", "region", "client"], default="manager")
    out = rp.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help=_("a JSON array"))
    out.add_argument("--csv", action="store_true", help=_("CSV with a header row"))
    rp.add_argument("--now", help=_("the end of --days at this ISO 8601 instant"))


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The arguments, with every combination that would be ignored refused instead."""
    args = build_parser().parse_args(argv)
    if args.command == "completion":
        given = [o for o, v in (("--config", args.config), ("--demo", args.demo),
                                ("--as", args.user)) if v]  # fmt: skip
        if given:
            raise UsageError(
                _("{given} means nothing to `triage completion`").format(given=given[0])
            )
    if args.command:
        given = [f"--{o}" for o in CONSOLE_ONLY if getattr(args, o) is not None]
        if given:
            raise UsageError(_("{given} is an option of the console (`triage {given} ...`); "
                               "`triage {command}` has no screen to show").format(
                                   given=given[0], command=args.command))  # fmt: skip
    if args.user is not None and not args.user.strip():
        raise UsageError(_("--as needs a manager id from the config (or ceo)"))
    if args.demo and args.config:
        raise UsageError(
            _(
                "--demo and --config both name the mailbox to use: give one of them "
                '(a config with kind = "demo" runs the demo on your own setup)'
            )
        )
    if args.command == "check-config" and args.path:
        if args.demo or (args.config and args.config != args.path):
            raise UsageError(_("check-config: give the file once, as PATH or as --config PATH"))
        args.config = args.path
    return args


def lang_from_argv(argv: Sequence[str]) -> str | None:
    """`--lang fr` or `--lang=fr`, read before the parser is built (its help is translated)."""
    for i, word in enumerate(argv):
        if word == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if word.startswith("--lang="):
            return word.partition("=")[2]
    return None


def main(argv: Sequence[str] | None = None) -> int:
    env = dict(os.environ)
    set_language(lang_from_argv(sys.argv[1:] if argv is None else argv) or language_from_env(env))
    translate_argparse()
    try:
        args = parse(argv)
        if getattr(args, "json", False):
            set_language("en")  # JSON is for programs: its words stay English too
        if args.command == "check-config":
            code = check_config_command(args, env)
        elif args.command == "doctor":
            code = doctor_command(args, env)
        elif args.command == "completion":
            code = completion_command(args, env)
        elif args.command == "login":
            code = asyncio.run(login_command(args, env))
        elif args.command == "watch":
            code = asyncio.run(watch.watch_command(args, env))
        elif args.command == "away":
            code = asyncio.run(watch.away_command(args, env))
        elif args.command is None:
            code = run_console(args, env)
        else:
            code = asyncio.run(run_command(args, env))
        sys.stdout.flush()  # here, where a closed pipe is caught, not at exit
        return code
    except (UsageError, ConfigError, SecretError, CacheError, ActionError) as e:
        print(_("triage: {error}").format(error=e), file=sys.stderr)
        return 2
    except ProviderError as e:
        print(_("triage: {error}").format(error=e), file=sys.stderr)
        return 1
    except BrokenPipeError:
        return _reader_went_away()
    except KeyboardInterrupt:
        return 130


def completion_command(args: argparse.Namespace, env: dict[str, str]) -> int:
    try:
        code, out = completion.completion_command(args, env, build_parser())
    except ValueError as e:
        raise UsageError(str(e)) from None
    sys.stdout.write(out)
    return code


def doctor_command(args: argparse.Namespace, env: dict[str, str]) -> int:
    code, out = asyncio.run(doctor.doctor_command(args, env, SystemClock()))
    sys.stdout.write(out)
    return code


def check_config_command(args: argparse.Namespace, env: dict[str, str]) -> int:
    if args.demo:
        from triage.demo.mailbox import DEMO_CONFIG

        path, env = DEMO_CONFIG, {}
    else:
        path = args.config or default_config_path(env)
    code, out, err = report(check_file(path, env, args.user))
    sys.stdout.write(out)
    sys.stderr.write(err)
    return code


async def login_command(args: argparse.Namespace, env: dict[str, str]) -> int:
    if args.demo:
        raise UsageError(_("the demo needs no sign-in: `triage --demo` starts it"))
    path = args.config or default_config_path(env)
    cfg = load_config(path, user_override=args.user, env=env)
    if cfg.provider.auth != "oauth":
        raise UsageError(
            _(
                "{path}: provider.auth is {auth!r}: there is nothing to sign in to, the secret "
                'is read from token_file or token_env (auth = "oauth" uses triage login)'
            ).format(path=path, auth=cfg.provider.auth)
        )
    await login(cfg.provider, env=env, clock=SystemClock(), say=print)
    return 0


def _reader_went_away() -> int:
    """`triage queue | head`: the reader closed the pipe. Stop quietly, as `yes | head`
    does; point stdout at /dev/null so the interpreter's last flush cannot fail too."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 141  # 128 + SIGPIPE, what a shell reports for a command that met a closed pipe


async def close_service(service: TriageService) -> None:
    await service.close()
