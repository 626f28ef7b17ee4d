"""Build the model's regions, managers and clients, and the key map, from config tables.

Each builder reads one TOML table through a triage.config_reader.Reader, records every
problem it finds, and returns the model object (or None when that entry has problems,
so one bad entry does not hide the others). The sections that build triage.config.loader's
own dataclasses (provider, agency, routing, user) stay in triage.config.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from triage.config.reader import HOST, Reader, choice, is_address, join_key, undefined
from triage.config.values import NEXT_BUSINESS_DAY as NEXT_BUSINESS_DAY_KEY
from triage.config.values import (
    check_holidays,
    check_timezone,
    parse_days,
    parse_duration,
    parse_hours,
)
from triage.domain import signals
from triage.domain.addresses import domain_key, normalize
from triage.domain.model import (
    CEO_ID,
    NEXT_BUSINESS_DAY,
    Client,
    Manager,
    Region,
    Targets,
    Tier,
    Within,
)
from triage.domain.settings import AlertsConfig, SignalsConfig
from triage.domain.templates import PLACEHOLDERS, Template, unknown_placeholders
from triage.text.i18n import _

REGION_KEYS = ("label", "timezone", "holidays", "hours", "days", "reply_within",
               "first_reply_within", "closed", "hours_on")  # fmt: skip
TARGET_KEYS = ("reply_within", "first_reply_within")
MANAGER_KEYS = ("name", "email", "regions", "signature", "timezone", "hours", "days")
ALERT_KEYS = ("bell", "toast", "desktop", "outside_hours", "email", "watch_seconds")
SIGNAL_KEYS = ("new_manager_phrases",)
PHRASE_WORDS = 3  # fewer words than this match ordinary sentences: too many false alarms
TEMPLATE_KEYS = ("body", "title", "language")
LANGUAGES = ("en", "fr")  # what [user], [clients.*] and [templates.*] language may say
CLIENT_KEYS = ("name", "region", "owner", "tier", "language", *TARGET_KEYS)
KEY_ID = re.compile(r"[a-z][a-z0-9_]*")


def build_region(r: Reader, rid: str, tbl: dict[str, Any]) -> Region | None:
    p = join_key("regions", rid)
    before = len(r.problems)
    r.known(tbl, REGION_KEYS, p)
    tz = r.string(tbl, "timezone", p, None)
    if tz:
        r.parsed(f"{p}.timezone", check_timezone, tz)
    holiday_code = r.parsed(f"{p}.holidays", check_holidays, r.string(tbl, "holidays", p, ""))
    hours = r.parsed(f"{p}.hours", parse_hours, r.string(tbl, "hours", p, None))
    days = r.parsed(f"{p}.days", parse_days, r.string(tbl, "days", p, "mon-fri"))
    within = r.parsed(f"{p}.reply_within", parse_duration, r.string(tbl, "reply_within", p, None))
    first = build_targets(r, tbl, p, ("first_reply_within",)).first_reply_within
    closed, hours_on = _closures(r, tbl, p)
    label = r.string(tbl, "label", p, rid)
    if len(r.problems) > before:
        return None
    return Region(rid, label, tz, holiday_code or "", hours, days or frozenset(), within,
                  first, closed, hours_on)  # fmt: skip


def build_targets(
    r: Reader, tbl: dict[str, Any], p: str, keys: tuple[str, ...] = TARGET_KEYS
) -> Targets:
    """`reply_within` / `first_reply_within` where set (a duration or next-business-day)."""
    found: dict[str, Within] = {}
    for key in keys:
        if key in tbl:
            text = r.string(tbl, key, p, None)
            span = r.parsed(f"{p}.{key}", parse_duration, text) if text else None
            if text and (
                span is not None or text.strip().lower().replace(" ", "") == NEXT_BUSINESS_DAY_KEY
            ):
                found[key] = span if span is not None else NEXT_BUSINESS_DAY
    return Targets(found.get("reply_within"), found.get("first_reply_within"))


def _closures(
    r: Reader, tbl: dict[str, Any], p: str
) -> tuple[frozenset[date], tuple[tuple[date, time, time], ...]]:
    """`closed = ["2026-12-24"]` whole days, `hours_on = {"2026-12-24" = "08:00-12:00"}`."""
    closed = {d for text in r.strings(tbl, "closed", p)
              if (d := r.parsed(f"{p}.closed", _day_of, text)) is not None}  # fmt: skip
    hours_on = []
    for text, hours in r.table(tbl.get("hours_on", {}), f"{p}.hours_on").items():
        key = join_key(f"{p}.hours_on", text)
        day = r.parsed(key, _day_of, text)
        span = r.parsed(key, parse_hours, hours) if isinstance(hours, str) else None
        if not isinstance(hours, str):
            r.problem(key, _("expected hours such as '08:00-12:00'"))
        if day in closed:
            r.problem(
                key,
                _("{text} is also in {p}.closed: a day is closed or short, not both").format(
                    text=text, p=p
                ),
            )
        elif day is not None and span is not None:
            hours_on.append((day, *span))
    return frozenset(closed), tuple(sorted(hours_on))


def _day_of(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            _("{text!r} is not a date such as '2026-12-24'").format(text=text)
        ) from None


def build_manager(r: Reader, mid: str, tbl: dict[str, Any], region_ids: set[str]) -> Manager | None:
    p = join_key("managers", mid)
    before = len(r.problems)
    r.known(tbl, MANAGER_KEYS, p)
    if mid == CEO_ID:
        r.problem(
            p,
            _("{CEO_ID!r} is reserved for the CEO; choose another manager id").format(
                CEO_ID=CEO_ID
            ),
        )
    name = r.string(tbl, "name", p, None)
    email = normalize(r.string(tbl, "email", p, None))
    if "email" in tbl and not is_address(email):
        r.problem(f"{p}.email", _("{email!r} is not an email address").format(email=email))
    regions = r.strings(tbl, "regions", p)
    for region in regions:
        if region not in region_ids:
            r.problem(f"{p}.regions", undefined("region", region, region_ids))
    signature = r.string(tbl, "signature", p, "")
    tz, hours, days = _shift(r, tbl, p)
    if len(r.problems) != before:
        return None
    return Manager(mid, name, email, regions, signature.strip("\n"), tz, hours, days)


def _shift(
    r: Reader, tbl: dict[str, Any], p: str
) -> tuple[str, tuple[time, time] | None, frozenset[int]]:
    """A manager's working hours: `timezone`, `hours`, `days` as for regions (optional;
    hours need a timezone)."""
    tz = r.string(tbl, "timezone", p, "")
    if tz:
        r.parsed(f"{p}.timezone", check_timezone, tz)
    text = r.string(tbl, "hours", p, "")
    hours = r.parsed(f"{p}.hours", parse_hours, text) if text else None
    if hours is not None and not tz:
        r.problem(f"{p}.timezone", _("working hours need a timezone such as 'America/Toronto'"))
    days = r.parsed(f"{p}.days", parse_days, r.string(tbl, "days", p, "mon-fri"))
    return tz, hours, days or frozenset(range(5))


def build_alerts(r: Reader, tbl: dict[str, Any]) -> AlertsConfig:
    """`[alerts]`: bell, toast, desktop ("off", "osc9", "osc777"), outside_hours, and the
    email nudges of `triage watch` (email, watch_seconds)."""
    r.known(tbl, ALERT_KEYS, "alerts")
    desktop = r.string(tbl, "desktop", "alerts", "off")
    choice(r, "alerts.desktop", desktop, ("off", "osc9", "osc777"))
    return AlertsConfig(
        bell=r.boolean(tbl, "bell", "alerts", True),
        toast=r.boolean(tbl, "toast", "alerts", True),
        desktop=desktop,
        outside_hours=r.boolean(tbl, "outside_hours", "alerts", False),
        email=r.boolean(tbl, "email", "alerts", True),
        watch_seconds=r.number(tbl, "watch_seconds", "alerts", 60.0, minimum=5, maximum=3600),
    )


def build_signals(r: Reader, tbl: dict[str, Any]) -> SignalsConfig:
    """`[signals]`: `new_manager_phrases`, added to the built-in English and French ones."""
    r.known(tbl, SIGNAL_KEYS, "signals")
    extra = r.strings(tbl, "new_manager_phrases", "signals")
    for i, phrase in enumerate(extra):
        words = signals.fold(phrase).split()
        if len(words) < PHRASE_WORDS or len(phrase) > 200:
            r.problem(f"signals.new_manager_phrases[{i}]",
                      _("a phrase of {words} words or more (and at most 200 characters), such "
                        "as 'I want someone else': got {phrase!r}").format(
                            words=PHRASE_WORDS, phrase=phrase[:60]))  # fmt: skip
    return SignalsConfig(signals.phrases(extra))


def build_templates(r: Reader, tbl: dict[str, Any]) -> dict[str, Template]:
    """`[templates.NAME]`: a body whose placeholders are all known, and a title."""
    out: dict[str, Template] = {}
    for name, raw in tbl.items():
        p = join_key("templates", name)
        t = r.table(raw, p)
        r.known(t, TEMPLATE_KEYS, p)
        body = r.string(t, "body", p, None)  # required: a missing body is a problem
        if "body" not in t:
            continue
        if unknown := unknown_placeholders(body):
            known = ", ".join("{" + k + "}" for k in PLACEHOLDERS)
            named = ", ".join("{" + u + "}" for u in unknown)
            r.problem(
                f"{p}.body",
                _("unknown placeholder {named} (known: {known})").format(named=named, known=known),
            )
            continue
        language = r.string(t, "language", p, "")
        if language:
            choice(r, f"{p}.language", language, LANGUAGES)
        out[name] = Template(name, body, r.string(t, "title", p, "") or name, language)
    return out


@dataclass(frozen=True)
class Known:
    """What the client and routing sections may refer to."""

    region_ids: set[str]
    manager_ids: set[str]
    managers: dict[str, Manager]
    staff_domains: tuple[str, ...]


def _client(r: Reader, key: str, tbl: dict[str, Any], known: Known) -> Client | None:
    p = join_key("clients", key)
    before = len(r.problems)
    r.known(tbl, CLIENT_KEYS, p)
    ckey = normalize(key) if "@" in key else domain_key(key)
    if not (is_address(ckey) if "@" in ckey else HOST.fullmatch(ckey)):
        r.problem(p, _("a client key must be an email domain ('acme.com') or one address"))
    if ckey.rpartition("@")[2] in known.staff_domains:
        r.problem(p, _("this is a staff domain (agency.staff_domains); staff are never clients"))
    name = r.string(tbl, "name", p, None)
    region = r.string(tbl, "region", p, None)
    owner = r.string(tbl, "owner", p, None)
    tier = r.string(tbl, "tier", p, "standard")
    choice(r, f"{p}.tier", tier, (t.value for t in Tier))
    language = r.string(tbl, "language", p, "")
    if language:
        choice(r, f"{p}.language", language, LANGUAGES)
    if region and region not in known.region_ids:
        r.problem(f"{p}.region", undefined("region", region, known.region_ids))
    if owner and owner not in known.manager_ids:
        r.problem(f"{p}.owner", undefined("manager", owner, known.manager_ids))
    manager = known.managers.get(owner)
    if manager and region in known.region_ids and region not in manager.regions:
        qualified = sorted(m.id for m in known.managers.values() if region in m.regions)
        r.problem(
            f"{p}.owner",
            _(
                "{owner!r} is not qualified for region {region!r} (managers.{owner}.regions; "
                "qualified: {qualified})"
            ).format(owner=owner, region=region, qualified=", ".join(qualified) or _("none")),
        )
    targets = build_targets(r, tbl, p)
    if len(r.problems) > before:
        return None
    return Client(ckey, name, region, owner, Tier(tier), targets, language)


def build_clients(r: Reader, tbl: dict[str, Any], known: Known) -> dict[str, Client]:
    clients: dict[str, Client] = {}
    for key, value in tbl.items():
        if (normalize(key) if "@" in key else domain_key(key)) in clients:
            r.problem(join_key("clients", key), _("defined twice (client keys ignore case)"))
        client = _client(r, key, r.table(value, join_key("clients", key)), known)
        if client:
            clients[client.key] = client
    return clients


def build_keys(r: Reader, tbl: dict[str, Any]) -> dict[str, str]:
    keys: dict[str, str] = {}
    for action, value in tbl.items():
        where = join_key("keys", action)
        if not KEY_ID.fullmatch(action):
            r.problem(where, _("an action id is lower case, such as 'reply'"))
        elif not isinstance(value, str) or not all(k.strip() for k in value.split(",")):
            r.problem(
                where, _("expected a key or a comma-separated list, such as 'r' or 'r,ctrl+r'")
            )
        else:
            keys[action] = ",".join(k.strip() for k in value.split(","))
    return keys


def build_tiers(r: Reader, tbl: dict[str, Any]) -> dict[Tier, Targets]:
    """`[tiers.premium]`, `[tiers.standard]`: the targets a tier's clients are promised."""
    out: dict[Tier, Targets] = {}
    for name, raw in tbl.items():
        p = join_key("tiers", name)
        t = r.table(raw, p)
        if name not in {tier.value for tier in Tier}:
            choice(r, p, name, (tier.value for tier in Tier))
            continue
        r.known(t, TARGET_KEYS, p)
        if not t:
            r.problem(p, _("set reply_within or first_reply_within (or leave the table out)"))
        out[Tier(name)] = build_targets(r, t, p)
    return out
