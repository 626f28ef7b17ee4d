"""`make mutate`: mutation testing of the rules, each module against its own unit tests.

    python -m tools.mutate                      # every module in [tool.triage.mutation]
    python -m tools.mutate calendar routing     # only these (matched on the file name)
    python -m tools.mutate --show               # also print the diff of every survivor

The tool is mutmut 3 (its shared settings are `[tool.mutmut]` in pyproject.toml).
mutmut reads which files to mutate and which tests to run from that one table, so
each module gets a scratch copy of the project under `build/mutation/<module>/`
whose pyproject.toml names that module and its test files
(`[tool.triage.mutation.modules]`): a mutant counts as killed only when the
module's own tests catch it, not because some other module's tests happen to run
the code. Results are not cached between runs: each run starts from clean copies.

Score = killed / mutants, where killed includes timeouts (a mutant that makes the
tests hang is caught) and mutants no test reaches count as survivors. Exit 1 when
a module scores below `min_score`. Equivalent mutants are marked where they are
(`# pragma: no mutate` with the reason on the same line), never excluded here.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KILLED = {"killed", "timeout", "caught by type check"}


@dataclass(frozen=True)
class Result:
    """One module's run: how many mutants, how many its tests caught, and which not."""

    module: str
    mutants: int
    killed: int
    survivors: tuple[str, ...]
    seconds: float

    @property
    def score(self) -> float:
        return 100.0 * self.killed / self.mutants if self.mutants else 100.0


def settings(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, object]:
    data = tomllib.loads(pyproject.read_text())
    return dict(data["tool"]["triage"]["mutation"])


def scratch_pyproject(text: str, module: str, tests: list[str]) -> str:
    """The project's pyproject.toml with `[tool.mutmut]` narrowed to one module."""
    header = "[tool.mutmut]\n"
    if text.count(header) != 1:
        raise SystemExit("pyproject.toml needs exactly one [tool.mutmut] table")
    shared = tomllib.loads(text)["tool"]["mutmut"]
    for key in ("only_mutate", "pytest_add_cli_args_test_selection"):
        if key in shared:
            raise SystemExit(f"[tool.mutmut] {key} is set per module by tools/mutate.py")
    narrowed = (
        f"{header}only_mutate = {json.dumps([module])}\n"
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n"
    )
    out = text.replace(header, narrowed)
    tomllib.loads(out)  # still valid TOML
    return out


def prepare(work: Path, module: str, tests: list[str]) -> None:
    """A clean copy of the package, the test support and the module's own tests."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "triage", work / "triage", ignore=ignore)
    shutil.copytree(ROOT / "themes", work / "themes", ignore=ignore)
    shutil.copy(ROOT / "config.example.toml", work / "config.example.toml")
    shutil.copytree(ROOT / "tests" / "support", work / "tests" / "support", ignore=ignore)
    for test in tests:
        (work / test).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / test, work / test)
    text = (ROOT / "pyproject.toml").read_text()
    (work / "pyproject.toml").write_text(scratch_pyproject(text, module, tests))


def statuses(work: Path, module: str) -> dict[str, str]:
    """Mutant name -> mutmut's verdict, read from the run's metadata file."""
    from mutmut.stats import status_by_exit_code

    meta = json.loads((work / "mutants" / f"{module}.meta").read_text())
    return {name: status_by_exit_code[code] for name, code in meta["exit_code_by_key"].items()}


def run_module(module: str, tests: list[str], workdir: Path, children: int) -> Result:
    work = workdir / Path(module).stem
    prepare(work, module, tests)
    mutmut = Path(sys.executable).parent / "mutmut"
    started = time.monotonic()
    done = subprocess.run(
        [str(mutmut), "run", "--max-children", str(children)],
        cwd=work, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.monotonic() - started
    log = done.stdout + done.stderr
    (work / "mutmut.log").write_text(log)
    # mutmut stops early, exit 1, when the tests reach none of the module's code.
    untested = "could not find any test case for any mutant" in log
    if done.returncode != 0 and not untested:
        raise SystemExit(f"mutmut failed on {module}; see {work / 'mutmut.log'}")
    verdicts = statuses(work, module)
    survivors = tuple(sorted(n for n, s in verdicts.items() if s not in KILLED))
    killed = sum(s in KILLED for s in verdicts.values())
    return Result(module, len(verdicts), killed, survivors, seconds)


def show(work: Path, names: tuple[str, ...]) -> str:
    mutmut = Path(sys.executable).parent / "mutmut"
    shown = (
        subprocess.run([str(mutmut), "show", n], cwd=work, capture_output=True, text=True)
        for n in names
    )
    return "\n".join(done.stdout for done in shown)


def table(results: list[Result]) -> str:
    """The Markdown table the README's maintainer section carries."""
    rows = ["| module | mutants | killed | score |", "|---|---:|---:|---:|"]
    for r in results:
        rows.append(f"| {r.module} | {r.mutants} | {r.killed} | {r.score:.0f} % |")
    total = sum(r.mutants for r in results)
    killed = sum(r.killed for r in results)
    if len(results) > 1:
        rows.append(f"| **all** | {total} | {killed} | {100.0 * killed / max(total, 1):.0f} % |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.mutate", description=__doc__)
    parser.add_argument("only", nargs="*", help="module file names (calendar, sanitize, ...)")
    parser.add_argument("--show", action="store_true", help="print every survivor's diff")
    parser.add_argument("--children", type=int, default=2, help="parallel mutants (2 cores)")
    args = parser.parse_args(argv)
    conf = settings()
    modules: dict[str, list[str]] = dict(conf["modules"])  # type: ignore[call-overload]
    chosen = [m for m in modules if not args.only or Path(m).stem in args.only]
    if not chosen:
        parser.error(f"no module named {args.only}; known: {[Path(m).stem for m in modules]}")
    workdir = ROOT / str(conf.get("workdir", "build/mutation"))
    started = time.monotonic()
    results = []
    for module in chosen:
        print(f"[mutate] {module} against {', '.join(modules[module])}", file=sys.stderr)
        result = run_module(module, modules[module], workdir, args.children)
        print(f"[mutate]   {result.killed}/{result.mutants} in {result.seconds:.0f} s",
              file=sys.stderr)  # fmt: skip
        if args.show and result.survivors:
            print(show(workdir / Path(module).stem, result.survivors))
        results.append(result)
    print(table(results))
    minimum = float(conf.get("min_score", 90))  # type: ignore[arg-type]
    low = [r.module for r in results if r.score < minimum]
    print(f"\n{len(chosen)} modules in {time.monotonic() - started:.0f} s", end="")
    print(f"; below {minimum:.0f} %: {', '.join(low)}" if low else "")
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main())
