"""The command palette (ctrl+p): every action of the screen it was opened on, by name.

Built from the screen's own bindings and the action registry (`triage.ui.keys`),
so the palette offers exactly what the keys do, once each, with the same words as
the help screen. Besides: the product's themes, and quit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from triage.text.i18n import _
from triage.ui.keys import ACTIONS
from triage.ui.themes import THEME_NAMES

Command = tuple[str, str, Callable[[], object]]  # title, help, what it runs


class TriageCommands(Provider):
    """Offers the screen's actions, the themes and quit."""

    def commands(self) -> Iterator[Command]:
        screen = self.screen
        seen: set[str] = set()
        for b in screen.BINDINGS:
            if not isinstance(b, Binding) or b.id not in ACTIONS or b.id in seen:
                continue
            action = ACTIONS[b.id]
            if action.palette and action.id != "quit":
                seen.add(action.id)
                yield (
                    _(action.command),
                    _(action.help),
                    partial(self.app.run_action, b.action, screen),
                )
        for name in THEME_NAMES:
            yield (_("Theme: {name}").format(name=name), _("Switch the colour theme"),
                   partial(self._theme, name))  # fmt: skip
        yield _("Quit"), _(ACTIONS["quit"].help), partial(self.app.run_action, "quit")

    def _theme(self, name: str) -> None:
        self.app.theme = name

    async def discover(self) -> Hits:
        for title, help_text, command in self.commands():
            yield DiscoveryHit(title, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, command in self.commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), command, text=title, help=help_text)
