"""Tests for triage.config.loader: loading, every kind of mistake, the token file, check-config."""

from __future__ import annotations

import os
from datetime import time, timedelta
from pathlib import Path

import pytest

from triage import config as C
from triage.config.values import parse_days
from triage.domain.model import Tier

REPO = Path(__file__).resolve().parents[2]
ENV = {"HOME": "/home/tester"}

BASE = """\
[provider]
kind = "jmap"
session_url = "https://jmap.example/session"
auth = "bearer"
token_file = "token"

[user]
manager = "alice"

[agency]
staff_domains = ["agency.example"]
ceo = "ceo@agency.example"
at_risk_minutes = 15

[regions.us-east]
label = "US Northeast"
timezone = "America/New_York"
holidays = "US-NY"
hours = "08:00-18:00"
days = "mon-fri"
reply_within = "1h"

[regions.ca-qc]
label = "Quebec"
timezone = "America/Toronto"
holidays = "CA-QC"
hours = "09:00-17:00"
days = "mon-fri"
reply_within = "next-business-day"

[managers.alice]
name = "Alice Martin"
email = "alice@agency.example"
regions = ["us-east", "ca-qc"]

[managers.chantal]
name = "Chantal Gagnon"
email = "chantal@agency.example"
regions = ["ca-qc"]

[clients."acme.com"]
name = "Acme Corp"
region = "us-east"
owner = "alice"
tier = "premium"

[clients."erable.ca"]
name = "Erable"
region = "ca-qc"
owner = "chantal"

[routing]
default_region = "ca-qc"
tld = { ca = "ca-qc" }
"""


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def edit(old: str, new: str, text: str = BASE) -> str:
    assert old in text, old  # a case that edits nothing would test nothing
    return text.replace(old, new, 1)


def problems(tmp_path: Path, text: str) -> list[C.Problem]:
    with pytest.raises(C.ConfigError) as info:
        C.load_config(write(tmp_path, text), env=ENV)
    return info.value.problems


# ---- the good cases ----


def test_base_config_builds_typed_objects(tmp_path: Path) -> None:
    cfg = C.load_config(write(tmp_path, BASE), env=ENV)
    east = cfg.regions["us-east"]
    assert east.hours == (time(8), time(18))
    assert east.days == frozenset({0, 1, 2, 3, 4})
    assert east.reply_within == timedelta(hours=1)
    assert east.holidays == "US-NY"
    assert cfg.regions["ca-qc"].reply_within is None
    assert cfg.clients["acme.com"].tier is Tier.PREMIUM
    assert cfg.clients["erable.ca"].tier is Tier.STANDARD
    assert cfg.managers["alice"].regions == ("us-east", "ca-qc")
    assert cfg.user == "alice"
    assert cfg.routing.tld == {"ca": "ca-qc"}
    assert cfg.provider.poll_seconds == 30


def test_example_config_is_valid_and_realistic() -> None:
    cfg = C.load_config(REPO / "config.example.toml", env=ENV)
    us = [r for r in cfg.regions.values() if r.timezone.startswith("America/") and r.id[:2] == "us"]
    assert len(us) >= 4
    assert cfg.regions["ca-on"].holidays == "CA-ON"
    assert cfg.regions["ca-qc"].holidays == "CA-QC"
    us_ids = {r.id for r in us}
    qualified = [m for m in cfg.managers.values() if us_ids & set(m.regions)]
    assert len(cfg.managers) >= 3 and 0 < len(qualified) < len(cfg.managers)
    assert any("@" in key for key in cfg.clients)
    assert cfg.provider.kind == "jmap" and cfg.provider.token_file is not None


def test_keys_are_lowercased(tmp_path: Path) -> None:
    text = edit('[clients."acme.com"]', '[clients."ACME.com"]')
    text = edit('["agency.example"]', '["@Agency.Example"]', text)
    cfg = C.load_config(write(tmp_path, text), env=ENV)
    assert "acme.com" in cfg.clients
    assert cfg.agency.staff_domains == ("agency.example",)


