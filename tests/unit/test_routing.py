"""Routing: sender -> client account -> region and owner (full address beats domain)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.builders import agency_config
from triage.config import Config, load_config
from triage.domain import ownership, routing
from triage.domain.model import Client, Route, Tier
from triage.domain.settings import AgencyConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


@pytest.fixture(scope="module")
def cfg() -> Config:
    return load_config(EXAMPLE, env={"HOME": "/nonexistent"})


def test_domain_match_gives_the_account(cfg: Config) -> None:
    key = next(k for k in cfg.clients if "@" not in k)
    client = cfg.clients[key]
    r = routing.route(f"someone@{key}", "Someone", cfg)
    assert (r.client_key, r.region, r.region_guessed) == (key, client.region, False)
    assert ownership.directory_owner(r, cfg) == client.owner


def test_subdomain_matches_its_parent(cfg: Config) -> None:
    key = next(k for k in cfg.clients if "@" not in k)
    assert routing.route(f"x@mail.eu.{key}", "", cfg).client_key == key


def test_full_address_beats_its_domain(cfg: Config) -> None:
    key = next(k for k in cfg.clients if "@" in k)
    r = routing.route(key.upper(), "", cfg)
    assert r.client_key == key and not r.region_guessed


def test_address_case_and_brackets_are_ignored(cfg: Config) -> None:
    key = next(k for k in cfg.clients if "@" not in k)
    assert routing.route(f"<Boss@{key.upper()}>", "", cfg).client_key == key


def test_unknown_ca_sender_falls_back_by_tld_and_is_guessed(cfg: Config) -> None:
    r = routing.route("new@unknown-maple.ca", "New Person", cfg)
    assert r.region == cfg.routing.tld["ca"]
    assert r.region_guessed and r.tier is Tier.STANDARD and r.client_name == "New Person"


def test_unknown_sender_gets_default_region_and_a_qualified_owner(cfg: Config) -> None:
    r = routing.route("who@nowhere.example", "", cfg)
    assert r.region == cfg.routing.default_region and r.region_guessed
    assert r.region in cfg.managers[ownership.directory_owner(r, cfg)].regions


def test_staff_are_never_clients(cfg: Config) -> None:
    staff = cfg.agency.staff_domains[0]
    assert routing.is_staff(f"alice@{staff}", cfg)
    assert routing.is_staff(f"bot@mail.{staff}", cfg)
    assert not routing.is_staff(f"alice@not{staff}", cfg)


def test_ceo_address(cfg: Config) -> None:
    assert routing.is_ceo(cfg.agency.ceo.upper(), cfg)
    assert not routing.is_ceo("someone@" + cfg.agency.staff_domains[0], cfg)


# ---- on a small config whose every answer differs (tests/support/builders.py) ----

AGENCY = agency_config()


def test_a_known_client_routes_with_its_name_region_and_tier() -> None:
    assert routing.route("Boss@Acme.example", "Ignored", AGENCY) == Route(
        "acme.example", "Acme", "us-east", Tier.STANDARD, False
    )
    assert routing.route("vip@acme.example", "", AGENCY) == Route(
        "vip@acme.example", "Acme VIP", "us-west", Tier.PREMIUM, False
    )


def test_a_domain_of_three_labels_falls_back_by_its_last_label() -> None:
    r = routing.route("x@mail.maple.ca", "", AGENCY)
    assert r == Route("mail.maple.ca", "mail.maple.ca", "ca-qc", Tier.STANDARD, True)


def test_an_unknown_domain_without_a_tld_rule_gets_the_default_region() -> None:
    assert routing.route("x@nowhere.example", "", AGENCY).region == "us-west"


def test_a_bare_top_level_domain_is_never_a_client_key() -> None:
    clients = {**AGENCY.clients, "example": Client("example", "Everyone", "ca-qc", "bob")}
    cfg = agency_config(clients=clients)
    assert routing.find_client("x@shop.example", cfg) is None
    assert routing.route("x@shop.example", "", cfg).region_guessed


def test_an_unknown_sender_is_named_by_display_name_then_domain_then_address() -> None:
    assert routing.route("x@shop.example", " Dana ", AGENCY).client_name == "Dana"
    assert routing.route("x@shop.example", "", AGENCY).client_name == "shop.example"
    assert routing.route(" Not-An-Address ", "", AGENCY).client_name == "not-an-address"


def test_every_staff_domain_counts_and_no_ceo_configured_means_nobody_is() -> None:
    assert routing.is_staff("bob@agency.ca", AGENCY)
    assert routing.is_staff("alice@agency.example", AGENCY)
    no_ceo = agency_config(agency=AgencyConfig(("agency.example",), ""))
    assert not routing.is_ceo("", no_ceo) and not routing.is_ceo("ceo@agency.example", no_ceo)


@pytest.mark.parametrize(
    ("name", "address", "why"),
    [
        ("Alice Martin", "x@client.example",
         "the name is Alice Martin's, but the address is outside the agency"),
        ("CEO", "x@client.example", "the name says CEO, but the address is outside the agency"),
        ("Dana", "not-an-address", "the sender has no valid address"),
        ("Dana", "dana@client.example", ""),
        ("   ", "not-an-address", ""),
    ],
)  # fmt: skip
def test_impersonation_says_why(name: str, address: str, why: str) -> None:
    assert routing.impersonation(name, address, AGENCY) == why
