"""The console in French: keys act the same, what is stored stays language-neutral.

A French console picks a quick reason by its French words but hands the service the
English id (what goes to the provider), shows an English console's reasons in French,
offers a French client's template first, and reads the away dialog's French words
("de retour", "3j à bob") while a French time keeps its own "à" ("demain à 9h").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta

import pytest
from textual.widgets import Input, Static

from tests.support.fake_service import FakeService
from tests.ui.conftest import settle
from tests.ui.test_bursts import burst, text
from tests.ui.test_safe_sending import open_reply, signed_service
from triage.domain.model import NoteAction
from triage.domain.templates import Template
from triage.text.i18n import set_language
from triage.ui.app import TriageApp
from triage.ui.keys import retranslate
from triage.ui.screens.dialogs.away import AwayScreen
from triage.ui.screens.dialogs.escalate import EscalateScreen
from triage.ui.screens.dialogs.templates import TemplatePicker
from triage.ui.widgets.queue_table import QueueTable
from triage.ui.widgets.status_bar import StatusBar

SIZE = (100, 30)


@pytest.fixture(autouse=True)
def french() -> Iterator[None]:
    set_language("fr")
    retranslate()
    yield
    set_language("en")
    retranslate()


async def test_a_french_quick_reason_is_stored_as_its_english_id() -> None:
    service = FakeService()
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tid = app.screen.query_one(QueueTable).highlighted
        burst(app, "e")
        await settle(pilot)
        assert isinstance(app.screen, EscalateScreen)
        assert "le client a écrit au PDG" in str(app.screen.query_one("#quick").render())
        burst(app, "1", "enter")
        await settle(pilot)
        assert service.escalated == [(tid, "client wrote to the CEO")]


async def test_the_footer_status_bar_and_table_speak_french() -> None:
    app = TriageApp(FakeService())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(StatusBar).text
        assert "en attente" in bar and "retard" in bar
        descriptions = {b.binding.description for b in app.screen.active_bindings.values()}
        assert {"Répondre", "Reporter", "Aide"} <= descriptions


async def test_a_french_client_gets_the_french_template_first() -> None:
    service = signed_service(thanks="Thanks {client_first_name}")
    templates = {"thanks": Template("thanks", "Thanks", "Thanks", "en"),
                 "merci": Template("merci", "Merci", "Merci", "fr")}  # fmt: skip
    cobalt = dataclasses.replace(service.config.clients["cobalt.io"], language="fr")
    service.config = dataclasses.replace(
        service.config, templates=templates, clients={**service.config.clients, "cobalt.io": cobalt}
    )
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reply(app, pilot, "t03")
        burst(app, "ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, TemplatePicker)
        assert [t.name for t in app.screen.templates] == ["merci", "thanks"]
        burst(app, "enter")  # the default pick
        await settle(pilot)
        assert screen.text.startswith("Merci")


async def test_the_away_dialog_reads_french_back_words_and_a_before_the_backup() -> None:
    service = FakeService()
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, "A", *text("3j à bob"))
        await settle(pilot)
        assert isinstance(app.screen, AwayScreen)
        preview = str(app.screen.query_one("#preview", Static).render())
        assert preview.startswith("Absence jusqu’à ") and "les alertes vont à Bob" in preview
        burst(app, "enter")
        await settle(pilot)
        [note] = service.away_notes
        in_3_days = service.now() + timedelta(days=3)
        assert (note.action, note.to, note.until) == (NoteAction.AWAY, "bob", in_3_days)
        burst(app, "A", *text("de retour"), "enter")
        await settle(pilot)
        assert [n.action for n in service.away_notes] == [NoteAction.AWAY, NoteAction.BACK]


async def test_a_french_time_keeps_its_own_a_when_no_backup_follows() -> None:
    service = FakeService()
    app = TriageApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, "A")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AwayScreen)
        box = screen.query_one("#until", Input)
        for typed, backup in (("demain à 9h", ""), ("demain à 9 h à claire", "claire")):
            box.value = typed
            choice = screen.choice()
            assert choice.until is not None and choice.backup == backup, typed
        box.value = "demain à zoe"
        with pytest.raises(ValueError, match="aucun gestionnaire 'zoe'"):
            screen.choice()
