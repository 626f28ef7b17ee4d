"""`triage doctor`'s checks of this machine: the secret's files, the cache directory, the terminal.

Each returns a `Check`; none prints, and none ever puts a secret in what it says
(the secret itself is only held to blank it out of every message, see `doctor`).
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from triage.config import Config, SecretError, check_secret_file, read_secret
from triage.store.cache import CacheError
from triage.store.files import prepare_directory
from triage.text.i18n import _

Status = Literal["ok", "warn", "fail", "skip"]
MIN_SIZE = (80, 24)


@dataclass(frozen=True)
class Check:
    """One line of the report: which check, how it went, what was found (and the fix)."""

    name: str
    status: Status
    detail: str


def secret_check(cfg: Config, env: Mapping[str, str]) -> tuple[Check, str]:
    """The provider's secret files: there, yours, closed to others; (check, the secret or "")."""
    p = cfg.provider
    if p.kind == "demo":
        return Check("secret", "skip", _("the demo needs no secret")), ""
    try:
        if p.auth == "oauth":
            return _login_store(p.token_file, p.client_secret_file), ""
        if p.auth == "service_account" and p.key_file is not None:
            check_secret_file(p.key_file)
            return Check(
                "secret",
                "ok",
                _("key file {key_file}: {owned}").format(
                    key_file=p.key_file, owned=_owned(p.key_file)
                ),
            ), ""
        secret = read_secret(p, env)
    except SecretError as e:
        return Check("secret", "fail", str(e)), ""
    if p.token_env and env.get(p.token_env):
        return Check(
            "secret", "ok", _("read from ${token_env} (not shown)").format(token_env=p.token_env)
        ), secret
    return Check(
        "secret",
        "ok",
        _("token file {token_file}: {owned}").format(
            token_file=p.token_file, owned=_owned(p.token_file)
        ),
    ), secret


def _login_store(store: Path | None, client_file: Path | None) -> Check:
    """An OAuth sign-in: the client's file there (not secret for a Desktop client, Google
    says) and the token store `triage login` keeps, owner-only."""
    if client_file is not None and not client_file.is_file():
        return Check(
            "secret",
            "fail",
            _("provider.client_secret_file: no such file {client_file}").format(
                client_file=client_file
            ),
        )
    if store is None or not store.exists():
        return Check(
            "secret",
            "fail",
            _("no sign-in kept yet ({store}): run `triage login`").format(store=store),
        )
    check_secret_file(store)
    return Check(
        "secret",
        "ok",
        _("sign-in kept in {store}: {owned}").format(store=store, owned=_owned(store)),
    )


def _owned(path: Path | None) -> str:
    mode = stat.S_IMODE(os.stat(path).st_mode) if path else 0
    return _("yours, mode {mode:04o}").format(mode=mode)


def cache_check(cfg: Config, *, demo_temporary: bool) -> Check:
    """The cache directory (and the cache file, if there): owned and closed as the store
    demands. A directory not made yet is fine: the first run creates it 0700."""
    if demo_temporary:
        return Check("cache", "skip", _("the demo's cache is a private temporary directory"))
    directory = cfg.cache_path.parent
    if not cfg.cache_shared and not os.path.lexists(directory):
        return Check(
            "cache",
            "ok",
            _("{directory} is made (0700) on the first sync").format(directory=directory),
        )
    try:
        group = prepare_directory(directory, cfg.cache_shared)
        if os.path.lexists(cfg.cache_path):
            from triage.store.files import check_file

            check_file(cfg.cache_path, group)
    except CacheError as e:
        return Check("cache", "fail", str(e))
    mode = stat.S_IMODE(os.stat(directory).st_mode)
    kind = "team cache" if cfg.cache_shared else "yours"
    return Check(
        "cache",
        "ok",
        _("{directory}: {kind}, mode {mode:04o}").format(directory=directory, kind=kind, mode=mode),
    )


@dataclass(frozen=True)
class Terminal:
    """What the console will meet: a terminal at all, its TERM, size, encoding, colours."""

    is_tty: bool
    term: str
    size: tuple[int, int]
    encoding: str
    colours: str  # "truecolor", "256", "NO_COLOR", ""

    @classmethod
    def here(cls, env: Mapping[str, str]) -> Terminal:
        fds = [fd for fd in (1, 2, 0) if os.isatty(fd)]
        size = os.get_terminal_size(fds[0]) if fds else os.terminal_size((0, 0))
        colours = ("NO_COLOR" if env.get("NO_COLOR") else
                   "truecolor" if env.get("COLORTERM") in ("truecolor", "24bit") else
                   "256" if "256color" in env.get("TERM", "") else "")  # fmt: skip
        encoding = sys.stdout.encoding or ""
        return cls(bool(fds), env.get("TERM", ""), (size.columns, size.lines), encoding, colours)


def terminal_check(t: Terminal) -> Check:
    if not t.is_tty:
        return Check("terminal", "skip", _("not run from a terminal: run `triage doctor` in the "
                                         "terminal the console will use"))  # fmt: skip
    if t.term in ("", "dumb"):
        why = _("TERM={term!r} cannot draw the console: set TERM (for example xterm-256color)")
        return Check("terminal", "fail", why.format(term=t.term))
    cols, rows = t.size
    if cols < MIN_SIZE[0] or rows < MIN_SIZE[1]:
        least = "x".join(map(str, MIN_SIZE))
        return Check("terminal", "fail", _("{cols}x{rows} is smaller than the console's {least}: "
                                           "enlarge the window").format(
                                               cols=cols, rows=rows, least=least))  # fmt: skip
    named = {"NO_COLOR": "NO_COLOR: the monochrome theme", "truecolor": "true colour",
             "256": "256 colours"}  # fmt: skip
    colours = named.get(t.colours, "few colours: glyphs mark the rows")
    found = f"TERM={t.term}, {cols}x{rows}, {t.encoding or 'no encoding'}, {colours}"
    if t.encoding.replace("-", "").lower() != "utf8":
        return Check("terminal", "warn", _("{found}: the row glyphs need UTF-8: "
                                           "set LANG=C.UTF-8").format(found=found))  # fmt: skip
    return Check("terminal", "ok", found)
