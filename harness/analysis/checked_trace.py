"""A trace held to promises written in Python: the operations of expectation files, as methods.

What the ``harness_run`` fixture returns and a library user builds from any
trace; it judges a trace, so it needs no run (the run's layer makes one).
"""

from __future__ import annotations

from harness.analysis.failure_text import format_failure
from harness.analysis.match import check_roles
from harness.analysis.match_context import MatchContext
from harness.analysis.match_sequence import find_events
from harness.analysis.mismatch import Mismatch
from harness.analysis.verdicts import check_assertion
from harness.model.durations import parse_duration
from harness.model.events import Event
from harness.model.expectations import (
    FACTS,
    Assertion,
    CountCheck,
    Fact,
    FactCheck,
    NeverCheck,
    Operator,
    RoleSelector,
    SequenceCheck,
    Window,
)
from harness.model.steps import Step, parse_step
from harness.model.trace import Trace


def _window(after: str | None, before: str | None, within: float | str | None) -> Window:
    """The window of ``never`` and ``expect_count``, as a file's ``after``, ``before`` and ``within`` give it."""
    if within is not None and after is None:
        raise ValueError("within= counts from the event after= names: give after= too (e.g. after='listen')")
    return Window(
        parse_step(after) if after else None,
        parse_step(before) if before else None,
        parse_duration(within) if within is not None else None,
    )


#: Where a Python test's matching starts unless told otherwise: after the server's listen, which binds ``$listen``.
DEFAULT_START_AFTER = "listen($listen)"


class TraceAssertionError(AssertionError):
    """A trace that does not keep a promise made in Python; its message is the failure report."""


class CheckedTrace:
    """A trace with the matching operations of expectation files, for tests written in Python.

    ``connections`` is what ``connections`` means in a count (the scenario's);
    ``start_after`` (default ``listen($listen)``) skips interpreter start-up,
    as in a file; the captures it binds are visible to every step.
    """

    def __init__(self, trace: Trace, *, connections: int, start_after: str | None = DEFAULT_START_AFTER) -> None:
        self.trace = trace
        marker = parse_step(start_after) if start_after else None
        self._context = MatchContext(trace, start_after=marker, connections=connections)

    def _fail(self, name: str, roles: RoleSelector, mismatches: list[Mismatch]) -> None:
        if mismatches:
            assertion = Assertion(name, roles, SequenceCheck(()))
            raise TraceAssertionError(format_failure(assertion, mismatches))

    def sequence(self, *steps: str, role: str = "main", adjacent: bool = False, whole_trace: bool = False) -> None:
        """Assert that the steps happen in this order in the role(s)."""
        roles = RoleSelector.parse(role)
        check = SequenceCheck(tuple(parse_step(step) for step in steps), adjacent)
        self._fail(f"sequence in {role}", roles, check_roles(check, roles, self._context, whole_trace=whole_trace))

    def never(
        self,
        step: str,
        *,
        role: str = "main",
        whole_trace: bool = False,
        after: str | None = None,
        before: str | None = None,
        within: float | str | None = None,
    ) -> None:
        """Assert that no event of the role(s) matches the step (within the window, as ``never:`` takes one)."""
        roles = RoleSelector.parse(role)
        check = NeverCheck(parse_step(step), _window(after, before, within))
        mismatches = check_roles(check, roles, self._context, whole_trace=whole_trace)
        self._fail(f"never {step}", roles, mismatches)

    def count(self, step: str, *, role: str = "main", whole_trace: bool = False) -> int:
        """How many events of one role match the step."""
        return len(self.find(step, role=role, whole_trace=whole_trace))

    def expect_count(
        self,
        step: str,
        operator: Operator,
        value: int | str,
        *,
        role: str = "main",
        after: str | None = None,
        before: str | None = None,
        within: float | str | None = None,
    ) -> None:
        """Assert a count, as ``count:`` with ``equals``/``at_least``/``at_most`` does (``==``, ``>=``, ``<=``)."""
        roles = RoleSelector.parse(role)
        check = CountCheck(parse_step(step), operator, value, _window(after, before, within))
        self._fail(f"count {step}", roles, check_roles(check, roles, self._context))

    def fact(self, fact: Fact, *, role: str = "main") -> None:
        """Assert an end-state fact (``no zombie left``...) for the role(s)."""
        if fact not in FACTS:
            raise ValueError(f"unknown fact {fact!r}; the facts are: {', '.join(FACTS)}")
        roles = RoleSelector.parse(role)
        self._fail(fact, roles, check_roles(FactCheck(fact), roles, self._context))

    def find(self, step: str | Step, *, role: str = "main", whole_trace: bool = False) -> list[Event]:
        """The events of one role (after the start marker, or all of them) that match a step."""
        parsed = parse_step(step) if isinstance(step, str) else step
        return find_events(parsed, self._context.events_of(role, whole_trace=whole_trace), self._context)

    def check(self, assertion: Assertion) -> list[Mismatch]:
        """The mismatches of an assertion built in Python (empty when it holds)."""
        return check_assertion(assertion, self._context)

    @property
    def captures(self) -> dict[str, object]:
        """The captures bound by the start marker (``$listen``)."""
        return dict(self._context.bindings)