def test_single_address_client_and_24x7_region(tmp_path: Path) -> None:
    text = BASE + (
        '[regions.ops]\nlabel = "Ops"\ntimezone = "UTC"\nhours = "24x7"\nreply_within = "45m"\n'
        '[clients."OnCall@Acme.com"]\nname = "Acme on-call"\nregion = "ops"\nowner = "alice"\n'
    )
    text = edit('regions = ["us-east", "ca-qc"]', 'regions = ["us-east", "ca-qc", "ops"]', text)
    cfg = C.load_config(write(tmp_path, text), env=ENV)
    assert cfg.regions["ops"].hours is None
    assert cfg.regions["ops"].reply_within == timedelta(minutes=45)
    assert cfg.clients["oncall@acme.com"].region == "ops"


def test_paths_token_relative_to_config_and_cache_default(tmp_path: Path) -> None:
    env = {"HOME": "/home/tester", "XDG_CACHE_HOME": "/var/cache/u"}
    cfg = C.load_config(write(tmp_path, BASE), env=env)
    assert cfg.provider.token_file == tmp_path / "token"
    assert cfg.cache_path == Path("/var/cache/u/triage/cache.json")
    assert cfg.path == tmp_path / "config.toml"


def test_tilde_expands_from_env_home(tmp_path: Path) -> None:
    text = edit('token_file = "token"', 'token_file = "~/.config/triage/token"')
    text += '[cache]\npath = "~/c/cache.json"\n'
    cfg = C.load_config(write(tmp_path, text), env=ENV)
    assert cfg.provider.token_file == Path("/home/tester/.config/triage/token")
    assert cfg.cache_path == Path("/home/tester/c/cache.json")


def test_user_override(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    assert C.load_config(path, user_override="chantal", env=ENV).user == "chantal"
    assert C.load_config(path, user_override="ceo", env=ENV).user == "ceo"
    with pytest.raises(C.ConfigError) as info:
        C.load_config(path, user_override="zed", env=ENV)
    assert [p.key for p in info.value.problems] == ["--as"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("sun-thu", {6, 0, 1, 2, 3}),
        ("mon,wed,fri", {0, 2, 4}),
        ("Monday-Tuesday,sat", {0, 1, 5}),
    ],
)
def test_parse_days(text: str, expected: set[int]) -> None:
    assert parse_days(text) == frozenset(expected)


def test_parse_duration() -> None:
    assert C.parse_duration("1h30m") == timedelta(minutes=90)
    assert C.parse_duration("45m") == timedelta(minutes=45)
    assert C.parse_duration("2h") == timedelta(hours=2)
    assert C.parse_duration("next-business-day") is None
    for bad in ("", "0h", "1d", "h", "1.5h"):
        with pytest.raises(ValueError):
            C.parse_duration(bad)


# ---- every kind of mistake, with its key path ----

