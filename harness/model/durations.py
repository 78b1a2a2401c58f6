"""Durations as a person writes them in an expectation file: ``1s``, ``500ms``, ``250 us``, or plain seconds.

A time window (``within:``) bounds a promise by the clock, so its length is
read here once, for the loader and for Python tests alike.
"""

from __future__ import annotations

import math
import re

#: Seconds per unit, by every spelling accepted.
UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6}
#: The longest window: a day, as the run's own time limit.
MAX_SECONDS = 86400.0
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(s|ms|us|µs)?\s*$")


class DurationError(ValueError):
    """A duration that cannot be read, with what to write instead."""


def parse_duration(value: object) -> float:
    """The seconds ``value`` stands for: a number of seconds, or a number with a unit (s, ms, us)."""
    if isinstance(value, bool):
        raise DurationError(f"{value!r} is not a duration: write seconds (1.5) or a number and a unit (500ms, 2s)")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(match.group(1)) * UNITS[match.group(2) or "s"]
    else:
        raise DurationError(f"{value!r} is not a duration: write seconds (1.5) or a number and a unit (500ms, 2s)")
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_SECONDS):
        raise DurationError(f"{value!r}: a duration must be more than 0 and at most {MAX_SECONDS:g} seconds")
    return seconds


def duration_text(seconds: float) -> str:
    """A window's length as a person would write it: ``1 s``, ``500 ms``, ``250 us``."""
    if seconds >= 1:
        return f"{seconds:g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:g} ms"
    return f"{seconds * 1e6:g} us"
