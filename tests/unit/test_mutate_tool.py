"""`make mutate`'s runner (tools/mutate.py): one module per run, equivalents matched
on the mutated line only, and the score leaves justified equivalents out."""

from __future__ import annotations

import tomllib

import pytest

from tools.mutate import ROOT, Equivalent, Result, scratch_pyproject, settings

PYPROJECT = '[project]\nname = "x"\n\n[tool.mutmut]\nsource_paths = ["triage"]\n'
DIFF = """# triage.domain.urgency.x_state__mutmut_3: survived
--- triage/domain/urgency.py
+++ triage/domain/urgency.py
@@ -1,3 +1,3 @@
-    if deadline <= now:
+    if deadline < now:
"""


def test_the_scratch_config_names_one_module_and_its_tests() -> None:
    text = scratch_pyproject(PYPROJECT, "triage/domain/urgency.py", ["tests/unit/test_urgency.py"])
    mutmut = tomllib.loads(text)["tool"]["mutmut"]
    assert mutmut == {
        "only_mutate": ["triage/domain/urgency.py"],
        "pytest_add_cli_args_test_selection": ["tests/unit/test_urgency.py"],
        "source_paths": ["triage"],
    }


def test_a_shared_config_that_already_narrows_the_run_is_refused() -> None:
    with pytest.raises(SystemExit, match="only_mutate"):
        scratch_pyproject(PYPROJECT + 'only_mutate = ["x.py"]\n', "y.py", [])


def test_an_equivalent_entry_matches_the_mutated_line_not_the_original() -> None:
    module = "triage/domain/urgency.py"
    assert Equivalent(module, "deadline < now", "why").matches(DIFF)
    assert not Equivalent(module, "deadline <= now", "why").matches(DIFF)
    assert not Equivalent(module, "triage/domain", "why").matches(DIFF)  # not the header


def test_the_score_leaves_justified_equivalents_out() -> None:
    assert Result("m", 10, 8, 2, {}, (), 1.0).score == 100.0
    assert Result("m", 10, 8, 0, {"a": "", "b": ""}, (), 1.0).score == 80.0


def test_every_listed_module_and_test_file_exists() -> None:
    conf = settings()
    for module, tests in conf["modules"].items():  # type: ignore[attr-defined]
        assert (ROOT / module).is_file() and all((ROOT / t).is_file() for t in tests)
    for entry in conf["equivalent"]:  # type: ignore[attr-defined]
        assert entry["module"] in conf["modules"] and entry["why"]  # type: ignore[operator]
