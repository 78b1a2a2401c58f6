"""Durations as an expectation file writes them (``within:``)."""

from __future__ import annotations

import pytest

from harness.model.durations import DurationError, duration_text, parse_duration


@pytest.mark.parametrize(
    ("written", "seconds"),
    [(1, 1.0), (0.25, 0.25), ("2s", 2.0), ("1.5 s", 1.5), ("500ms", 0.5), ("250us", 250e-6), ("10 µs", 10e-6)],
)
def test_a_duration_is_seconds_or_a_number_and_a_unit(written: object, seconds: float) -> None:
    assert parse_duration(written) == pytest.approx(seconds)


@pytest.mark.parametrize("written", ["soon", "1 min", "-1s", "", True, None, [1]])
def test_anything_else_is_refused_with_what_to_write(written: object) -> None:
    with pytest.raises(DurationError, match=r"is not a duration: write seconds \(1.5\) or a number and a unit"):
        parse_duration(written)


@pytest.mark.parametrize("written", [0, "0ms", 86401, float("inf"), float("nan")])
def test_a_duration_is_more_than_zero_and_at_most_a_day(written: object) -> None:
    with pytest.raises(DurationError, match="more than 0 and at most 86400 seconds"):
        parse_duration(written)


def test_a_duration_reads_back_in_its_unit() -> None:
    assert [duration_text(s) for s in (2.0, 0.5, 250e-6)] == ["2 s", "500 ms", "250 us"]
