"""Every test starts in English, whatever the machine's locale or the test before it.

The language is process-wide (`triage.text.i18n.set_language`): a test that switches
to French, or runs the CLI with `--lang fr`, must not leave the next test in French.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from triage.text.i18n import set_language


@pytest.fixture(autouse=True)
def _english(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    set_language("en")
    yield
    set_language("en")
    if "triage.ui.keys" in sys.modules:  # the console's key maps, back in English
        sys.modules["triage.ui.keys"].retranslate()
