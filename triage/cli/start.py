"""Opening the service a command runs on: the config's provider, or the demo.

`--demo` is the bundled demo; `--config F` (or TRIAGE_CONFIG, or the XDG default)
is the team's config, whose `kind = "demo"` runs the demo on the team's setup.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from triage.cli.demo import DemoService
from triage.clock import Clock
from triage.config import default_config_path, load_config
from triage.service.core import TriageService
from triage.text.i18n import set_language

START_HELP = """\
no config file at {path}

To look around first, start the console on the embedded demo mailbox:
    triage --demo
To connect to your team mailbox, copy the example config and edit it:
    mkdir -p {dir} && cp config.example.toml {path}
    triage check-config
(or point to another file with --config PATH or TRIAGE_CONFIG)."""


class UsageError(Exception):
    """Bad arguments or config: exit code 2 with the message."""


def open_service(args: argparse.Namespace, env: Mapping[str, str], clock: Clock) -> TriageService:
    """The service a command or the console runs on (a demo's is a DemoService)."""
    if args.demo:
        return DemoService(clock, user=args.user)
    path = args.config or default_config_path(env)
    if not path.exists():
        raise UsageError(START_HELP.format(path=path, dir=path.parent))
    cfg = load_config(path, user_override=args.user, env=env)
    if getattr(args, "lang", None) is None and cfg.language:
        set_language(cfg.language)  # [user] language, unless --lang said otherwise
    if cfg.provider.kind == "demo":
        return DemoService(clock, user=args.user, config=cfg)
    return TriageService(cfg, clock, env=env)
