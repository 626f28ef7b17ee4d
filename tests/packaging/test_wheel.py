"""The built wheel is a working install: its stylesheet and catalogue ship inside the package.

Builds the wheel from this checkout, installs it (without dependencies) into a
fresh virtualenv that borrows this environment's third-party packages, and runs
the console headless there: the stylesheet it loads must come from the installed
package, not from the checkout. The installed `triage` script (what pipx and
`uv tool install` put on PATH) prints its version.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CONSOLE = """
import asyncio, sys
from datetime import datetime, UTC
from triage.cli import DemoService
from triage.clock import FrozenClock
from triage.ui.app import TriageApp
from triage.ui.widgets.queue_table import QueueTable

async def main():
    service = DemoService(FrozenClock(datetime(2026, 3, 10, 15, tzinfo=UTC)), live=False)
    app = TriageApp(service)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        header = app.screen.query_one(QueueTable).get_component_rich_style("queue-table--header")
        print([str(p) for p in app.css_path])
        print("bold" if header.bold else "plain")
    await service.close()

asyncio.run(main())
"""


@pytest.mark.slow
def test_the_wheel_carries_its_stylesheet(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels),
                    str(ROOT)], check=True, timeout=300)  # fmt: skip
    [wheel] = wheels.glob("triage-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            text=True,
        ).strip()
    )
    # Third-party packages come from here; a path line in a .pth does not run this
    # environment's own .pth files, so the checkout's editable install stays out.
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)],
                   check=True, timeout=300)  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NO_COLOR")}
    out = subprocess.run([str(python), "-c", CONSOLE], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path, env=env)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    paths, style = out.stdout.splitlines()[-2:]
    assert str(site / "triage" / "themes" / "triage.tcss") in paths
    assert str(ROOT) not in paths
    assert style == "bold"  # the stylesheet's rule for the table header applied
    # The console script pipx or `uv tool install` puts on PATH, run from the install.
    shown = subprocess.run([str(venv / "bin" / "triage"), "--version"], capture_output=True,
                           text=True, timeout=60, cwd=tmp_path, env=env)  # fmt: skip
    assert shown.stdout.strip() == "triage 0.1.0 (providers: jmap, graph, gmail, demo)", shown
    # The French catalogue ships compiled inside the package: the installed CLI speaks it.
    assert (site / "triage" / "locale" / "fr" / "LC_MESSAGES" / "triage.mo").is_file()
    argv = [str(venv / "bin" / "triage"), "--lang", "fr", "queue", "--help"]
    french = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=tmp_path,
                            env=env)  # fmt: skip
    assert "afficher cette aide et quitter" in french.stdout, french
