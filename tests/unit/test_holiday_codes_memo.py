"""Holiday codes are checked without importing every country at start: the answer is
remembered in the user's cache, and a damaged memo is simply recomputed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from triage.config.values import check_holidays

CHECK = (
    "import sys; from triage.config.values import check_holidays; "
    "print(check_holidays('us-ny'), check_holidays('CA'), 'holidays' in sys.modules)"
)


def run(cache: Path) -> str:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    done = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True,
                          text=True, check=True)  # fmt: skip
    return done.stdout.strip()


def test_the_second_check_does_not_import_holidays_at_all(tmp_path: Path) -> None:
    assert run(tmp_path) == "US-NY CA True"  # the first one asks `holidays`
    [memo] = (tmp_path / "triage").glob("holiday-codes-*.json")
    assert memo.stat().st_mode & 0o777 == 0o600
    assert run(tmp_path) == "US-NY CA False"


def test_a_damaged_memo_is_recomputed(tmp_path: Path) -> None:
    run(tmp_path)
    [memo] = (tmp_path / "triage").glob("holiday-codes-*.json")
    memo.write_text('{"countries": "not a list"}')
    assert run(tmp_path) == "US-NY CA True"
    assert run(tmp_path) == "US-NY CA False"


def test_unknown_codes_are_still_named_with_what_is_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for _ in range(2):  # asked, then remembered
        with pytest.raises(ValueError, match=r"unknown subdivision 'ZZ' of US \(valid: .*NY"):
            check_holidays("US-ZZ")
        with pytest.raises(ValueError, match="unknown holiday country 'XX'"):
            check_holidays("XX")
