"""Read the provider secret (token or basic-auth password) and check its file.

The secret comes from an environment variable or a token file; a token file is
refused unless only its owner can read it (as ssh does with private keys). Errors
never include the secret itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Only for annotations: triage.config.loader re-exports this module's names.
    from triage.domain.settings import ProviderConfig


class SecretError(Exception):
    """The provider secret is missing, empty or not protected. Never holds the secret."""


def _open_protected(path: Path) -> int:
    """Open the token file, refusing it (like ssh) unless only its owner can use it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise SecretError(f"provider.token_file: no such file '{path}'") from None
    except OSError as exc:
        raise SecretError(f"provider.token_file: cannot open '{path}': {exc.strerror}") from None
    st = os.fstat(fd)
    if st.st_uid != os.getuid():
        os.close(fd)
        raise SecretError(
            f"'{path}' is not owned by you: the token file must belong to the user "
            f"running triage. Fix: copy it to a file of your own and chmod 600 it"
        )
    if st.st_mode & 0o077:
        os.close(fd)
        raise SecretError(
            f"Permissions {st.st_mode & 0o777:04o} for '{path}' are too open: the token "
            f"file must be readable only by you. Fix: chmod 600 {path}"
        )
    return fd


def check_secret_file(path: Path) -> None:
    """Raise SecretError if the token file is missing or not protected."""
    os.close(_open_protected(path))


def read_protected(path: Path) -> str:
    """The text of a secret file, refused (SecretError) unless only its owner can read it:
    the token file, and the token store `triage login` keeps."""
    with os.fdopen(_open_protected(path), encoding="utf-8") as fh:
        return fh.read()


def read_secret(provider: ProviderConfig, env: Mapping[str, str]) -> str:
    """The token (or basic-auth password) from token_env if set there, else token_file."""
    if provider.token_env and env.get(provider.token_env):
        return env[provider.token_env].rstrip("\r\n")
    if provider.token_file is None:
        name = provider.token_env or "(none)"
        raise SecretError(
            f"provider.token_env: environment variable {name} is not set "
            "and provider.token_file is not configured"
        )
    fd = _open_protected(provider.token_file)
    with os.fdopen(fd, encoding="utf-8") as fh:
        secret = fh.read().rstrip("\r\n")
    if not secret:
        raise SecretError(f"provider.token_file: '{provider.token_file}' is empty")
    return secret