MISTAKES = [
    # (edit old, edit new, key path, words in the message)
    ('"America/New_York"', '"America/New_Yrok"', "regions.us-east.timezone", "America/New_York"),
    ('"US-NY"', '"XX"', "regions.us-east.holidays", "unknown holiday country"),
    ('"CA-QC"', '"CA-ZZ"', "regions.ca-qc.holidays", "unknown subdivision 'ZZ'"),
    ('reply_within = "1h"', 'reply_within = "1 hour"', "regions.us-east.reply_within", "45m"),
    ('reply_within = "1h"', 'reply_within = "0m"', "regions.us-east.reply_within", "zero"),
    ('"08:00-18:00"', '"18:00-08:00"', "regions.us-east.hours", "open before"),
    ('"08:00-18:00"', '"8am-6pm"', "regions.us-east.hours", "HH:MM"),
    ('"08:00-18:00"', '"08:00-24:00"', "regions.us-east.hours", "23:59"),
    ('"08:00-18:00"', "8", "regions.us-east.hours", "expected a string, got an integer"),
    ('days = "mon-fri"', 'days = "mon-fryday"', "regions.us-east.days", "unknown day"),
    ("timezone = ", "timezon = ", "regions.us-east.timezon", "did you mean 'timezone'"),
    ("[routing]", "[routeing]", "routeing", "did you mean 'routing'"),
    ('auth = "bearer"', 'auht = "bearer"', "provider.auht", "did you mean 'auth'"),
    ("email = ", "emial = ", "managers.alice.emial", "did you mean 'email'"),
    ('email = "alice@agency.example"\n', "", "managers.alice.email", "missing (required)"),
    ('tier = "premium"', 'teir = "premium"', 'clients."acme.com".teir', "did you mean 'tier'"),
    ("at_risk_minutes", "at_risk_minute", "agency.at_risk_minute", "at_risk_minutes"),
    ('owner = "alice"', 'owner = "alicia"', 'clients."acme.com".owner', "did you mean 'alice'"),
    ('region = "us-east"', 'region = "us-easy"', 'clients."acme.com".region', "not defined"),
    ('["us-east", "ca-qc"]', '["us-east", "ca-on"]', "managers.alice.regions", "'ca-on'"),
    ('default_region = "ca-qc"', 'default_region = "ca"', "routing.default_region", "defined"),
    ('{ ca = "ca-qc" }', '{ ca = "ca-bc" }', "routing.tld.ca", "not defined"),
    ('{ ca = "ca-qc" }', '"ca"', "routing.tld", "expected a table"),
    ('manager = "alice"', 'manager = "bob"', "user.manager", "'ceo'"),
    ('tier = "premium"', 'tier = "gold"', 'clients."acme.com".tier', "'premium'"),
    ('kind = "jmap"', 'kind = "imap"', "provider.kind", "'jmap'"),
    ('auth = "bearer"', 'auth = "oauth"', "provider.auth", "'basic'"),
    ('"https://jmap.example/session"', '"ftp://x"', "provider.session_url", "http"),
    ('auth = "bearer"', 'auth = "basic"', "provider.username", "basic"),
    ('token_file = "token"', "", "provider.token_file", "token_env"),
    ('token_file = "token"', 'token_env = "MY TOKEN"', "provider.token_env", "variable"),
    ('auth = "bearer"', "poll_seconds = 0", "provider.poll_seconds", "between 1 and"),
    ('auth = "bearer"', "poll_seconds = true", "provider.poll_seconds", "got a boolean"),
    ("at_risk_minutes = 15", "at_risk_minutes = -5", "agency.at_risk_minutes", "between 0 and"),
    ("at_risk_minutes = 15", 'at_risk_minutes = "15"', "agency.at_risk_minutes", "an integer"),
    ('["agency.example"]', '"agency.example"', "agency.staff_domains", "array of strings"),
    ('"ceo@agency.example"', '"the ceo"', "agency.ceo", "email address"),
    ('owner = "alice"', 'owner = "chantal"', 'clients."acme.com".owner', "qualified: alice"),
    ('name = "Acme Corp"\n', "", 'clients."acme.com".name', "missing"),
    ('[clients."acme.com"]', '[clients."acme com"]', 'clients."acme com"', "email domain"),
    ('[clients."acme.com"]', '[clients."agency.example"]', 'clients."agency.example"', "staff"),
    ("[managers.chantal]", "[managers.ceo]", "managers.ceo", "reserved"),
    ('reply_within = "1h"', 'reply_within = "999999h"', "regions.us-east.reply_within",
     "too long"),
    ('reply_within = "1h"', 'reply_within = "721h"', "regions.us-east.reply_within", "30 days"),
    ('reply_within = "1h"', 'reply_within = "99999999999999999999m"',
     "regions.us-east.reply_within", "too long"),
    ('days = "mon-fri"', 'days = "monster-fri"', "regions.us-east.days", "unknown day"),
    ('days = "mon-fri"', 'days = "mondays"', "regions.us-east.days", "unknown day"),
    ("at_risk_minutes = 15", "at_risk_minutes = 10000000000", "agency.at_risk_minutes",
     "between 0 and"),
    ('auth = "bearer"', "poll_seconds = nan", "provider.poll_seconds", "between 1 and"),
    ('token_file = "token"', 'token_file = "$NOT_SET_ANYWHERE/token"', "provider.token_file",
     "NOT_SET_ANYWHERE is not set"),
    ('token_file = "token"', 'token_file = "~no-such-user-here/token"', "provider.token_file",
     "no user"),
    ('[routing]', '[cache]\npath = "cache$/cache.json"\n\n[routing]', "cache.path",
     "cannot expand"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "key", "words"), MISTAKES)
