"""Which language triage speaks: --lang, else [user] language, else LC_ALL/LC_MESSAGES/LANG."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.test_config import BASE, edit, problems, write
from triage import config as C
from triage.cli import lang_from_argv, main
from triage.text.i18n import _, current, language_from_env, language_of, set_language

ENV = {"HOME": "/home/tester"}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LANG": "fr_CA.UTF-8"}, "fr"),
        ({"LANG": "en_CA.UTF-8"}, "en"),
        ({"LANG": "fr_CA.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "fr_FR.UTF-8"}, "fr"),
        ({"LC_ALL": "C", "LANG": "fr_CA.UTF-8"}, "en"),  # the first set decides
        ({"LANG": "de_DE.UTF-8"}, "en"),  # not spoken: English
        ({}, "en"),
    ],
)
def test_the_environment_picks_the_language(env: dict[str, str], expected: str) -> None:
    assert language_from_env(env) == expected


def test_locale_names_are_read_loosely() -> None:
    assert language_of("fr") == language_of("FR_ca") == language_of("fr-CA.utf8") == "fr"
    assert language_of("C.UTF-8") is None and language_of("POSIX") is None


def test_set_language_switches_the_catalogue_and_back() -> None:
    set_language("fr")
    assert (current(), _("Reply")) == ("fr", "Répondre")
    set_language("xx")
    assert (current(), _("Reply")) == ("en", "Reply")


def test_lang_is_read_before_the_parser_is_built() -> None:
    assert lang_from_argv(["--lang", "fr", "queue"]) == "fr"
    assert lang_from_argv(["queue", "--lang=en"]) == "en"
    assert lang_from_argv(["queue"]) is None


def test_the_help_is_french_with_lang_fr(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--lang", "fr", "queue", "--help"])
    out = capsys.readouterr().out
    assert "utilisation :" in out and "afficher cette aide et quitter" in out


def test_the_help_follows_lang_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LANG", "fr_CA.UTF-8")
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "la console, et des sous-commandes" in capsys.readouterr().out
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "the console, and subcommands" in capsys.readouterr().out


def test_errors_are_in_the_language(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "fr", "queue", "--now", "tomorrow", "--demo"]) == 2
    assert "pas un instant ISO 8601" in capsys.readouterr().err


def test_json_output_stays_english(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "fr", "--demo", "queue", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and {"thread_id", "state", "deadline"} <= set(rows[0])
    assert {r["state"] for r in rows} <= {"breached", "at_risk", "ok"}
    assert rows[0]["deadline"].endswith("Z")  # ISO times, UTC


def test_the_plain_queue_is_french_with_lang_fr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "fr", "--demo", "queue"]) == 0
    head = capsys.readouterr().out.splitlines()[0]
    assert "ÉTAT" in head and "OBJET" in head


def test_user_language_in_the_config_is_validated(tmp_path: Path) -> None:
    text = edit('manager = "alice"', 'manager = "alice"\nlanguage = "fr"')
    assert C.load_config(write(tmp_path, text), env=ENV).language == "fr"
    found = problems(tmp_path, edit('manager = "alice"', 'manager = "alice"\nlanguage = "de"'))
    assert [p.key for p in found] == ["user.language"]
    assert "'de'" in found[0].message and "'en', 'fr'" in found[0].message


def test_client_and_template_languages_are_validated(tmp_path: Path) -> None:
    text = BASE + '\n[templates.merci]\nbody = "Merci"\nlanguage = "fr"\n'
    text = edit('[clients."acme.com"]\n', '[clients."acme.com"]\nlanguage = "fr"\n', text)
    cfg = C.load_config(write(tmp_path, text), env=ENV)
    assert cfg.templates["merci"].language == "fr" and cfg.clients["acme.com"].language == "fr"
    bad = text.replace('language = "fr"\n', 'language = "french"\n')
    found = problems(tmp_path, bad)
    assert {p.key for p in found} == {'clients."acme.com".language', "templates.merci.language"}
    assert all("'en', 'fr'" in p.message for p in found)


def test_user_language_applies_when_no_lang_is_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from triage.demo.mailbox import DEMO_CONFIG

    text = DEMO_CONFIG.read_text().replace("[user]\n", '[user]\nlanguage = "fr"\n', 1)
    cache = tmp_path / "cache.json"
    text = text.replace('path = "~/.cache/triage/demo-cache.json"', f'path = "{cache}"')
    cfg = write(tmp_path, text)
    assert main(["--config", str(cfg), "queue"]) == 0
    assert "OBJET" in capsys.readouterr().out
    assert main(["--config", str(cfg), "--lang", "en", "queue"]) == 0
    assert "SUBJECT" in capsys.readouterr().out


def test_check_config_problems_are_in_the_language(tmp_path: Path) -> None:
    set_language("fr")
    found = problems(tmp_path, edit('manager = "alice"', 'manager = "alice"\nlanguage = "de"'))
    assert [p.key for p in found] == ["user.language"]  # the key stays as written
    assert "n’est pas parmi 'en', 'fr'" in found[0].message
