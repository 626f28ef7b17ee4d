"""The Microsoft 365 lines of config.example.toml, used as the example tells a user to
use them, pass `triage check-config`; a mistake in them is named by its key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from triage.cli.checks import check_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"
CLIENT_ID = "4a1a2c4e-0b6f-4c1e-9a53-1f0e1d2c3b4a"


def graph_lines() -> list[str]:
    """The commented `key = value` lines of the example's Microsoft 365 paragraph."""
    text = EXAMPLE.read_text()
    paragraph = text.split("# Microsoft 365", 1)[1].split("\n#\n", 1)[0]
    return re.findall(r"^#   (\w+ = .*)$", paragraph, flags=re.MULTILINE)


def graph_example(tmp_path: Path, **changes: str) -> Path:
    """The example with its [provider] section made the Microsoft 365 one."""
    text = EXAMPLE.read_text()
    lines = ['kind = "graph"', *graph_lines()]
    lines = [f'client_id = "{CLIENT_ID}"' if line.startswith("client_id") else line
             for line in lines]  # fmt: skip
    for key, value in changes.items():
        lines = [f"{key} = {value}" if line.startswith(f"{key} ") else line for line in lines]
    start = text.index("[provider]\n")
    end = text.index("\n# ----", start)
    path = tmp_path / "config.toml"
    path.write_text(text[:start] + "[provider]\n" + "\n".join(lines) + "\n" + text[end:])
    return path


def test_the_example_has_every_graph_key() -> None:
    keys = {line.split(" = ")[0] for line in graph_lines()}
    assert keys == {"mailbox", "folder", "tenant", "client_id", "auth", "api_url", "login_url"}


def test_the_example_graph_section_passes_check_config(tmp_path: Path) -> None:
    check = check_file(graph_example(tmp_path), {"HOME": str(tmp_path)})

    assert check.problems == []
    assert check.config is not None and check.config.provider.kind == "graph"
    assert check.config.provider.mailbox == "clients@agency.example"
    token = tmp_path / ".config" / "triage" / "graph-token.json"
    assert check.config.provider.token_file == token
    assert any("run `triage login`" in str(w) for w in check.warnings), check.warnings


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [("mailbox", '"clients"', "provider.mailbox"),
     ("auth", '"basic"', "provider.auth"),
     ("api_url", '"graph.microsoft.com"', "provider.api_url"),
     ("client_id", '""', "provider.client_id")],
)  # fmt: skip
def test_a_mistake_in_the_graph_section_is_named_by_its_key(
    tmp_path: Path, key: str, value: str, named: str
) -> None:
    check = check_file(graph_example(tmp_path, **{key: value}), {"HOME": str(tmp_path)})
    assert [p for p in check.problems if named in str(p)], check.problems
