"""The "did you mean" of every error message that names an unknown word."""

from __future__ import annotations

from collections.abc import Iterable


def closest(word: str, choices: Iterable[str]) -> list[str]:
    """The one choice nearest to ``word`` (a typo's fix) in a list, or an empty list when none is near.

    difflib is imported here, on the error path, rather than by every module
    that can refuse a word: ``harness trace`` loads several such modules at
    start-up and refuses nothing on a good run.
    """
    import difflib

    return difflib.get_close_matches(word, list(choices), n=1)
