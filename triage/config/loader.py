"""Load and validate the TOML config into the frozen `triage.domain.settings.Config`.

Every problem names the file, the key path and what would be valid; all problems are
collected before reporting, so a user fixes them in one pass. Owns the load pipeline
and the provider/agency/routing/user/cache sections. Reading with problems is
`triage.config.reader`; regions/managers/clients/keys are `triage.config.sections`;
values are `triage.config.values`; the secret is `triage.config.secrets`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triage.config.paths import (
    default_cache_path,
    expand_path,
    path_value,
)
from triage.config.provider import build_provider
from triage.config.reader import (
    HOST,
    Problem,
    Reader,
    choice,
    hint,
    is_address,
    join_key,
    kind_of,
    undefined,
)
from triage.config.secrets import SecretError, check_secret_file
from triage.config.sections import (
    LANGUAGES,
    Known,
    build_alerts,
    build_clients,
    build_keys,
    build_manager,
    build_region,
    build_signals,
    build_templates,
    build_tiers,
)
from triage.domain.addresses import domain_key, normalize
from triage.domain.model import CEO_ID
from triage.domain.settings import AgencyConfig, Config, ProviderConfig, RoutingConfig
from triage.text.i18n import _


class ConfigError(Exception):
    """The config has problems; `problems` holds every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


THEMES = ("triage-dark", "triage-light", "triage-high-contrast", "triage-mono")
SECTIONS: dict[str, tuple[str, ...]] = {
    "provider": tuple(ProviderConfig.__dataclass_fields__),
    "user": ("manager", "default_filter", "language"),
    "agency": tuple(AgencyConfig.__dataclass_fields__),
    "regions": (),
    "managers": (),
    "clients": (),
    "routing": ("default_region", "tld"),
    "cache": ("path", "shared"),
    "ui": ("theme", "undo_send_seconds"),
    "keys": (),
    "templates": (),
    "tiers": (),
    "alerts": (),
    "signals": (),
}


DAY_SECONDS = 86_400
MONTH_MINUTES = 30 * 24 * 60


# ---- the sections ----


def _agency(r: Reader, tbl: dict[str, Any]) -> AgencyConfig:
    p = "agency"
    r.known(tbl, SECTIONS[p], p)
    domains = tuple(domain_key(d.lstrip("@ ")) for d in r.strings(tbl, "staff_domains", p))
    if not domains and "staff_domains" in tbl:
        r.problem("agency.staff_domains", _("list at least one domain of the agency's staff"))
    for d in domains:
        if not HOST.fullmatch(d):
            r.problem(
                "agency.staff_domains",
                _("{d!r} is not a domain such as 'agency.example'").format(d=d),
            )
    if "staff_domains" not in tbl:
        r.problem("agency.staff_domains", _("missing (required): the agency's own email domains"))
    ceo = normalize(r.string(tbl, "ceo", p, None))
    if "ceo" in tbl and not is_address(ceo):
        r.problem(
            "agency.ceo",
            _("{ceo!r} is not an email address such as 'ceo@agency.example'").format(ceo=ceo),
        )
    at_risk = r.number(tbl, "at_risk_minutes", p, 15, minimum=0, maximum=MONTH_MINUTES,
                       integer=True)  # fmt: skip
    grace = r.number(tbl, "escalate_after_minutes", p, 0, minimum=0, maximum=MONTH_MINUTES,
                     integer=True)  # fmt: skip
    who = r.strings(tbl, "acknowledgers", p) if "acknowledgers" in tbl else (CEO_ID,)
    return AgencyConfig(domains, ceo, int(at_risk), int(grace), who)


def _acknowledgers(r: Reader, agency: AgencyConfig, manager_ids: set[str]) -> None:
    if not agency.acknowledgers:
        r.problem(
            "agency.acknowledgers", _("list who may acknowledge escalations, such as ['ceo']")
        )
    for who in agency.acknowledgers:
        if who != CEO_ID and who not in manager_ids:
            why = undefined("manager", who, manager_ids) + _("; 'ceo' is valid too")
            r.problem("agency.acknowledgers", why)


def _routing(r: Reader, tbl: dict[str, Any], region_ids: set[str]) -> RoutingConfig:
    p = "routing"
    r.known(tbl, SECTIONS[p], p)
    default = r.string(tbl, "default_region", p, None)
    if default and default not in region_ids:
        r.problem("routing.default_region", undefined("region", default, region_ids))
    tld: dict[str, str] = {}
    for suffix, region in r.table(tbl.get("tld", {}), "routing.tld").items():
        key = join_key("routing.tld", suffix)
        if not isinstance(region, str):
            r.problem(
                key,
                _("expected a region id (a string), got {kind_of}").format(kind_of=kind_of(region)),
            )
        elif region not in region_ids:
            r.problem(key, undefined("region", region, region_ids))
        else:
            tld[domain_key(suffix.lstrip(". "))] = region
    return RoutingConfig(default, tld)


