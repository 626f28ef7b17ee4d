"""The console in French: keys act the same, what is stored stays language-neutral.

A French console picks a quick reason by its French words but hands the service the
English id (what goes to the provider), shows an English console's reasons in French,
and offers a French client's template first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from tests.support.fake_service import FakeService
from tests.ui.conftest import settle
from tests.ui.test_bursts import burst
from tests.ui.test_safe_sending import open_reply, signed_service
from triage.domain.templates import Template
from triage.text.i18n import set_language
from triage.ui.app import TriageApp
from triage.ui.keys import retranslate
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
