"""The `[provider]` section: which mail provider, where, and how to sign in.

Each kind has its own keys and ways to sign in; a key that means nothing for the
chosen kind is a mistake named as such (a Graph `folder` in a JMAP config is
never silently ignored). `kind = "demo"` accepts every kind's keys, so a config
being prepared for its real provider can run the demo unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from triage.config.paths import default_config_path, path_value
from triage.config.reader import Reader, choice
from triage.domain.settings import ProviderConfig
from triage.text.i18n import _

COMMON = ("kind", "poll_seconds", "timeout_seconds", "notes_mailbox", "token_file", "token_env")
KEYS: dict[str, tuple[str, ...]] = {
    "jmap": ("session_url", "auth", "username", "mailbox", "account"),
    "graph": ("mailbox", "folder", "tenant", "client_id", "auth", "api_url", "login_url"),
    "gmail": ("user", "label", "auth", "client_id", "client_secret_file", "key_file",
              "api_url", "token_url"),
}  # fmt: skip
AUTHS: dict[str, tuple[str, ...]] = {
    "jmap": ("bearer", "basic"),
    "graph": ("oauth", "bearer"),
    "gmail": ("oauth", "service_account", "bearer"),
}
DEFAULT_URLS = {
    ("graph", "api_url"): "https://graph.microsoft.com/v1.0",
    ("graph", "login_url"): "https://login.microsoftonline.com",
    ("gmail", "api_url"): "https://gmail.googleapis.com",
    ("gmail", "token_url"): "https://oauth2.googleapis.com/token",
}
KINDS = (*KEYS, "demo")
_URL = re.compile(r"https?://[^/\s]+(/\S*)?")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def build_provider(
    r: Reader, tbl: dict[str, Any], base: Path, env: Mapping[str, str]
) -> ProviderConfig:
    p = "provider"
    kind = r.string(tbl, "kind", p, None)
    choice(r, "provider.kind", kind, KINDS)
    _known_for(r, tbl, kind)
    auth = r.string(tbl, "auth", p, AUTHS.get(kind, ("bearer",))[0])
    if kind in AUTHS:
        choice(r, "provider.auth", auth, AUTHS[kind])
    token_env = r.string(tbl, "token_env", p, "")
    if token_env and not _ENV_NAME.fullmatch(token_env):
        r.problem(
            "provider.token_env",
            _("{token_env!r} is not an environment variable name").format(token_env=token_env),
        )
    files = ("token_file", "client_secret_file", "key_file")
    paths = {k: _path(r, tbl, k, base, env) for k in files}
    settings = ProviderConfig(
        kind=kind, auth=auth, token_env=token_env,
        session_url=r.string(tbl, "session_url", p, ""),
        username=r.string(tbl, "username", p, ""),
        token_file=paths["token_file"] or _default_token_file(kind, auth, env),
        mailbox=r.string(tbl, "mailbox", p, "me" if kind == "graph" else "inbox"),
        account=r.string(tbl, "account", p, ""),
        folder=r.string(tbl, "folder", p, "inbox"),
        tenant=r.string(tbl, "tenant", p, "organizations"),
        client_id=r.string(tbl, "client_id", p, ""),
        api_url=r.string(tbl, "api_url", p, DEFAULT_URLS.get((kind, "api_url"), "")),
        login_url=r.string(tbl, "login_url", p, DEFAULT_URLS.get((kind, "login_url"), "")),
        token_url=r.string(tbl, "token_url", p, DEFAULT_URLS.get((kind, "token_url"), "")),
        user=r.string(tbl, "user", p, "me"),
        label=r.string(tbl, "label", p, "INBOX"),
        client_secret_file=paths["client_secret_file"],
        key_file=paths["key_file"],
        poll_seconds=r.number(tbl, "poll_seconds", p, 30.0, minimum=1, maximum=86_400),
        timeout_seconds=r.number(tbl, "timeout_seconds", p, 30.0, minimum=1, maximum=3600),
        notes_mailbox=r.string(tbl, "notes_mailbox", p, "Triage Notes"),
    )  # fmt: skip
    CHECKS.get(kind, lambda _r, _s, _t: None)(r, settings, tbl)
    return settings


def _known_for(r: Reader, tbl: dict[str, Any], kind: str) -> None:
    """Keys of another kind are named as such; keys of no kind get a "did you mean"."""
    every = {*COMMON, *(k for keys in KEYS.values() for k in keys)}
    mine = every if kind not in KEYS else {*COMMON, *KEYS[kind]}
    r.known({k: v for k, v in tbl.items() if k in mine or k not in every}, tuple(mine), "provider")
    for key in tbl:
        if key in every and key not in mine:
            owners = " or ".join(repr(k) for k, keys in KEYS.items() if key in keys)
            r.problem(
                f"provider.{key}",
                _("only for kind = {owners}; this config is {kind!r}").format(
                    owners=owners, kind=kind
                ),
            )


def _path(
    r: Reader, tbl: dict[str, Any], key: str, base: Path, env: Mapping[str, str]
) -> Path | None:
    text = r.string(tbl, key, "provider", "")
    return path_value(r, f"provider.{key}", text, base, env) if text else None


def _default_token_file(kind: str, auth: str, env: Mapping[str, str]) -> Path | None:
    """Where `triage login` keeps a provider's refresh token unless token_file says."""
    if auth != "oauth":
        return None
    return default_config_path(env).parent / f"{kind}-token.json"  # i18n: not text


