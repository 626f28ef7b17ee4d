"""Reply targets by contract: client > tier > region, first vs next reply, closures.

The worked examples are computed by hand in the comments; the config is read from
TOML as a user writes it, so the keys are tested with the rule.
"""

from __future__ import annotations

import functools
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage.config import Config, ConfigError, load_config
from triage.domain import calendar
from triage.domain.conversation import derive
from triage.domain.model import MessageInfo, ThreadData, Tier
from triage.domain.targets import target_for

CONFIG = """
[provider]
kind = "demo"

[user]
manager = "alice"

[agency]
staff_domains = ["agency.example"]
ceo = "ceo@agency.example"

[tiers.premium]
first_reply_within = "30m"

[regions.us-east]
label = "US East"
timezone = "America/New_York"
hours = "09:00-17:00"
holidays = "US"
reply_within = "1h"
closed = ["2026-12-28"]

[regions.ca-qc]
label = "Quebec"
timezone = "America/Montreal"
hours = "09:00-17:00"
holidays = "CA-QC"
reply_within = "next-business-day"
hours_on = { "2026-12-24" = "08:00-12:00" }

[managers.alice]
name = "Alice Martin"
email = "alice@agency.example"
regions = ["us-east", "ca-qc"]

[clients."acme.com"]
name = "Acme"
region = "us-east"
owner = "alice"
tier = "premium"

[clients."vip.com"]
name = "VIP Bank"
region = "us-east"
owner = "alice"
tier = "premium"
reply_within = "15m"

[clients."plain.com"]
name = "Plain Co"
region = "us-east"
owner = "alice"

[clients."erable.ca"]
name = "Erable"
region = "ca-qc"
owner = "alice"

[routing]
default_region = "us-east"
"""


def load(tmp_path: Path, text: str = CONFIG) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, env={"HOME": str(tmp_path)})


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    return load(tmp_path)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def mail(at: str, sender: str, n: list[int] = [0]) -> MessageInfo:  # noqa: B006 - unique ids
    n[0] += 1
    return MessageInfo(f"e{n[0]}", "T", sender, "", ("team@agency.example",), (), "Help",
                       utc(at), f"m{n[0]}@x", in_watched=True)  # fmt: skip


def test_a_premium_first_reply_of_30m_runs_across_the_closing_time(cfg: Config) -> None:
    # Tue 1 Dec 16:50 EST (21:50Z): 10 minutes today, 20 tomorrow from 09:00 -> Wed 09:20 EST.
    conv = derive(ThreadData("T", (mail("2026-12-01T21:50:00", "dana@acme.com"),)), cfg, {})
    assert conv is not None and conv.deadline == utc("2026-12-02T14:20:00")
    assert (conv.target, conv.target_source) == ("first reply, premium tier: 30m", "tier")


def test_a_client_override_beats_its_tier(cfg: Config) -> None:
    # vip.com is premium (first reply 30m) but its contract says 15m: Tue 10:00 -> 10:15 EST.
    conv = derive(ThreadData("T", (mail("2026-12-01T15:00:00", "ceo@vip.com"),)), cfg, {})
    assert conv is not None and conv.deadline == utc("2026-12-01T15:15:00")
    assert (conv.target, conv.target_source) == ("first reply, client VIP Bank: 15m", "client")


def test_the_next_reply_after_a_staff_answer_uses_the_regions_target(cfg: Config) -> None:
    # First 10:00, answered 10:10; the client writes again at 11:00: the premium tier sets
    # no reply_within, so the region's hour applies -> 12:00 EST (17:00Z).
    t = ThreadData("T", (mail("2026-12-01T15:00:00", "dana@acme.com"),
                         mail("2026-12-01T15:10:00", "alice@agency.example"),
                         mail("2026-12-01T16:00:00", "dana@acme.com")))  # fmt: skip
    conv = derive(t, cfg, {})
    assert conv is not None and conv.deadline == utc("2026-12-01T17:00:00")
    assert (conv.target, conv.target_source) == ("next reply, region US East: 1h", "region")
    # ... and the answer at 10:10 is measured against the first-reply target it had
    assert conv.reply_seconds == 600 and conv.reply_on_time is True


