"""Routing: sender -> client account -> region and owner (full address beats domain)."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.config import Config, load_config
from triage.domain import ownership, routing
from triage.domain.model import Tier

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
