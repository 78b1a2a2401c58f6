"""The verdicts on a file's assertions: a per-role check by the matcher, or a golden comparison, for each.

It sits above both :mod:`harness.analysis.match` and
:mod:`harness.analysis.golden_check`, so neither needs the other to
dispatch; and below the running layer, since judging a trace needs no run
(``harness check --trace``, a sweep's runs, a test's own trace).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.analysis.failure_text import format_failure
from harness.analysis.golden_check import check_golden
from harness.analysis.match import check_roles
from harness.analysis.match_context import MatchContext
from harness.analysis.mismatch import Mismatch
from harness.model.expectations import Assertion, ExpectationFile, GoldenCheck
from harness.model.sweep import SweepCheck
from harness.model.trace import Trace


def check_assertion(assertion: Assertion, ctx: MatchContext, *, expectation: Path | None = None) -> list[Mismatch]:
    """Every mismatch of one assertion; an empty list means it holds.

    ``expectation`` is the file the assertion is written in, when it is one
    (a golden mismatch names it in the command that records the golden file).
    """
    if assertion.start_after is not None and not assertion.whole_trace:
        ctx = ctx.after(assertion.start_after)
    if ctx.start_error is not None:
        return [Mismatch(ctx.start_error)]
    if isinstance(assertion.check, GoldenCheck):
        return check_golden(assertion.check, ctx, expectation=expectation)
    return check_roles(assertion.check, assertion.roles, ctx, whole_trace=assertion.whole_trace)


@dataclass(frozen=True, slots=True)
class AssertionResult:
    """One assertion's verdict."""

    assertion: Assertion
    mismatches: tuple[Mismatch, ...]

    @property
    def passed(self) -> bool:
        """Whether the assertion holds."""
        return not self.mismatches

    def report(self, *, verbose: bool = False) -> str:
        """The failure report (empty when it passed)."""
        return format_failure(self.assertion, self.mismatches, verbose=verbose) if self.mismatches else ""


def evaluate(
    expectation: ExpectationFile, trace: Trace, *, connections: int | None = None
) -> tuple[AssertionResult, ...]:
    """Check every assertion of a file against a recorded trace (no run)."""
    context = MatchContext(
        trace,
        start_after=expectation.start_after,
        connections=connections if connections is not None else expectation.scenario.connections,
    )
    return tuple(
        AssertionResult(
            assertion,
            (_NOT_FROM_A_TRACE,)
            if isinstance(assertion.check, SweepCheck)
            else tuple(check_assertion(assertion, context, expectation=expectation.path)),
        )
        for assertion in expectation.assertions
    )


#: What a ``sweep:`` assertion says when only a trace is at hand (``harness check --trace``).
_NOT_FROM_A_TRACE = Mismatch(
    "a sweep is judged by runs of the server with a signal at each site where it sleeps, not from a saved trace: "
    "check the file without --trace"
)


def first_failed_assertion(expectation: ExpectationFile, trace: Trace) -> str | None:
    """The first of a file's assertions that a trace breaks, in one line; None when none does.

    What a sweep holds each of its runs to, besides the run itself: the
    file's promises, as ``harness sweep FILE`` and ``sweep: safe`` say.  Not
    its golden stories: a signal the harness delivers changes the story by
    design, and a golden file promises the same story.
    """
    for result in evaluate(expectation, trace):
        if not result.passed and not isinstance(result.assertion.check, (SweepCheck, GoldenCheck)):
            return f"the assertion {result.assertion.name!r} fails: {result.mismatches[0].message}"
    return None
