"""The verdict on one assertion: a per-role check by the matcher, or a golden comparison.

It sits above both :mod:`harness.analysis.match` and
:mod:`harness.analysis.golden_check`, so neither needs the other to dispatch.
"""

from __future__ import annotations

from pathlib import Path

from harness.analysis.golden_check import check_golden
from harness.analysis.match import check_roles
from harness.analysis.match_context import MatchContext
from harness.analysis.mismatch import Mismatch
from harness.model.expectations import Assertion, GoldenCheck


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
