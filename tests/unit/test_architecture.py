"""The shape of the code, enforced: layer contracts, a UI-free core, small pieces, docstrings."""

from __future__ import annotations

import ast
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "triage"
LONG = 60  # a longer function needs a comment saying why (`# long: ...`)


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_the_layer_contracts_hold() -> None:
    """pyproject.toml's import-linter contracts: layers, no textual in the core, the UI
    only through the service, no provider named above the provider layer."""
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is part of the test extras"
    result = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_importing_the_core_does_not_load_textual_or_a_provider() -> None:
    code = (
        "import sys, triage.service.core, triage.cli, triage.demo.mailbox; "
        "print('textual' in sys.modules, 'triage.providers.jmap' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    # The demo builds the JMAP client; the service alone must not import any provider.
    assert out.stdout.split()[0] == "False", out.stderr
    alone = subprocess.run(
        [sys.executable, "-c", "import sys, triage.service.core, triage.cli; "
         "print('triage.providers.jmap' in sys.modules, 'triage.providers.graph' in sys.modules)"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert alone.stdout.strip() == "False False", alone.stderr


OPEN_PROVIDER = """
import sys
from triage.clock import SystemClock
from triage.domain.settings import ProviderConfig
from triage.providers.base import open_provider
settings = ProviderConfig(kind=sys.argv[1], auth="bearer", session_url="http://127.0.0.1:9/s",
                          mailbox="clients@agency.example", api_url="http://127.0.0.1:9/v1.0",
                          token_env="TOKEN")
open_provider(settings, env={"TOKEN": "t"}, clock=SystemClock())
print(*(m in sys.modules for m in ("triage.providers.jmap", "triage.providers.graph",
                                   "triage.providers.oauth")))
"""


def test_a_provider_is_imported_only_when_the_config_names_its_kind() -> None:
    """Start-up stays as it was for JMAP users: the Graph code (and OAuth) loads only
    for kind = "graph"."""
    loaded = {}
    for kind in ("jmap", "graph"):
        out = subprocess.run([sys.executable, "-c", OPEN_PROVIDER, kind], capture_output=True,
                             text=True, timeout=60)  # fmt: skip
        loaded[kind] = out.stdout.split()
        assert out.returncode == 0, out.stderr
    assert loaded == {"jmap": ["True", "False", "False"], "graph": ["False", "True", "True"]}


def test_every_module_says_what_it_owns() -> None:
    missing = [
        str(p.relative_to(ROOT))
        for p in modules()
        if p.stat().st_size and ast.get_docstring(ast.parse(p.read_text())) is None
    ]
    assert missing == []


def _functions(path: Path) -> list[tuple[str, int, bool]]:
    """(name, lines, says why it is long) for every function of a module."""
    source = path.read_text()
    lines = source.splitlines()
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None
            body = lines[node.lineno - 1 : node.end_lineno]
            out.append((f"{path.name}:{node.name}", len(body), any("# long:" in b for b in body)))
    return out


def test_functions_fit_on_a_screen() -> None:
    found = [f for p in modules() for f in _functions(p)]
    sizes = [n for _, n, _ in found]
    p90 = statistics.quantiles(sizes, n=10)[-1]
    assert p90 <= 25, f"90th percentile function length {p90} > 25 lines"
    too_long = [(name, n) for name, n, why in found if n > LONG and not why]
    assert too_long == [], f"over {LONG} lines without a '# long:' comment saying why"


def test_test_files_and_comments_name_what_they_hold() -> None:
    """No 'review fixes' grab-bags, and no comments citing issue numbers."""
    tests = ROOT / "tests"
    assert not [p for p in tests.rglob("test_*review*.py")]
    # Spelled apart, so this file does not match itself.
    citing = re.compile("iss" + r"ue \d+|" + "review" + " round")
    cited = [str(p.relative_to(ROOT)) for p in [*modules(), *tests.rglob("*.py")]
             if citing.search(p.read_text())]  # fmt: skip
    assert cited == []