def test_a_short_day_on_december_24_in_quebec(cfg: Config) -> None:
    # Wed 23 Dec 15:00 EST, next business day: Thu 24 Dec, a short day closing at 12:00
    # (17:00Z), not 17:00 EST.
    region = cfg.regions["ca-qc"]
    arrival = utc("2026-12-23T20:00:00")
    target = target_for(True, "erable.ca", Tier.STANDARD, region, cfg)
    assert target.within is None and target.label == "first reply, region Quebec: next business day"
    assert calendar.deadline(arrival, region, target.within) == utc("2026-12-24T17:00:00")
    # a message on the short day itself at 11:00 starts its clock at once
    assert calendar.clock_start(utc("2026-12-24T16:00:00"), region) == utc("2026-12-24T16:00:00")
    assert calendar.clock_start(utc("2026-12-24T18:00:00"), region) > utc("2026-12-26T00:00:00")


def test_a_closed_day_that_is_no_public_holiday(cfg: Config) -> None:
    # Sat 26 Dec 12:00 EST; Mon 28 Dec is closed (not a US holiday): the clock starts
    # Tue 29 Dec 09:00 EST, and Plain Co's first reply (region: 1h) is due 10:00 EST.
    region = cfg.regions["us-east"]
    conv = derive(ThreadData("T", (mail("2026-12-26T17:00:00", "pat@plain.com"),)), cfg, {})
    assert conv is not None
    assert conv.clock_start == utc("2026-12-29T14:00:00")
    assert conv.deadline == utc("2026-12-29T15:00:00")
    assert calendar.closed_because(datetime(2026, 12, 28).date(), region).startswith("closed")
    assert calendar.closed_because(datetime(2026, 12, 25).date(), region) == "a public holiday"


def test_without_the_new_keys_every_deadline_is_the_regions(tmp_path: Path) -> None:
    plain = CONFIG.replace('[tiers.premium]\nfirst_reply_within = "30m"\n', "").replace(
        'reply_within = "15m"\n', "")  # fmt: skip
    cfg = load(tmp_path, plain)
    for sender, at in (("dana@acme.com", "2026-12-01T21:50:00"),
                       ("ceo@vip.com", "2026-12-01T15:00:00")):  # fmt: skip
        conv = derive(ThreadData("T", (mail(at, sender),)), cfg, {})
        region = cfg.regions["us-east"]
        assert conv is not None and conv.deadline == calendar.deadline(utc(at), region)
        assert conv.target_source == "region"


@pytest.mark.parametrize(
    ("edit", "key", "words"),
    [
        ('first_reply_within = "30m"', 'first_reply_within = "soon"', "bad duration"),
        ("[tiers.premium]", "[tiers.gold]", "'gold' is not one of"),
        ('closed = ["2026-12-28"]', 'closed = ["28/12/2026"]', "not a date"),
        ('{ "2026-12-24" = "08:00-12:00" }', '{ "2026-12-24" = "12:00-08:00" }', "open before"),
        ('reply_within = "15m"', 'reply_within = "0m"', "longer than zero"),
        ('first_reply_within = "30m"', 'first_within = "30m"', "unknown key"),
    ],
)
def test_each_new_key_is_checked_by_name(tmp_path: Path, edit: str, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, CONFIG.replace(edit, key, 1))
    assert any(words in p.message for p in info.value.problems), info.value.problems


def test_a_day_both_closed_and_short_is_refused(tmp_path: Path) -> None:
    text = CONFIG.replace('closed = ["2026-12-28"]', 'closed = ["2026-12-28"]\n'
                          'hours_on = { "2026-12-28" = "09:00-12:00" }')  # fmt: skip
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    [problem] = info.value.problems
    assert problem.key == "regions.us-east.hours_on.2026-12-28"
    assert "closed or short, not both" in problem.message


ARRIVALS = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31),
                        timezones=st.just(UTC))  # fmt: skip
MINUTES = st.integers(min_value=1, max_value=60 * 40)


@given(arrival=ARRIVALS, a=MINUTES, b=MINUTES)
def test_a_tighter_target_never_gives_a_later_deadline(arrival: datetime, a: int, b: int) -> None:
    for region in shared_config().regions.values():
        tight, loose = sorted((timedelta(minutes=a), timedelta(minutes=b)))
        assert calendar.deadline(arrival, region, tight) <= calendar.deadline(
            arrival, region, loose
        )
        assert calendar.deadline(arrival, region, None) >= calendar.clock_start(arrival, region)


@given(arrival=ARRIVALS)
def test_the_regions_own_target_is_the_default(arrival: datetime) -> None:
    for region in shared_config().regions.values():
        own = calendar.deadline(arrival, region)
        assert calendar.deadline(arrival, region, region.reply_within) == own


@functools.cache
def shared_config() -> Config:
    """One config for the property tests (read once, from a scratch directory)."""
    return load(Path(tempfile.mkdtemp(prefix="triage-targets-")))