def _url(r: Reader, key: str, value: str, example: str) -> None:
    if not _URL.fullmatch(value):
        r.problem(
            f"provider.{key}", _("needs an http(s) URL such as {example!r}").format(example=example)
        )


def _check_jmap(r: Reader, s: ProviderConfig, tbl: dict[str, Any]) -> None:
    _url(r, "session_url", s.session_url, "https://api.fastmail.com/jmap/session")
    if s.auth == "basic" and not s.username:
        r.problem("provider.username", _("missing: required when auth = 'basic'"))
    if not s.mailbox.strip():
        r.problem("provider.mailbox", _("must name a mailbox role or name, such as 'inbox'"))
    _secret_source(r, s)


def _check_graph(r: Reader, s: ProviderConfig, tbl: dict[str, Any]) -> None:
    if "mailbox" not in tbl:
        r.problem("provider.mailbox", _("missing: the shared mailbox's address, or 'me'"))
    elif s.mailbox != "me" and "@" not in s.mailbox:
        why = _("{mailbox!r} is not an address such as 'clients@agency.example' (or 'me')")
        r.problem("provider.mailbox", why.format(mailbox=s.mailbox))
    if not s.folder.strip():
        r.problem("provider.folder", _("must name a folder, such as 'inbox'"))
    if not s.tenant.strip():
        r.problem("provider.tenant", _("a tenant id or domain, or 'organizations'"))
    _url(r, "api_url", s.api_url, DEFAULT_URLS["graph", "api_url"])
    _url(r, "login_url", s.login_url, DEFAULT_URLS["graph", "login_url"])
    _oauth_or_token(r, s)


def _check_gmail(r: Reader, s: ProviderConfig, tbl: dict[str, Any]) -> None:
    if not s.user.strip() or (s.user != "me" and "@" not in s.user):
        why = _("{user!r} is not 'me' or an address such as 'clients@agency.example'")
        r.problem("provider.user", why.format(user=s.user))
    if not s.label.strip():
        r.problem("provider.label", _("must name a label, such as 'INBOX'"))
    _url(r, "api_url", s.api_url, DEFAULT_URLS["gmail", "api_url"])
    _url(r, "token_url", s.token_url, DEFAULT_URLS["gmail", "token_url"])
    if s.auth == "service_account":
        if s.key_file is None:
            r.problem("provider.key_file", _("missing: the service account's JSON key file "
                                           "(required when auth = 'service_account')"))  # fmt: skip
        if s.user == "me":
            r.problem("provider.user", _("a service account needs the address of the mailbox "
                                       "it impersonates, not 'me'"))  # fmt: skip
        return
    _oauth_or_token(r, s)


def _oauth_or_token(r: Reader, s: ProviderConfig) -> None:
    if s.auth == "oauth" and not s.client_id.strip():
        r.problem("provider.client_id", _("missing: the app registration's client id "
                                        "(required when auth = 'oauth')"))  # fmt: skip
    if s.auth == "bearer":
        _secret_source(r, s)


def _secret_source(r: Reader, s: ProviderConfig) -> None:
    if s.token_file is None and not s.token_env:
        why = _(
            "missing: set token_file (a file only you can read) or token_env (an "
            "environment variable name)"
        )
        r.problem("provider.token_file", why)


CHECKS = {"jmap": _check_jmap, "graph": _check_graph, "gmail": _check_gmail}
