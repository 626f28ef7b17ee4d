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

Equivalent mutants (no input can tell them apart from the original: a bound that
only a value the code never sees reaches, a copy-on-write flag that only saves a
copy) are listed in `[tool.triage.mutation] equivalent`, each with the module, a
piece of the mutated line as `mutmut show` prints it, and why. A listed survivor
counts as equivalent, not killed; a listed entry that matches no survivor is
reported as stale and fails the run, so the list cannot outlive the code.

Score = killed / (mutants - equivalent), where killed includes timeouts (a mutant
that makes the tests hang is caught) and mutants no test reaches count as
survivors. Exit 1 when a module scores below `min_score` or an entry is stale.
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
    equivalent: int
    survivors: dict[str, str]  # mutant name -> its diff, equivalent ones left out
    stale: tuple[str, ...]  # listed equivalents that matched no survivor
    seconds: float

    @property
    def score(self) -> float:
        counted = self.mutants - self.equivalent
        return 100.0 * self.killed / counted if counted else 100.0


@dataclass(frozen=True)
class Equivalent:
    """A surviving mutant that no input can tell apart from the original, and why."""

    module: str
    line: str  # a piece of the mutated line, as `mutmut show` prints it after "+"
    why: str

    def matches(self, diff: str) -> bool:
        added = [ln[1:] for ln in diff.splitlines() if ln.startswith("+") and ln[1:2] != "+"]
        return any(self.line in ln for ln in added)


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
        for folder in Path(test).parents:
            if (ROOT / folder / "conftest.py").exists():
                shutil.copy(ROOT / folder / "conftest.py", work / folder / "conftest.py")
    text = (ROOT / "pyproject.toml").read_text()
    (work / "pyproject.toml").write_text(scratch_pyproject(text, module, tests))


def statuses(work: Path, module: str) -> dict[str, str]:
    """Mutant name -> mutmut's verdict, read from the run's metadata file."""
    from mutmut.stats import status_by_exit_code

    meta = json.loads((work / "mutants" / f"{module}.meta").read_text())
    return {name: status_by_exit_code[code] for name, code in meta["exit_code_by_key"].items()}


def diff_of(work: Path, name: str) -> str:
    mutmut = Path(sys.executable).parent / "mutmut"
    shown = subprocess.run([str(mutmut), "show", name], cwd=work, capture_output=True, text=True)
    return shown.stdout


def run_module(
    module: str, tests: list[str], workdir: Path, children: int, known: list[Equivalent]
) -> Result:
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
    diffs = {n: diff_of(work, n) for n, s in sorted(verdicts.items()) if s not in KILLED}
    mine = [e for e in known if e.module == module]
    equivalent = {n for n, d in diffs.items() if any(e.matches(d) for e in mine)}
    stale = tuple(e.line for e in mine if not any(e.matches(d) for d in diffs.values()))
    survivors = {n: d for n, d in diffs.items() if n not in equivalent}
    killed = sum(s in KILLED for s in verdicts.values())
    return Result(module, len(verdicts), killed, len(equivalent), survivors, stale, seconds)


def table(results: list[Result]) -> str:
    """The Markdown table the README's maintainer section carries."""
    rows = ["| module | mutants | killed | equivalent | score |", "|---|---:|---:|---:|---:|"]
    for r in results:
        rows.append(f"| {r.module} | {r.mutants} | {r.killed} | {r.equivalent} | {r.score:.0f} % |")
    if len(results) > 1:
        total = sum(r.mutants for r in results)
        killed = sum(r.killed for r in results)
        equivalent = sum(r.equivalent for r in results)
        score = 100.0 * killed / max(total - equivalent, 1)
        rows.append(f"| **all** | {total} | {killed} | {equivalent} | {score:.0f} % |")
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
    known = [Equivalent(**e) for e in conf.get("equivalent", [])]  # type: ignore[attr-defined]
    started = time.monotonic()
    results = []
    for module in chosen:
        print(f"[mutate] {module} against {', '.join(modules[module])}", file=sys.stderr)
        result = run_module(module, modules[module], workdir, args.children, known)
        print(f"[mutate]   {result.killed}/{result.mutants} killed, {result.equivalent} "
              f"equivalent, in {result.seconds:.0f} s", file=sys.stderr)  # fmt: skip
        for name, diff in result.survivors.items():
            print(diff if args.show else f"[mutate]   survived: {name}", file=sys.stderr)
        for line in result.stale:
            print(f"[mutate]   stale equivalent entry (no such survivor): {line}", file=sys.stderr)
        results.append(result)
    print(table(results))
    minimum = float(conf.get("min_score", 90))  # type: ignore[arg-type]
    low = [r.module for r in results if r.score < minimum]
    stale = [r.module for r in results if r.stale]
    print(f"\n{len(chosen)} modules in {time.monotonic() - started:.0f} s", end="")
    print(f"; below {minimum:.0f} %: {', '.join(low)}" if low else "", end="")
    print(f"; stale equivalent entries: {', '.join(stale)}" if stale else "")
    return 1 if low or stale else 0


if __name__ == "__main__":
    sys.exit(main())
