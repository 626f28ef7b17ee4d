"""Look-alike addresses are not staff, not the CEO; impersonating display names are flagged."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from triage.config import Config, load_config
from triage.domain import addresses, routing
from triage.domain.conversation import derive
from triage.domain.model import MessageInfo, ThreadData

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
KELVIN, LONG_S = "\u212a", "\u017f"  # casefold to "k" and "s"


@pytest.fixture(scope="module")
def cfg() -> Config:
    base = load_config(EXAMPLE, env={"HOME": "/nonexistent"})
    agency = dataclasses.replace(base.agency, staff_domains=("kestrel-ads.example",),
                                 ceo="ceo@kestrel-ads.example")  # fmt: skip
    return dataclasses.replace(base, agency=agency)


@pytest.mark.parametrize(
    "sender",
    [
        f"alice@{KELVIN}estrel-ads.example",  # Kelvin sign for k
        f"alice@kestrel-ad{LONG_S}.example",  # long s for s
        "alice@kestrel-ads.example\u200b",  # a zero-width space
        "alice@xn--kestrel-ads-.example",  # not even a valid A-label
    ],
)
def test_a_look_alike_domain_is_not_staff(cfg: Config, sender: str) -> None:
    assert not routing.is_staff(sender, cfg)


def test_real_staff_in_any_ascii_case_and_subdomains(cfg: Config) -> None:
    assert routing.is_staff("Alice@KESTREL-ADS.example", cfg)
    assert routing.is_staff("bot@mail.kestrel-ads.example.", cfg)
    assert not routing.is_staff("alice@notkestrel-ads.example", cfg)


def test_the_ceo_in_look_alike_form_is_not_the_ceo(cfg: Config) -> None:
    assert routing.is_ceo("CEO@Kestrel-Ads.example", cfg)
    assert not routing.is_ceo(f"ceo@{KELVIN}estrel-ads.example", cfg)
    assert not routing.is_ceo("c\u0435o@kestrel-ads.example", cfg)  # Cyrillic e


def test_an_idn_domain_compares_in_its_ascii_form() -> None:
    assert addresses.domain_key("Bücher.example") == "xn--bcher-kva.example"
    assert addresses.normalize("Ann <ANN@bücher.example>") == "ann@xn--bcher-kva.example"
    assert addresses.domain_key(f"{KELVIN}.example") == addresses.UNMATCHABLE


def test_two_at_signs_keep_the_last_domain() -> None:
    assert addresses.split('"a@b"@client.example') == ('"a@b"', "client.example")
    assert addresses.domain_of("x@evil.example@kestrel-ads.example") == "kestrel-ads.example"
    assert addresses.split("no-at-sign") == ("", "")


def at(hour: int) -> datetime:
    return datetime(2026, 11, 24, hour, tzinfo=UTC)


def test_a_look_alike_reply_does_not_answer_the_client(cfg: Config) -> None:
    """The worst failure: a fake staff reply taking the client's conversation out of the queue."""
    client = next(k for k in cfg.clients if "@" not in k)
    msgs = (
        MessageInfo("e1", "T", f"a@{client}", "A", (), (), "Help", at(15), in_watched=True),
        MessageInfo(
            "e2",
            "T",
            f"alice@{KELVIN}estrel-ads.example",
            "Alice Martin",
            (),
            (),
            "Re: Help",
            at(16),
            in_watched=True,
        ),
    )
    conv = derive(ThreadData("T", msgs), cfg, {})
    assert conv is not None and conv.waiting and conv.deadline is not None
    assert "Alice Martin" in conv.impersonation


@pytest.mark.parametrize(
    ("name", "flagged"),
    [
        ("Alice Martin", True),
        ("ALICE  MARTÍN", True),  # case, spacing and an accent do not hide it
        ("CEO Office", True),
        ("Tom Brennan (CEO)", True),
        ("Chief Executive Officer", True),
        ("Ceolo Bakery", False),  # "ceo" inside a word is not a title
        ("Dana Whitfield", False),
        ("", False),
    ],
)
def test_display_names_that_pose_as_staff_or_the_ceo(cfg: Config, name: str, flagged: bool) -> None:
    assert bool(routing.impersonation(name, "x@client.example", cfg)) is flagged
    assert routing.impersonation(name, "alice@kestrel-ads.example", cfg) == ""  # staff may


def test_only_a_complete_angle_bracket_pair_is_unwrapped() -> None:
    assert addresses.split("Ann <ann@client.example>") == ("ann", "client.example")
    assert addresses.split("<ann@client.example") == ("<ann", "client.example")
    # A display name may hold "<": the last bracketed part is the address.
    assert addresses.split('"A <B>" <ann@client.example>') == ("ann", "client.example")


def test_an_address_without_a_domain_compares_as_its_lowered_text() -> None:
    assert addresses.normalize("  Not-An-Address ") == "not-an-address"
    assert addresses.domain_of("not-an-address") == ""


def test_no_domain_and_an_invalid_domain_are_in_no_list() -> None:
    assert not addresses.in_domains("", ("",))
    assert not addresses.in_domains(addresses.UNMATCHABLE, (addresses.UNMATCHABLE,))
    assert addresses.in_domains("mail.agency.example", ("other.example", "agency.example"))


def test_a_name_key_keeps_only_letters_and_digits_folded() -> None:
    assert addresses.name_key("Alice  MARTÍN 2") == "alicemartin2"