def _user(r: Reader, tbl: dict[str, Any], override: str | None, manager_ids: set[str]) -> str:
    r.known(tbl, SECTIONS["user"], "user")
    if override is not None:
        user, key = override, "--as"
    else:
        user, key = r.string(tbl, "manager", "user", None), "user.manager"
    if user and user != CEO_ID and user not in manager_ids:
        r.problem(key, undefined("manager", user, manager_ids) + _("; 'ceo' is valid too"))
    return user


# ---- loading ----

_REQUIRED = ("provider", "agency", "regions", "managers", "routing")


def _sections(r: Reader, data: dict[str, Any], user_override: str | None) -> dict[str, Any]:
    r.known(data, SECTIONS, "")
    for name in _REQUIRED + (() if user_override else ("user",)):
        if name not in data:
            r.problem(
                name, _("missing section [{name}] (see config.example.toml)").format(name=name)
            )
    return {name: r.table(data.get(name, {}), name) for name in SECTIONS}


def _user_options(r: Reader, tbl: dict[str, Any]) -> tuple[str, str]:
    """`[user] default_filter` ("mine", "all") and `language` ("en", "fr"), checked."""
    default_filter = r.string(tbl, "default_filter", "user", "")
    if default_filter not in ("", "mine", "all"):
        why = _('{value!r} is not a start filter: use "mine" or "all"')
        r.problem("user.default_filter", why.format(value=default_filter))
    language = r.string(tbl, "language", "user", "")
    if language:
        choice(r, "user.language", language, LANGUAGES)
    return default_filter, language


def _build(
    r: Reader, data: dict[str, Any], path: Path, override: str | None, env: Mapping[str, str]
) -> Config:
    s = _sections(r, data, override)
    base = path.parent
    provider = build_provider(r, s["provider"], base, env)
    agency = _agency(r, s["agency"])
    region_ids = set(s["regions"])
    regions = {
        rid: build_region(r, rid, r.table(v, join_key("regions", rid)))
        for rid, v in s["regions"].items()
    }
    managers = {
        mid: build_manager(r, mid, r.table(v, join_key("managers", mid)), region_ids)
        for mid, v in s["managers"].items()
    }
    valid_managers = {k: m for k, m in managers.items() if m}
    known = Known(region_ids, set(managers), valid_managers, agency.staff_domains)
    clients = build_clients(r, s["clients"], known)
    routing = _routing(r, s["routing"], region_ids)
    user = _user(r, s["user"], override, set(managers))
    default_filter, language = _user_options(r, s["user"])
    _acknowledgers(r, agency, set(managers))
    r.known(s["cache"], SECTIONS["cache"], "cache")
    cache = r.string(s["cache"], "path", "cache", "")
    shared = r.boolean(s["cache"], "shared", "cache", False)
    r.known(s["ui"], SECTIONS["ui"], "ui")
    theme = r.string(s["ui"], "theme", "ui", THEMES[0])
    if theme not in THEMES:
        r.problem(
            "ui.theme",
            _("unknown theme {theme!r} ({hint})").format(
                theme=theme, hint=hint(theme, THEMES, "valid")
            ),
        )
    keys = build_keys(r, s["keys"])
    undo = r.number(s["ui"], "undo_send_seconds", "ui", 10, minimum=0, maximum=300, integer=True)
    return Config(
        path=path,
        provider=provider,
        user=user,
        agency=agency,
        regions={k: v for k, v in regions.items() if v},
        managers=valid_managers,
        clients=clients,
        routing=routing,
        cache_path=(path_value(r, "cache.path", cache, base, env) if cache else None)
        or default_cache_path(env),
        theme=theme,
        keys=keys,
        cache_shared=shared,
        templates=build_templates(r, s["templates"]),
        tiers=build_tiers(r, s["tiers"]),
        alerts=build_alerts(r, s["alerts"]),
        signals=build_signals(r, s["signals"]),
        default_filter="" if default_filter == "all" else default_filter,
        language=language,
        undo_send_seconds=int(undo),
    )


MAX_CONFIG_BYTES = 1_000_000  # a config is a few kilobytes; this is not one


def _parse(r: Reader, path: Path) -> dict[str, Any] | None:
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            r.problem(
                "",
                _("the file is larger than {MAX_CONFIG_BYTES:,} bytes: not a config").format(
                    MAX_CONFIG_BYTES=MAX_CONFIG_BYTES
                ),
            )
            return None
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        r.problem("", _("file not found (copy config.example.toml there, or pass --config PATH)"))
    except (OSError, UnicodeDecodeError) as exc:
        r.problem("", _("cannot read the file: {exc}").format(exc=exc))
    except tomllib.TOMLDecodeError as exc:
        r.problem("", _("not valid TOML: {exc}").format(exc=exc))
    except RecursionError:
        r.problem("", _("not a usable config: its tables or arrays are nested too deeply"))
    return None


