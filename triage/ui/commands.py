"""The command palette (ctrl+p): every action of the console, by name.

Commands run on the screen the palette was opened from, exactly as its key
would; actions that screen does not have are not offered. Theme switching and
quitting work everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from triage.ui.themes import THEME_NAMES

# (action name on the screen, palette title, help line)
ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("open", "Open conversation", "Read the conversation under the cursor"),
    ("reply", "Reply", "Write a reply to the conversation under the cursor"),
    ("escalate", "Escalate", "Escalate the conversation under the cursor to the CEO"),
    ("reassign", "Reassign", "Give the conversation to another account manager"),
    ("filter", "Filter", "Filter the queue by client, subject or sender"),
    ("mine", "Only mine", "Toggle: show only my conversations"),
    ("region", "Next region", "Cycle the region filter"),
    ("clear_filters", "Clear filters", "Show every waiting conversation"),
    ("escalations", "Escalation pane", "Toggle between the queue and the escalation pane"),
    ("acknowledge", "Acknowledge escalation", "Mark the escalation as seen by the CEO"),
    ("sync", "Sync now", "Fetch new mail from the provider now"),
    ("help", "Help: keys", "Every key of this screen"),
)


class TriageCommands(Provider):
    """Offers the screen's actions, the themes and quit."""

    def commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        screen = self.screen
        for action, title, help_text in ACTIONS:
            if hasattr(screen, f"action_{action}"):
                yield title, help_text, partial(self.app.run_action, action, screen)
        for name in THEME_NAMES:
            yield f"Theme: {name}", "Switch the colour theme", partial(self._theme, name)
        yield "Quit", "Quit triage (drafts are kept)", partial(self.app.run_action, "quit")

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
