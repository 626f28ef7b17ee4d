"""Paths in the config: what `~`, `$VAR` and relative paths mean, and the XDG defaults."""

from __future__ import annotations

import pwd
import re
from collections.abc import Mapping
from pathlib import Path

from triage.config.reader import Reader
from triage.text.i18n import _

_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def expand_path(text: str, base_dir: Path, env: Mapping[str, str]) -> Path:
    """What a user means by a path: `~` and `~user`, `$VAR` and `${VAR}` expanded,
    relative paths anchored at `base_dir` (the config file's directory).

    Raises ValueError for what cannot be expanded (an unset variable, an unknown
    user), so no directory named "$HOME" is ever created."""

    def var(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        if not env.get(name):
            raise ValueError(
                _("${name} is not set in the environment (in {text!r})").format(
                    name=name, text=text
                )
            )
        return env[name]

    text = _VAR.sub(var, text)
    if "$" in text:
        raise ValueError(
            _("cannot expand {text!r}: write $NAME or ${{NAME}}, or a plain path").format(text=text)
        )
    if text.startswith("~"):
        user, sep, rest = text[1:].partition("/")
        home = env.get("HOME") or str(Path.home()) if not user else _home_of(user)
        text = home + sep + rest if sep or not user else home
    path = Path(text)
    return path if path.is_absolute() else base_dir / path


def path_value(r: Reader, key: str, text: str, base: Path, env: Mapping[str, str]) -> Path | None:
    """`text` as a path, or None with a problem at `key` when it cannot be expanded."""
    return r.parsed(key, lambda value: expand_path(value, base, env), text)


def _home_of(user: str) -> str:
    try:
        return pwd.getpwnam(user).pw_dir
    except KeyError:
        raise ValueError(
            _("~{user}: there is no user {user2!r} on this machine").format(user=user, user2=user)
        ) from None


def _xdg(env: Mapping[str, str], var: str, fallback: str) -> Path:
    # The XDG spec says an empty or relative value must be ignored.
    value = env.get(var, "")
    if value and Path(value).is_absolute():
        return Path(value)
    return Path(env.get("HOME") or str(Path.home())) / fallback


def default_config_path(env: Mapping[str, str]) -> Path:
    """TRIAGE_CONFIG, else $XDG_CONFIG_HOME/triage/config.toml, else ~/.config/triage/..."""
    if env.get("TRIAGE_CONFIG"):
        return Path(env["TRIAGE_CONFIG"])
    return _xdg(env, "XDG_CONFIG_HOME", ".config") / "triage" / "config.toml"


def default_cache_path(env: Mapping[str, str]) -> Path:
    return _xdg(env, "XDG_CACHE_HOME", ".cache") / "triage" / "cache.json"


def default_data_dir(env: Mapping[str, str]) -> Path:
    """$XDG_DATA_HOME/triage, else ~/.local/share/triage: files made for the user (exports)."""
    return _xdg(env, "XDG_DATA_HOME", ".local/share") / "triage"
