"""`triage doctor [--json]`: is this setup ready? Every check, each with what it found and the fix.

The config, the secret's files, the cache directory, the terminal, then the
provider: reachable, credentials accepted, the watched mailbox found, the rights
triage needs there, and the provider's clock (its Date header) against this
machine's. A check that cannot run because an earlier one failed says so
("skip"). Exit codes as every command's: 2 something here to fix (config,
secret, cache, terminal), 1 the provider or the clock, 0 ready (warnings allowed).
No secret is ever printed: besides no message holding one, the secret read is
blanked out of every line before it is shown.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path

from triage.cli.checks import require_keys
from triage.cli.doctor_local import (
    Check,
    Status,
    Terminal,
    cache_check,
    secret_check,
    terminal_check,
)
from triage.clock import Clock
from triage.config import Config, ConfigError, Problem, default_config_path, load_config
from triage.providers.base import AuthError, OfflineError, Provider, ProviderError, open_provider
from triage.providers.health import Diagnosable, Health
from triage.text.i18n import N_, _

LOCAL = ("config", "secret", "cache", "terminal")
REMOTE = ("reachable", "credentials", "mailbox", "permissions", "clock")
# The text report's words for the checks and their outcomes (the JSON keeps the ids).
CHECK_NAMES = {"config": N_("config"), "secret": N_("secret"), "cache": N_("cache"),
               "terminal": N_("terminal"), "reachable": N_("reachable"),
               "credentials": N_("credentials"), "mailbox": N_("mailbox"),
               "permissions": N_("permissions"), "clock": N_("clock")}  # fmt: skip
STATUS_WORDS = {"ok": N_("OK"), "warn": N_("WARN"), "fail": N_("FAIL"), "skip": N_("SKIP")}
SKEW_WARN = timedelta(seconds=10)
SKEW_FAIL = timedelta(seconds=60)
Opener = Callable[[Config], Provider]


def add_parser(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    d = command("doctor", _("check this setup: config, secret, cache, terminal, provider, clock"))
    d.add_argument(
        "--json", action="store_true", help=_("a JSON object: every check, the exit code")
    )


def exit_code(checks: list[Check]) -> int:
    failed = {c.name for c in checks if c.status == "fail"}
    return 2 if failed & set(LOCAL) else 1 if failed else 0


async def diagnose(
    path: Path, env: Mapping[str, str], clock: Clock, terminal: Terminal, *,
    demo: bool = False, user: str | None = None, opener: Opener | None = None,
) -> list[Check]:  # fmt: skip
    """Every check, in order; `opener` builds the provider (tests give one on another clock)."""
    checks = [terminal_check(terminal)]
    try:
        cfg = _load(path, env, demo, user)
    except ConfigError as e:
        problems = "; ".join(str(p) for p in e.problems)
        skipped = _skipped(("secret", "cache"), "config")
        return [Check("config", "fail", problems), *skipped, *checks, *_skipped(REMOTE, "config")]
    from triage.config import summary

    secret, value = secret_check(cfg, env)
    checks = [Check("config", "ok", summary(cfg)), secret,
              cache_check(cfg, demo_temporary=demo), *checks]  # fmt: skip
    if secret.status == "fail":
        return _blank([*checks, *_skipped(REMOTE, "secret")], value)
    remote = await provider_checks(cfg, env, clock, opener or _opener(env, clock))
    return _blank([*checks, *remote], value)


def _load(path: Path, env: Mapping[str, str], demo: bool, user: str | None) -> Config:
    """The config as the console would load it, its [keys] checked too (ConfigError)."""
    if demo:
        from triage.demo.mailbox import DEMO_CONFIG

        path, env = DEMO_CONFIG, {}
    elif not path.exists():
        why = "no such file: `triage --demo` needs none; config.example.toml shows one"
        raise ConfigError([Problem(str(path), "config", why)])
    cfg = load_config(path, user_override=user, env=env)
    require_keys(cfg)
    return cfg


def _opener(env: Mapping[str, str], clock: Clock) -> Opener:
    def open_it(cfg: Config) -> Provider:
        if cfg.provider.kind == "demo":
            from triage.demo.mailbox import DemoMailbox

            return DemoMailbox(clock, live=False, config=cfg).provider()
        return open_provider(cfg.provider, env=env, clock=clock)

    return open_it


def _skipped(names: tuple[str, ...], after: str) -> list[Check]:
    return [
        Check(n, "skip", _("not checked: the {after} check failed").format(after=after))
        for n in names
    ]


def _blank(checks: list[Check], secret: str) -> list[Check]:
    if not secret:
        return checks
    return [Check(c.name, c.status, c.detail.replace(secret, "***")) for c in checks]


async def provider_checks(
    cfg: Config, env: Mapping[str, str], clock: Clock, opener: Opener
) -> list[Check]:
    """Connect (and ask for its health where the provider can tell): what each step found."""
    where = cfg.provider.session_url or cfg.provider.api_url or cfg.provider.kind
    try:
        provider = opener(cfg)
    except ProviderError as e:
        return [Check("reachable", "fail", str(e)), *_skipped(REMOTE[1:], "reachable")]
    try:
        health = await _health(provider)
    except OfflineError as e:
        return [Check("reachable", "fail", str(e)), *_skipped(REMOTE[1:], "reachable")]
    except AuthError as e:
        reached = Check("reachable", "ok", _("{where} answered").format(where=where))
        return [reached, Check("credentials", "fail", str(e)), *_skipped(REMOTE[2:], "credentials")]
    except ProviderError as e:
        signed_in = [
            Check("reachable", "ok", _("{where} answered").format(where=where)),
            _accepted(cfg),
        ]
        return [*signed_in, Check("mailbox", "fail", str(e)), *_skipped(REMOTE[3:], "mailbox")]
    finally:
        await provider.aclose()
    return [Check("reachable", "ok", _("{where} answered").format(where=where)), _accepted(cfg),
            *_health_checks(cfg, health, clock)]  # fmt: skip


async def _health(provider: Provider) -> Health | None:
    if isinstance(provider, Diagnosable):
        return await provider.health()
    await provider.connect()
    return None


def _accepted(cfg: Config) -> Check:
    who = cfg.provider.username or cfg.provider.user if cfg.provider.kind != "demo" else "demo"
    return Check(
        "credentials",
        "ok",
        _("accepted ({auth}{value})").format(
            auth=cfg.provider.auth, value=", " + who if who else ""
        ),
    )


def _health_checks(cfg: Config, health: Health | None, clock: Clock) -> list[Check]:
    if health is None:
        why = f"not checked: the {cfg.provider.kind} provider does not report it"
        return [Check("mailbox", "ok", "connected"), Check("permissions", "skip", why),
                Check("clock", "skip", why)]  # fmt: skip
    mailbox = Check(
        "mailbox", "ok", _("{mailbox!r} found (provider.mailbox)").format(mailbox=health.mailbox)
    )
    if health.missing:
        rights = Check("permissions", "fail", _("triage may not ") + "; nor ".join(health.missing)
                       + _(": ask the mailbox's administrator for these rights"))  # fmt: skip
    else:
        rights = Check("permissions", "ok", _("read, mark, file notes and send"))
    return [mailbox, rights, clock_check(health.server_time, health.local_time or clock.now())]


def clock_check(server: datetime | None, local: datetime) -> Check:
    """This machine's clock against the provider's: deadlines and countdowns are only as
    right as the clock they are read from."""
    if server is None:
        return Check("clock", "skip", _("the provider's answers carry no Date header"))
    skew = local - server
    size = abs(skew)
    words = f"{_span(size)} {'ahead of' if skew > timedelta(0) else 'behind'} the provider's"
    if size <= SKEW_WARN:
        return Check(
            "clock",
            "ok",
            _("within {seconds} s of the provider's").format(seconds=SKEW_WARN.seconds),
        )
    fix = ": countdowns and breaches would be off by that much; sync it (timedatectl set-ntp true)"
    status: Status = "fail" if size > SKEW_FAIL else "warn"
    return Check(
        "clock", status, _("this machine's clock is {words}{fix}").format(words=words, fix=fix)
    )


def _span(d: timedelta) -> str:
    seconds = int(d.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"  # i18n: not text
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"  # i18n: not text


def render(path: Path, checks: list[Check], *, as_json: bool) -> str:
    code = exit_code(checks)
    if as_json:
        rows = [{"check": c.name, "status": c.status, "detail": c.detail} for c in checks]
        return json.dumps({"config": str(path), "exit": code, "checks": rows}, indent=2) + "\n"
    lines = [f"triage doctor: {path}"]
    lines += [f"  {_(STATUS_WORDS[c.status]):<5} {_(CHECK_NAMES[c.name]):<12} {c.detail}"
              for c in checks]  # fmt: skip
    verdict = {0: _("ready"), 1: _("the provider or the clock needs fixing (exit 1)"),
               2: _("this setup needs fixing (exit 2)")}[code]  # fmt: skip
    return "\n".join([*lines, verdict]) + "\n"


async def doctor_command(
    args: argparse.Namespace, env: Mapping[str, str], clock: Clock
) -> tuple[int, str]:
    """(exit code, the report) for `triage doctor`."""
    demo = bool(args.demo)
    path = Path("(the bundled demo)") if demo else args.config or default_config_path(env)
    terminal = Terminal.here(env)
    checks = await diagnose(path, env, clock, terminal, demo=demo, user=args.user)
    return exit_code(checks), render(path, checks, as_json=args.json)
