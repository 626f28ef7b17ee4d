"""The embedded demo behind `--demo` and behind a config with `kind = "demo"`.

`--demo` runs the bundled agency (demo.toml) on a fresh private cache in a
temporary directory, removed when triage exits, hangs up or is terminated. A
config-file demo runs the team's own regions, managers and clients (see
`triage.demo.cast`) on the config's own cache path, which it keeps: that is how a
team tries its setup, team cache included, before connecting a real mailbox.
Either way the mailbox lives in the process: what is done in it lasts until exit.
"""

from __future__ import annotations

import atexit
import dataclasses
import shutil
import tempfile
from pathlib import Path

from triage.clock import Clock
from triage.config import Config, load_config
from triage.service.core import TriageService


class DemoService(TriageService):
    """A service on the embedded demo mailbox (the bundled agency unless `config`)."""

    def __init__(
        self,
        clock: Clock,
        *,
        user: str | None = None,
        live: bool = True,
        config: Config | None = None,
    ) -> None:
        from triage.demo.mailbox import DEMO_CONFIG, DemoMailbox  # only the demo needs it

        self.demo_dir: Path | None = None
        if config is None:
            # Checks --as against the demo's managers, as a config file's are checked.
            config = load_config(DEMO_CONFIG, user_override=user, env={})
            self.demo_dir = Path(tempfile.mkdtemp(prefix="triage-demo-"))
            atexit.register(self.remove_demo_dir)  # also on an exit that skips close()
            config = dataclasses.replace(config, cache_path=self.demo_dir / "cache.json")
        self.demo = DemoMailbox(clock, live=live, config=config)
        super().__init__(config, clock, user=user, provider=self.demo.provider())

    def remove_demo_dir(self) -> None:
        if self.demo_dir is not None:
            shutil.rmtree(self.demo_dir, ignore_errors=True)

    async def close(self) -> None:
        await super().close()
        self.remove_demo_dir()


def demo_service(clock: Clock, *, user: str | None = None, live: bool = True) -> DemoService:
    return DemoService(clock, user=user, live=live)
