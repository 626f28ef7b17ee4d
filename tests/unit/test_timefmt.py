"""Countdowns as they read on screen: rounding away from zero, days past 100 h, non-finite."""

from __future__ import annotations

import pytest

from triage.text import timefmt


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        pytest.param(0, "0:00", id="zero"),
        pytest.param(42 * 60, "0:42", id="42m"),
        pytest.param(41 * 60 + 1, "0:42", id="rounds-up-while-time-left"),
        pytest.param(0.5, "0:01", id="never-0:00-before-deadline"),
        pytest.param(3600, "1:00", id="1h"),
        pytest.param(27 * 3600 + 5 * 60, "27:05", id="over-a-day"),
        pytest.param(99 * 3600 + 59 * 60, "99:59", id="just-under-100h"),
        pytest.param(100 * 3600, "4d 04h", id="100h"),
        pytest.param(30 * 86400 + 90 * 60, "30d 01h", id="a-month"),
        pytest.param(-1, "-0:01", id="just-breached"),
        pytest.param(-70 * 60, "-1:10", id="overdue"),
        pytest.param(-100 * 3600, "-4d 04h", id="long-overdue"),
    ],
)
def test_format_left(seconds: float, expected: str) -> None:
    assert timefmt.format_left(seconds) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        pytest.param(0, "0:00:00", id="zero"),
        pytest.param(0.4, "0:00:01", id="never-zero-before-deadline"),
        pytest.param(59, "0:00:59", id="59s"),
        pytest.param(42 * 60 + 7, "0:42:07", id="42m07s"),
        pytest.param(3600, "1:00:00", id="1h"),
        pytest.param(120 * 3600, "120:00:00", id="hours-unbounded"),
        pytest.param(-0.5, "-0:00:01", id="just-breached"),
        pytest.param(-3600, "-1:00:00", id="overdue"),
    ],
)
def test_format_left_precise(seconds: float, expected: str) -> None:
    assert timefmt.format_left_precise(seconds) == expected


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_formatting_refuses_non_finite(bad: float) -> None:
    with pytest.raises(ValueError):
        timefmt.format_left(bad)
    with pytest.raises(ValueError):
        timefmt.format_left_precise(bad)
