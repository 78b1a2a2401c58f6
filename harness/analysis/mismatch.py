"""A failed assertion as data: what every check of the matcher returns, and what reports read.

A failure is a value, not a sentence, so that each reader says it in its own
way: :mod:`harness.analysis.failure_text` renders it for pytest and the
command line, :mod:`harness.analysis.golden_check` and
:mod:`harness.analysis.verdicts` gather them into a run's verdict.  Kept apart
from the matching itself, so that those readers need none of its machinery.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.model.events import Event


@dataclass(frozen=True, slots=True)
class Candidate:
    """An event a failure report shows under its step or check, and what to say of it."""

    event: Event
    reason: str
    """The sentence the report prints under it (``it matches, but after the next occurrence #12``)."""
    before: bool = False
    """It lies before the point where matching stopped: it was too early to be used."""
    kind: CandidateKind = "near"
    """Why it is shown, which decides the report's heading for its list."""


#: Why a failure report shows an event: it nearly matched the step (``near``), it matches where it should
#: not have (``matches``: a ``never`` or a count), it is a fact's evidence, or where a disposition was not
#: in force.
CandidateKind = typing.Literal["near", "matches", "evidence", "not_in_force"]

#: What failed: the check of that name, or ``run`` (the run itself failed: nothing to match).
#: (``typing.Literal``: the step language has a ``Literal`` value of its own.)
MismatchKind = typing.Literal["sequence", "count", "never", "each", "fact", "in_force", "golden", "run"]


@dataclass(frozen=True, slots=True)
class Mismatch:
    """Why an assertion does not hold in one role (or in the whole trace)."""

    message: str
    kind: MismatchKind = "run"
    role: str | None = None
    failed_step: str | None = None
    failed_line: int | None = None
    matched: tuple[tuple[str, Event], ...] = ()
    """The steps matched before the failure, each with its event."""
    candidates: tuple[Candidate, ...] = ()
    notes: tuple[str, ...] = ()
    bindings: Mapping[str, Any] = field(default_factory=dict)