def test_each_mistake_names_its_key(
    tmp_path: Path, old: str, new: str, key: str, words: str
) -> None:
    found = problems(tmp_path, edit(old, new))
    at_key = [p for p in found if p.key == key]
    assert at_key, f"no problem at {key}: {found}"
    assert any(words in p.message for p in at_key), at_key


@pytest.mark.parametrize(
    ("extra", "key", "words"),
    [
        ('[ui]\ntheme = "dark"\n', "ui.theme", "triage-dark"),
        ('[cache]\npth = "x"\n', "cache.pth", "did you mean 'path'"),
        ('[keys]\nreply = ""\n', "keys.reply", "comma-separated"),
        ('[keys]\n"Reply!" = "r"\n', 'keys."Reply!"', "lower case"),
        ("[extras]\nx = 1\n", "extras", "unknown key"),
        (
            '[templates.thanks]\nbody = "Hi {client_frist_name}"\n',
            "templates.thanks.body",
            "unknown placeholder {client_frist_name} (known: {client_name}",
        ),
        ('[templates.thanks]\ntitle = "Thanks"\n', "templates.thanks.body", "missing"),
        (
            '[templates.thanks]\nbody = "x"\nsubject = "y"\n',
            "templates.thanks.subject",
            "unknown key",
        ),
        ('[alerts]\ndesktop = "osc8"\n', "alerts.desktop", "'osc8' is not one of"),
        ('[alerts]\nbell = "yes"\n', "alerts.bell", "true or false"),
        ("[alerts]\nsound = true\n", "alerts.sound", "unknown key"),
        ("[alerts]\nemails = true\n", "alerts.emails", "did you mean 'email'"),
        ('[alerts]\nemail = "yes"\n', "alerts.email", "true or false"),
        ("[alerts]\nwatch_seconds = 1\n", "alerts.watch_seconds", "between 5 and 3600"),
        ("[alerts]\nwatch_second = 30\n", "alerts.watch_second", "did you mean 'watch_seconds'"),
    ],
)
def test_optional_sections_are_checked(tmp_path: Path, extra: str, key: str, words: str) -> None:
    found = problems(tmp_path, BASE + extra)
    assert [p.key for p in found] == [key]
    assert words in found[0].message


def test_templates_signatures_and_the_start_filter(tmp_path: Path) -> None:
    text = edit(
        'email = "alice@agency.example"\n',
        'email = "alice@agency.example"\nsignature = """\nAlice Martin\nAgency\n"""\n',
    )
    text = edit('manager = "alice"', 'manager = "alice"\ndefault_filter = "mine"', text)
    text += '[templates.thanks]\ntitle = "Thank you"\nbody = "Hi {client_first_name}"\n'
    cfg = C.load_config(write(tmp_path, text), env=ENV)
    assert cfg.managers["alice"].signature == "Alice Martin\nAgency"
    assert cfg.default_filter == "mine"
    [t] = cfg.templates.values()
    assert (t.name, t.title, t.body) == ("thanks", "Thank you", "Hi {client_first_name}")
    bad = problems(tmp_path, edit('manager = "alice"', 'manager = "alice"\ndefault_filter = "me"'))
    assert [(p.key, 'use "mine"' in p.message) for p in bad] == [("user.default_filter", True)]


def test_missing_sections_are_named(tmp_path: Path) -> None:
    text = edit('[user]\nmanager = "alice"\n', "")
    text = edit("[routing]\n", "[nothing]\n", text)
    keys = {p.key for p in problems(tmp_path, text)}
    assert {"user", "routing", "nothing"} <= keys


def test_duplicate_client_keys_differing_in_case(tmp_path: Path) -> None:
    text = BASE + '[clients."Acme.com"]\nname = "Acme again"\nregion = "us-east"\nowner = "alice"\n'
    found = problems(tmp_path, text)
    assert [p.key for p in found] == ['clients."Acme.com"']
    assert "twice" in found[0].message


