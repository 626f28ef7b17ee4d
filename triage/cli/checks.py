"""`triage check-config`: everything a config needs before triage can run on it.

The loader's problems (every wrong key, named with its fix), then what only a
run would find otherwise: the provider's secret, the `[keys]` remaps (actions
that exist, keys that exist, no key doing two things on one screen) and a team
cache's directory. Problems exit 2; warnings (a token file not made yet at the
example's path) are printed and exit 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from triage.config import Config, ConfigCheck, ConfigError, Problem, check_config, summary
from triage.store.cache import CacheError
from triage.store.files import prepare_directory
from triage.text.i18n import _, ngettext


def check_file(path: Path, env: Mapping[str, str], user: str | None = None) -> ConfigCheck:
    check = check_config(path, env, user_override=user)
    if check.config is not None:
        check.problems.extend(key_problems(check.config))
        check.problems.extend(team_cache_problems(check.config))
    return check


def report(check: ConfigCheck) -> tuple[int, str, str]:
    """(exit code, standard output, standard error) for a finished check."""
    warnings = "".join(_("warning: {warning}").format(warning=w) + "\n" for w in check.warnings)
    if check.problems or check.config is None:
        return 2, "", "".join(f"{p}\n" for p in check.problems) + warnings
    head = summary(check.config)
    if check.warnings:
        n = len(check.warnings)
        head += ngettext(" ({n} warning)", " ({n} warnings)", n).format(n=n)
    return 0, head + "\n", warnings


def key_problems(cfg: Config) -> list[Problem]:
    """[keys] entries naming no action, naming no key, or taking another action's key."""
    if not cfg.keys:
        return []
    from triage.ui.keycheck import keymap_problems  # the console owns its actions and keys

    file = str(cfg.path) if cfg.path else "config"
    return [Problem(file, f"keys.{action}", why) for action, why in keymap_problems(cfg.keys)]


def team_cache_problems(cfg: Config) -> list[Problem]:
    """A team cache's directory must exist, be the team's and closed to others."""
    if not cfg.cache_shared:
        return []
    try:
        prepare_directory(cfg.cache_path.parent, shared=True)
    except CacheError as e:
        return [Problem(str(cfg.path), "cache.shared", str(e))]
    return []


def require_keys(cfg: Config) -> None:
    """The console refuses to start on a [keys] mistake (it would be a silent no-op)."""
    problems = key_problems(cfg)
    if problems:
        raise ConfigError(problems)