def load_config(
    path: Path, *, user_override: str | None = None, env: Mapping[str, str] | None = None
) -> Config:
    """Read and validate the whole file; raise ConfigError listing every problem."""
    env = os.environ if env is None else env
    r = Reader(str(path))
    data = _parse(r, path)
    cfg = None if data is None else _build(r, data, path, user_override, env)
    if r.problems or cfg is None:
        raise ConfigError(r.problems)
    return cfg


# ---- reporting ----


def summary(cfg: Config) -> str:
    """One line for `triage check-config`."""
    p = cfg.provider
    provider = _("provider {kind}").format(kind=p.kind) + (
        f" ({p.session_url})" if p.kind == "jmap" else ""
    )
    name = str(cfg.path) if cfg.path else "config"
    return _(
        "{name} OK: {regions} regions, {managers} managers, {clients} clients, {provider}, "
        "user {user}"
    ).format(name=name, regions=len(cfg.regions), managers=len(cfg.managers),
             clients=len(cfg.clients), provider=provider, user=cfg.user)  # fmt: skip


EXAMPLE_TOKEN_FILE = "~/.config/triage/token"  # config.example.toml's token_file


@dataclass(frozen=True)
class ConfigCheck:
    """What `triage check-config` found: the config (None when it cannot be loaded),
    the problems that stop triage, and warnings about what will fail later."""

    config: Config | None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def code(self) -> int:
        return 2 if self.problems else 0


def check_config(
    path: Path, env: Mapping[str, str], *, user_override: str | None = None
) -> ConfigCheck:
    """Everything a config file needs before triage can use it, the secret included."""
    try:
        cfg = load_config(path, user_override=user_override, env=env)
    except ConfigError as exc:
        return ConfigCheck(None, exc.problems)
    check = ConfigCheck(cfg)
    p = cfg.provider
    problem = _secret_problem(p, env)
    if problem:
        example = expand_path(EXAMPLE_TOKEN_FILE, path.parent, env)
        missing = p.token_file is not None and not p.token_file.exists()
        not_yet = missing and (p.auth == "oauth" or p.token_file == example)
        (check.warnings if not_yet else check.problems).append(
            Problem(str(path), "provider.token_file", problem))  # fmt: skip
    check.problems.extend(_credential_file_problems(p, path))
    return check


def _credential_file_problems(p: ProviderConfig, path: Path) -> list[Problem]:
    """A service account's key (owner-only, like a token) and an OAuth client's file (it
    must exist; Google does not count a Desktop client's secret as confidential)."""
    problems = []
    if p.auth == "service_account" and p.key_file is not None:
        key_problem = _file_problem(p.key_file, "the service account's key file")
        if key_problem:
            problems.append(Problem(str(path), "provider.key_file", key_problem))
    client = p.client_secret_file
    if p.auth == "oauth" and client is not None and not client.is_file():
        why = _(
            "no such file '{client}': download the Desktop client's JSON (Cloud console: "
            "APIs & Services > Credentials), or remove the key if the client has no secret"
        )
        problems.append(
            Problem(str(path), "provider.client_secret_file", why.format(client=client))
        )
    return problems


def _secret_problem(provider: ProviderConfig, env: Mapping[str, str]) -> str:
    """Why the provider's secret cannot be read ("" when it can, or none is needed)."""
    if provider.kind == "demo" or provider.auth == "service_account":
        return ""
    if provider.token_env and env.get(provider.token_env):
        return ""
    token = provider.token_file
    if token is None:
        return _("the environment variable {token_env} is not set (and no token_file)").format(
            token_env=provider.token_env
        )
    if provider.auth == "oauth" and not token.exists():
        return _("not signed in yet ('{token}' does not exist): run `triage login`").format(
            token=token
        )
    via_env = _(", or set {name}").format(name=provider.token_env) if provider.token_env else ""
    if not token.exists():
        why = _(
            "no such file '{token}': put the provider's token there (chmod 600) before "
            "`triage sync`{via_env}"
        )
        return why.format(token=token, via_env=via_env)
    return _file_problem(token, "the token file")


def _file_problem(path: Path, what: str) -> str:
    """Why a secret file is unusable: missing, or readable by others ("" when fine)."""
    if not path.exists():
        return _("no such file '{path}' ({what})").format(path=path, what=what)
    try:
        check_secret_file(path)
    except SecretError as exc:
        return str(exc).removeprefix("provider.token_file: ")
    return ""