def test_all_mistakes_are_reported_at_once(tmp_path: Path) -> None:
    text = edit('"America/New_York"', '"Mars/Olympus"')
    text = edit('owner = "alice"', 'owner = "nobody"', text)
    text = edit('reply_within = "1h"', 'reply_within = "soon"', text)
    text = edit("email = ", "mail = ", text)
    with pytest.raises(C.ConfigError) as info:
        C.load_config(write(tmp_path, text), env=ENV)
    keys = [p.key for p in info.value.problems]
    for key in (
        "regions.us-east.timezone",
        'clients."acme.com".owner',
        "regions.us-east.reply_within",
        "managers.alice.mail",
    ):
        assert key in keys
    lines = str(info.value).splitlines()
    assert len(lines) == len(info.value.problems)
    assert all(line.startswith(f"{tmp_path / 'config.toml'}: ") for line in lines)


def test_problem_rendering() -> None:
    p = C.Problem("config.toml", "regions.us-east.timezone", "unknown time zone 'X'")
    assert str(p) == "config.toml: regions.us-east.timezone: unknown time zone 'X'"
    assert str(C.Problem("config.toml", "", "file not found")) == "config.toml: file not found"


def test_timezone_problem_suggests_the_close_name(tmp_path: Path) -> None:
    found = problems(tmp_path, edit('"America/New_York"', '"America/New_Yrok"'))
    assert str(found[0]) == (
        f"{tmp_path / 'config.toml'}: regions.us-east.timezone: unknown time zone "
        "'America/New_Yrok' (did you mean 'America/New_York'?)"
    )


def test_toml_syntax_error_has_the_line(tmp_path: Path) -> None:
    line = BASE.splitlines().index('label = "Quebec"') + 1
    found = problems(tmp_path, edit('label = "Quebec"', 'label = "Quebec'))
    assert len(found) == 1
    assert "not valid TOML" in found[0].message and f"line {line}," in found[0].message


def test_missing_file_is_a_problem(tmp_path: Path) -> None:
    with pytest.raises(C.ConfigError) as info:
        C.load_config(tmp_path / "nope.toml", env=ENV)
    assert "file not found" in str(info.value)


# ---- default paths ----


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TRIAGE_CONFIG": "/etc/t.toml", "XDG_CONFIG_HOME": "/x"}, "/etc/t.toml"),
        ({"XDG_CONFIG_HOME": "/x", "HOME": "/h"}, "/x/triage/config.toml"),
        ({"XDG_CONFIG_HOME": "", "HOME": "/h"}, "/h/.config/triage/config.toml"),
        ({"XDG_CONFIG_HOME": "rel/dir", "HOME": "/h"}, "/h/.config/triage/config.toml"),
    ],
)
def test_default_config_path(env: dict[str, str], expected: str) -> None:
    assert C.default_config_path(env) == Path(expected)


# ---- the secret ----

SECRET = "s3cr3t-tok3n-value"


def token_provider(tmp_path: Path, mode: int, *, env_name: str = "") -> C.ProviderConfig:
    token = tmp_path / "token"
    token.write_text(SECRET + "\n", encoding="utf-8")
    token.chmod(mode)
    return C.ProviderConfig(kind="jmap", token_file=token, token_env=env_name)


def test_token_file_0600_is_read_without_newline(tmp_path: Path) -> None:
    assert C.read_secret(token_provider(tmp_path, 0o600), {}) == SECRET


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_token_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    provider = token_provider(tmp_path, mode)
    with pytest.raises(C.SecretError) as info:
        C.read_secret(provider, {})
    text = str(info.value)
    assert f"Permissions {mode:04o}" in text and "chmod 600" in text
    assert SECRET not in text and SECRET not in repr(info.value)


def test_token_file_of_another_user_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = token_provider(tmp_path, 0o600)
    monkeypatch.setattr(os, "getuid", lambda: os.stat(tmp_path).st_uid + 1)
    with pytest.raises(C.SecretError, match="not owned by you"):
        C.read_secret(provider, {})


def test_token_env_wins_when_set(tmp_path: Path) -> None:
    provider = token_provider(tmp_path, 0o644, env_name="TRIAGE_TOKEN")
    assert C.read_secret(provider, {"TRIAGE_TOKEN": "from-env\n"}) == "from-env"


