"""Shell completion: `triage completion --install` for bash, driven in a real bash; zsh and
fish scripts as generated; `triage --version`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from triage.cli import build_parser, main
from triage.cli.completion import ZSHRC_MARK, commands

ROOT = Path(__file__).resolve().parents[2]
BASH = shutil.which("bash")


def triage(home: Path, *args: str, shell: str = "/bin/bash") -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "SHELL": shell,
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    return subprocess.run([sys.executable, "-m", "triage.cli", *args], env=env, cwd=home,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def complete(script: Path, *words: str) -> list[str]:
    """What bash offers after `words` (the last one being typed), with `script` loaded."""
    assert BASH, "bash is needed for this test"
    quoted = " ".join(f"'{w}'" for w in ("triage", *words))
    program = (f"source '{script}'; COMP_WORDS=({quoted}); COMP_CWORD={len(words)}; "
               "_triage; printf '%s\\n' \"${COMPREPLY[@]}\"")  # fmt: skip
    out = subprocess.run([BASH, "--norc", "-c", program], capture_output=True, text=True,
                         timeout=30, check=True)  # fmt: skip
    return [line for line in out.stdout.splitlines() if line]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    done = triage(home, "completion", "--install")  # the shell comes from $SHELL
    assert done.returncode == 0, done.stderr
    script = home / ".local/share/bash-completion/completions/triage"
    assert f"wrote {script}" in done.stdout
    return script


def test_bash_completes_subcommands(installed: Path) -> None:
    assert complete(installed, "qu") == ["queue"]
    assert set(complete(installed, "re")) == {"reassign", "reopen", "reply", "report"}
    # every subcommand, read from the parser
    assert {"doctor", "completion"} <= set(complete(installed, ""))


def test_bash_completes_each_commands_own_options(installed: Path) -> None:
    assert complete(installed, "queue", "--j") == ["--json"]
    assert {"--body-file", "--template", "--config"} <= set(complete(installed, "reply", "--"))
    assert "--json" not in complete(installed, "reply", "--")


def test_bash_completes_option_values(installed: Path) -> None:
    assert complete(installed, "queue", "--view", "sn") == ["snoozed"]
    assert complete(installed, "--view", "") == ["queue", "escalations"]  # the console's
    assert complete(installed, "--theme", "triage-m") == ["triage-mono"]


def test_bash_completes_file_names_for_files(installed: Path, tmp_path: Path) -> None:
    (tmp_path / "answer.txt").write_text("hi")
    typed = str(tmp_path / "ans")
    offered = complete(installed, "reply", "T1", "--body-file", typed)
    assert offered == [str(tmp_path / "answer.txt")]


def test_zsh_install_adds_its_source_line_once(tmp_path: Path) -> None:
    for _ in range(2):
        done = triage(tmp_path, "completion", "--install", shell="/usr/bin/zsh")
        assert done.returncode == 0, done.stderr
    script = tmp_path / ".local/share/triage/completion.zsh"
    assert "bashcompinit" in script.read_text() and "complete -o default" in script.read_text()
    rc = (tmp_path / ".zshrc").read_text()
    assert rc.count(ZSHRC_MARK) == 1 and f"source {script}" in rc


def test_fish_script_names_every_subcommand(tmp_path: Path) -> None:
    done = triage(tmp_path, "completion", "fish", "--install")
    assert done.returncode == 0, done.stderr
    text = (tmp_path / ".config/fish/completions/triage.fish").read_text()
    names = [c.name for c in commands(build_parser()) if c.name]
    for name in names:
        assert f"-a {name} " in text
    assert "__fish_seen_subcommand_from queue' -l json" in text


def test_an_unknown_shell_is_named(tmp_path: Path) -> None:
    done = triage(tmp_path, "completion", shell="/bin/tcsh")
    assert done.returncode == 2 and "tcsh" in done.stderr and "bash" in done.stderr


def test_completion_refuses_options_it_would_ignore(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--demo", "completion", "bash"]) == 2
    assert "--demo" in capsys.readouterr().err


def test_version_names_the_version_and_provider_kinds(tmp_path: Path) -> None:
    done = triage(tmp_path, "--version")
    assert done.returncode == 0
    assert done.stdout.strip() == "triage 0.1.0 (providers: jmap, graph, gmail, demo)"