def test_missing_secret_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(C.SecretError, match=r"provider\.token_env.*TRIAGE_TOKEN"):
        C.read_secret(C.ProviderConfig(kind="jmap", token_env="TRIAGE_TOKEN"), {})
    missing = C.ProviderConfig(kind="jmap", token_file=tmp_path / "absent")
    with pytest.raises(C.SecretError, match=r"provider\.token_file"):
        C.read_secret(missing, {})


def test_empty_token_file_is_refused(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("\n", encoding="utf-8")
    token.chmod(0o600)
    with pytest.raises(C.SecretError, match="empty"):
        C.read_secret(C.ProviderConfig(kind="jmap", token_file=token), {})


# ---- check-config and summary ----


def with_token(tmp_path: Path, mode: int = 0o600) -> Path:
    token = tmp_path / "token"
    token.write_text(SECRET, encoding="utf-8")
    token.chmod(mode)
    return token


def test_check_config_ok_gives_the_loaded_config_and_a_one_line_summary(tmp_path: Path) -> None:
    with_token(tmp_path)
    check = C.check_config(write(tmp_path, BASE), ENV)
    assert (check.code, check.problems, check.warnings) == (0, [], [])
    assert check.config is not None
    assert C.summary(check.config) == (
        f"{tmp_path / 'config.toml'} OK: 2 regions, 2 managers, 2 clients, "
        "provider jmap (https://jmap.example/session), user alice"
    )


def test_check_config_lists_every_problem(tmp_path: Path) -> None:
    with_token(tmp_path)
    text = edit('"US-NY"', '"US-ZZ"', edit('tier = "premium"', 'tier = "gold"'))
    check = C.check_config(write(tmp_path, text), ENV)
    assert check.code == 2 and check.config is None
    keys = [p.key for p in check.problems]
    assert keys == ["regions.us-east.holidays", 'clients."acme.com".tier']


def test_check_config_missing_file(tmp_path: Path) -> None:
    check = C.check_config(tmp_path / "absent.toml", ENV)
    assert check.code == 2 and "file not found" in str(check.problems[0])


def test_check_config_refuses_open_token_file(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    with_token(tmp_path, 0o644)
    check = C.check_config(path, ENV)
    [problem] = check.problems
    assert problem.key == "provider.token_file" and "Permissions 0644" in problem.message
    assert SECRET not in str(problem)
    (tmp_path / "token").chmod(0o600)
    assert C.check_config(path, ENV).code == 0


def test_a_missing_token_file_is_a_problem_the_examples_own_path_a_warning(
    tmp_path: Path,
) -> None:
    missing = C.check_config(write(tmp_path, BASE), ENV)
    assert [p.key for p in missing.problems] == ["provider.token_file"]
    assert "no such file" in missing.problems[0].message and missing.warnings == []
    example = edit('token_file = "token"', 'token_file = "~/.config/triage/token"')
    home = {"HOME": str(tmp_path / "home")}
    check = C.check_config(write(tmp_path, example), home)
    assert check.code == 0 and [w.key for w in check.warnings] == ["provider.token_file"]
    assert str(tmp_path / "home/.config/triage/token") in check.warnings[0].message


def test_a_token_in_the_environment_needs_no_token_file(tmp_path: Path) -> None:
    text = edit('token_file = "token"', 'token_env = "TRIAGE_TOKEN"')
    path = write(tmp_path, text)
    assert C.check_config(path, {**ENV, "TRIAGE_TOKEN": SECRET}).code == 0
    unset = C.check_config(path, ENV)
    assert unset.code == 2 and "TRIAGE_TOKEN is not set" in unset.problems[0].message
    both = write(tmp_path, text + "", name="both.toml")
    both.write_text(
        both.read_text().replace(
            'token_env = "TRIAGE_TOKEN"', 'token_env = "TRIAGE_TOKEN"\ntoken_file = "token"'
        )
    )
    assert C.check_config(both, {**ENV, "TRIAGE_TOKEN": SECRET}).code == 0  # env wins


def test_acknowledgers_default_to_the_ceo_and_must_be_known(tmp_path: Path) -> None:
    with_token(tmp_path)
    cfg = C.load_config(write(tmp_path, BASE), env=ENV)
    assert cfg.agency.acknowledgers == ("ceo",) and cfg.agency.may_acknowledge("ceo")
    assert not cfg.agency.may_acknowledge("alice")
    text = BASE.replace("[agency]\n", '[agency]\nacknowledgers = ["ceo", "alice", "zed"]\n')
    with pytest.raises(C.ConfigError, match=r"agency\.acknowledgers: manager 'zed'"):
        C.load_config(write(tmp_path, text), env=ENV)
    empty = BASE.replace("[agency]\n", "[agency]\nacknowledgers = []\n")
    with pytest.raises(C.ConfigError, match="list who may acknowledge"):
        C.load_config(write(tmp_path, empty), env=ENV)


def test_days_by_full_name_and_ranges_that_wrap() -> None:
    assert parse_days("Monday-Wednesday") == frozenset({0, 1, 2})
    assert parse_days("sat-mon") == frozenset({5, 6, 0})


def test_paths_expand_variables_and_home_and_never_make_a_literal_dollar(
    tmp_path: Path,
) -> None:
    env = {"HOME": "/home/tester", "TEAM_DIR": "/srv/team"}
    text = edit("[routing]", '[cache]\npath = "${TEAM_DIR}/triage/cache.json"\n\n[routing]')
    text = edit('token_file = "token"', 'token_file = "$HOME/.config/triage/token"', text)
    cfg = C.load_config(write(tmp_path, text), env=env)
    assert cfg.cache_path == Path("/srv/team/triage/cache.json")
    assert cfg.provider.token_file == Path("/home/tester/.config/triage/token")
    root_home = C.load_config(write(tmp_path, edit('token_file = "token"',
                                                   'token_file = "~root/t"')), env=env)  # fmt: skip
    assert root_home.provider.token_file == Path("/root/t")


def test_deeply_nested_toml_is_a_config_error_not_a_crash(tmp_path: Path) -> None:
    text = BASE + "\n[deep]\nx = " + "[" * 100_000 + "]" * 100_000 + "\n"
    with pytest.raises(C.ConfigError, match=r"nested too deeply|not valid TOML"):
        C.load_config(write(tmp_path, text), env=ENV)


# ---- the provider kinds ----

GRAPH = '[provider]\nkind = "graph"\nmailbox = "clients@agency.example"\nclient_id = "abc"\n'
GMAIL = '[provider]\nkind = "gmail"\nuser = "clients@agency.example"\nclient_id = "abc"\n'


def with_provider(section: str) -> str:
    rest = BASE.partition("[user]")[2]
    return section + "\n[user]" + rest


def test_a_graph_provider_gets_its_defaults_and_a_login_token_path(tmp_path: Path) -> None:
    cfg = C.load_config(write(tmp_path, with_provider(GRAPH)), env=ENV)
    p = cfg.provider
    assert (p.kind, p.auth, p.folder, p.tenant) == ("graph", "oauth", "inbox", "organizations")
    assert (p.api_url, p.login_url) == (
        "https://graph.microsoft.com/v1.0", "https://login.microsoftonline.com"
    )  # fmt: skip
    assert p.token_file == Path("/home/tester/.config/triage/graph-token.json")
    check = C.check_config(write(tmp_path, with_provider(GRAPH)), ENV)
    assert check.code == 0 and "run `triage login`" in check.warnings[0].message


def test_a_gmail_provider_gets_its_defaults(tmp_path: Path) -> None:
    p = C.load_config(write(tmp_path, with_provider(GMAIL)), env=ENV).provider
    assert (p.kind, p.auth, p.label) == ("gmail", "oauth", "INBOX")
    assert p.user == "clients@agency.example"
    assert (p.api_url, p.token_url) == (
        "https://gmail.googleapis.com", "https://oauth2.googleapis.com/token"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("section", "key", "says"),
    [
        (GRAPH + 'session_url = "https://x"\n', "provider.session_url", "only for kind = 'jmap'"),
        (GRAPH + 'label = "INBOX"\n', "provider.label", "only for kind = 'gmail'"),
        (GRAPH + 'foldr = "inbox"\n', "provider.foldr", "did you mean 'folder'"),
        (GRAPH.replace('client_id = "abc"\n', ""), "provider.client_id", "missing"),
        (GRAPH.replace('mailbox = "clients@agency.example"\n', ""), "provider.mailbox", "missing"),
        (GRAPH + 'auth = "basic"\n', "provider.auth", "'oauth', 'bearer'"),
        (GRAPH + 'api_url = "graph.local"\n', "provider.api_url", "http(s) URL"),
        (GMAIL + 'auth = "service_account"\n', "provider.key_file", "missing"),
        (GMAIL.replace("clients@agency.example", "me") + 'auth = "service_account"\n'
         'key_file = "sa.json"\n', "provider.user", "impersonates"),
        (GMAIL + 'auth = "bearer"\n', "provider.token_file", "missing"),
        (GMAIL + 'folder = "x"\n', "provider.folder", "only for kind = 'graph'"),
    ],
)  # fmt: skip
def test_each_provider_kind_checks_its_own_keys(
    tmp_path: Path, section: str, key: str, says: str
) -> None:
    with pytest.raises(C.ConfigError) as e:
        C.load_config(write(tmp_path, with_provider(section)), env=ENV)
    assert [p.key for p in e.value.problems] == [key] and says in e.value.problems[0].message


def test_a_demo_config_keeps_every_kinds_keys(tmp_path: Path) -> None:
    demo = GRAPH.replace('"graph"', '"demo"') + 'session_url = "https://x"\nlabel = "INBOX"\n'
    assert C.load_config(write(tmp_path, with_provider(demo)), env=ENV).provider.kind == "demo"


def test_a_service_accounts_key_file_is_checked_like_a_token(tmp_path: Path) -> None:
    key = tmp_path / "sa.json"
    key.write_text("{}")
    key.chmod(0o644)
    section = GMAIL + 'auth = "service_account"\nkey_file = "sa.json"\n'
    check = C.check_config(write(tmp_path, with_provider(section)), ENV)
    assert [p.key for p in check.problems] == ["provider.key_file"]
    key.chmod(0o600)
    assert C.check_config(write(tmp_path, with_provider(section)), ENV).code == 0


def test_a_gmail_oauth_clients_file_must_exist_and_login_is_pending(tmp_path: Path) -> None:
    section = GMAIL + 'client_secret_file = "google-client.json"\n'
    check = C.check_config(write(tmp_path, with_provider(section)), ENV)
    assert [p.key for p in check.problems] == ["provider.client_secret_file"]
    assert "Desktop client's JSON" in check.problems[0].message
    (tmp_path / "google-client.json").write_text('{"installed": {"client_secret": "x"}}')
    check = C.check_config(write(tmp_path, with_provider(section)), ENV)
    assert check.code == 0 and "run `triage login`" in check.warnings[0].message
    assert check.config is not None
    assert check.config.provider.token_file == Path("/home/tester/.config/triage/gmail-token.json")


def test_working_hours_of_a_manager_and_the_alerts_table(tmp_path: Path) -> None:
    text = edit('email = "alice@agency.example"\n',
                'email = "alice@agency.example"\ntimezone = "America/Toronto"\n'
                'hours = "08:00-16:00"\ndays = "mon-thu"\n')  # fmt: skip
    text += '[alerts]\nbell = false\ndesktop = "osc9"\noutside_hours = true\nwatch_seconds = 30\n'
    cfg = C.load_config(write(tmp_path, text), env=ENV)
    assert (cfg.alerts.email, cfg.alerts.watch_seconds) == (True, 30.0)
    alice = cfg.managers["alice"]
    assert (alice.timezone, alice.hours, alice.days) == (
        "America/Toronto", (time(8), time(16)), frozenset({0, 1, 2, 3}))  # fmt: skip
    assert (cfg.alerts.bell, cfg.alerts.toast, cfg.alerts.desktop, cfg.alerts.outside_hours) == (
        False, True, "osc9", True)  # fmt: skip
    no_zone = 'email = "alice@agency.example"\nhours = "08:00-16:00"\n'
    bad = problems(tmp_path, edit('email = "alice@agency.example"\n', no_zone))
    assert [p.key for p in bad] == ["managers.alice.timezone"]
