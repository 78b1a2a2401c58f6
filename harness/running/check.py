"""Run the server an expectation file names, and check its assertions against the trace.

Shared by ``harness check`` and the pytest plugin, so both give the same
verdict and the same failure report.  A run that itself failed (a client
got a wrong answer, the server crashed or timed out) fails every assertion
of its file with the run's own story, not with misleading step mismatches.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from harness.analysis.failure_text import format_failure
from harness.analysis.match import MatchContext, Mismatch, check_roles, find_events
from harness.analysis.verdicts import check_assertion
from harness.model.durations import parse_duration
from harness.model.errors import HarnessError, RunFailed, UnsafeOutput
from harness.model.events import Event
from harness.model.expectations import (
    FACTS,
    Assertion,
    CountCheck,
    ExpectationFile,
    Fact,
    FactCheck,
    GoldenCheck,
    Loader,
    NeverCheck,
    Operator,
    RoleSelector,
    SequenceCheck,
    ServerSpec,
    Window,
)
from harness.model.files import open_chosen
from harness.model.scenario import Scenario
from harness.model.steps import Step, parse_step
from harness.model.strace_format import render_trace
from harness.model.sweep import SweepCheck
from harness.model.trace import Trace
from harness.running.run_result import RunResult
from harness.running.serving import command_line, run_spec


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


@dataclass(frozen=True, slots=True)
class CheckedRun:
    """An expectation file's run and the verdict of each assertion."""

    expectation: ExpectationFile
    server: ServerSpec
    run: RunResult
    results: tuple[AssertionResult, ...]
    seconds: float

    @property
    def passed(self) -> bool:
        """Whether every assertion holds."""
        return all(result.passed for result in self.results)

    @property
    def server_as_run(self) -> str:
        """The server as it ran: a variant's name, or its command line with ``{port}`` and the rest filled in."""
        if self.server.variant is not None or self.run.port is None:
            return str(self.server)
        return command_line(self.server, self.run.port, self.expectation.scenario.connections)


def _run_failure(run: RunResult) -> Mismatch:
    notes = [f"{role} was blocked in {call}" for role, call in run.blocked().items()] if run.timed_out else []
    notes.extend(run.clients.failures[:3])
    output = run.server_output.strip().splitlines()[-5:]
    if output:
        notes.append("the server's last output: " + " | ".join(output))
    failure = run.failure()
    return Mismatch(f"the server run itself failed: {failure or run.summary()}", kind="run", notes=tuple(notes))


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


def _swept(expectation: ExpectationFile, server: ServerSpec, assertion: Assertion) -> AssertionResult:
    """A ``sweep:`` assertion's verdict: a sweep of the file's server, each broken site not excepted a mismatch."""
    from harness.running.sources import RunPlan
    from harness.running.sweep import SweepOptions, sweep_plan

    check = assertion.check
    assert isinstance(check, SweepCheck)
    plan = replace(RunPlan.of_expectation(expectation), server=server, injections=())
    try:
        result = sweep_plan(plan, SweepOptions(signal=check.signal), check=partial(first_failed_assertion, expectation))
    except RunFailed as error:
        return AssertionResult(assertion, (Mismatch(str(error)),))
    return AssertionResult(assertion, tuple(Mismatch(problem) for problem in check.judge(result)))


def check_file(
    expectation: ExpectationFile, *, server: ServerSpec | None = None, record_golden: bool = False
) -> CheckedRun:
    """Run the file's server (or ``server`` in its place) and check every assertion.

    ``record_golden`` first rewrites the golden traces of the file's
    ``golden:`` assertions from this run (on purpose, after a reviewed change).
    """
    server = server or expectation.server
    started = time.monotonic()
    run = run_spec(
        server,
        expectation.scenario,
        timeout=expectation.timeout,
        syscalls=expectation.syscalls,
        injections=expectation.injections,
    )
    if run.ok and record_golden:
        from harness.analysis.golden_check import record_goldens

        record_goldens(expectation, server, run.trace)
    if run.ok:
        results = tuple(
            _swept(expectation, server, result.assertion) if isinstance(result.assertion.check, SweepCheck) else result
            for result in evaluate(expectation, run.trace)
        )
    else:
        failure = (_run_failure(run),)
        results = tuple(AssertionResult(assertion, failure) for assertion in expectation.assertions)
    return CheckedRun(expectation, server, run, results, time.monotonic() - started)


def _stem(path: Path) -> str:
    """The name of an expectation file without its suffix: ``reaping`` for ``reaping.expect.yaml``."""
    return path.name.removesuffix(".yaml").removesuffix(".expect")


def write_failure_trace(checked: CheckedRun, directory: Path | None = None) -> Path:
    """Write the run's trace as JSON Lines and as text, beside the expectation file unless told otherwise.

    Returns the JSON Lines path.  ``harness show`` prints it again, and
    ``harness check`` tells the reader where it is.
    """
    source = checked.expectation.path
    stem = _stem(source)
    if checked.server != checked.expectation.server:
        stem += "." + _server_tag(checked.server)
    folder = directory or source.parent
    folder.mkdir(parents=True, exist_ok=True)
    jsonl = folder / f"{stem}.failed.jsonl"
    # Names the harness chose, in a directory others may write: no link, FIFO or device is written through.
    with open_chosen(jsonl) as stream:
        checked.run.trace.write_jsonl(stream)
    with open_chosen(jsonl.with_suffix(".txt")) as stream:
        stream.write("\n".join(render_trace(checked.run.trace)) + "\n")
    return jsonl


def _server_tag(server: ServerSpec) -> str:
    """A short name for a server in a file name: a variant's name, or a digest of a command's words.

    A command line holds spaces, quotes and long paths (a file name has at
    most 255 bytes), so it is named by what it is and a digest that keeps
    two commands apart.
    """
    if server.variant is not None:
        return server.variant.replace("/", "_")
    return "command-" + hashlib.sha256("\0".join(server.command).encode()).hexdigest()[:8]


def _stale_trace(path: Path) -> Path:
    """Where :func:`write_failure_trace` put the trace of an earlier failing run of the file's own server."""
    return path.parent / f"{_stem(path)}.failed.jsonl"


@dataclass(frozen=True, slots=True)
class FileChecked:
    """An expectation file whose server ran: the verdicts, and where the trace of a failing run was written."""

    path: Path
    checked: CheckedRun
    failure_trace: Path | None
    """The JSON Lines trace of a failing run (a ``.txt`` beside it); ``None`` when every assertion held."""
    trace_not_kept: UnsafeOutput | None = None
    """Why a failing run's trace could not be written where it goes (a planted link, a FIFO): said, not fatal."""


@dataclass(frozen=True, slots=True)
class FileInvalid:
    """An expectation file that could not be read; nothing was run."""

    path: Path
    error: HarnessError


@dataclass(frozen=True, slots=True)
class FileNotRun:
    """An expectation file whose server could not be run at all: no compiler, no ptrace, command not found."""

    path: Path
    error: HarnessError


@dataclass(frozen=True, slots=True)
class FileCheckedOnTrace:
    """An expectation file checked against a trace recorded earlier (``harness check --trace``); nothing ran."""

    path: Path
    expectation: ExpectationFile
    trace_file: Path
    results: tuple[AssertionResult, ...]


FileOutcome = FileChecked | FileCheckedOnTrace | FileInvalid | FileNotRun


def check_and_keep(
    expectation: ExpectationFile,
    *,
    server: ServerSpec | None = None,
    traces: Path | None = None,
    record_golden: bool = False,
) -> FileChecked:
    """Check a file as :func:`check_file` does, and keep the trace of a failing run for the reader.

    The trace goes beside the file, or into ``traces``.  A clean run of the
    file's own server removes the trace an earlier failing run left beside
    it, so that what lies there is always the latest failure.
    """
    checked = check_file(expectation, server=server, record_golden=record_golden)
    if checked.run.interrupted_by is not None:
        return FileChecked(expectation.path, checked, None)  # stopped by the user: no verdict, nothing kept
    if not checked.passed:
        try:
            return FileChecked(expectation.path, checked, write_failure_trace(checked, traces))
        except UnsafeOutput as refused:  # the verdicts stand; the next file is checked all the same
            return FileChecked(expectation.path, checked, None, refused)
    if server is None and traces is None:
        stale = _stale_trace(expectation.path)
        stale.unlink(missing_ok=True)
        stale.with_suffix(".txt").unlink(missing_ok=True)
    return FileChecked(expectation.path, checked, None)


def check_files(
    paths: Sequence[Path],
    *,
    load: Loader,
    server: ServerSpec | None = None,
    traces: Path | None = None,
) -> Iterator[FileOutcome]:
    """Check each file in turn (``harness check``), yielding its outcome as soon as it is known.

    ``load`` reads a file (the faces own the file format: harness.faces.loader);
    its :class:`HarnessError` makes the file invalid.  One file's trouble
    never stops the others.
    """
    for path in paths:
        try:
            expectation = load(path)
        except HarnessError as error:
            yield FileInvalid(path, error)
            continue
        try:
            outcome = check_and_keep(expectation, server=server, traces=traces)
        except HarnessError as error:
            yield FileNotRun(path, error)
            continue
        yield outcome
        if outcome.checked.run.interrupted_by is not None:
            return  # Ctrl-C or SIGTERM ends the whole command, not just this file


def check_files_on_trace(
    paths: Sequence[Path], trace_file: Path, trace: Trace, *, load: Loader
) -> Iterator[FileOutcome]:
    """Check each file's assertions against one recorded trace (``harness check --trace``), running nothing.

    ``connections`` in a count reads each file's own scenario: a trace does
    not say how many connections its clients made.
    """
    for path in paths:
        try:
            expectation = load(path)
        except HarnessError as error:
            yield FileInvalid(path, error)
            continue
        yield FileCheckedOnTrace(path, expectation, trace_file, evaluate(expectation, trace))


@dataclass(frozen=True, slots=True)
class CheckSummary:
    """The tally of a ``harness check``: assertions passed and failed, files invalid or not run."""

    files: int
    passed: int
    failed: int
    invalid: tuple[HarnessError, ...]
    not_run: tuple[HarnessError, ...]
    interrupted_status: int | None = None
    """128 + the signal (SIGINT, SIGTERM) that stopped the command during a run."""

    @classmethod
    def of(cls, outcomes: Sequence[FileOutcome]) -> CheckSummary:
        """The tally of these outcomes."""
        results = [
            result
            for outcome in outcomes
            if isinstance(outcome, FileChecked | FileCheckedOnTrace)
            for result in (outcome.checked.results if isinstance(outcome, FileChecked) else outcome.results)
        ]
        return cls(
            files=len(outcomes),
            passed=sum(result.passed for result in results),
            failed=sum(not result.passed for result in results),
            invalid=tuple(outcome.error for outcome in outcomes if isinstance(outcome, FileInvalid)),
            not_run=tuple(outcome.error for outcome in outcomes if isinstance(outcome, FileNotRun)),
            interrupted_status=next(
                (
                    outcome.checked.run.interrupted_status
                    for outcome in outcomes
                    if isinstance(outcome, FileChecked) and outcome.checked.run.interrupted_status is not None
                ),
                None,
            ),
        )

    @property
    def exit_status(self) -> int:
        """An interruption decides; else a file that could not run; else an invalid file; else 1 on a failure."""
        if self.interrupted_status is not None:
            return self.interrupted_status
        if self.not_run:
            return self.not_run[0].exit_status
        if self.invalid:
            return self.invalid[0].exit_status
        return 1 if self.failed else 0

    def __str__(self) -> str:
        parts = [f"{self.passed} passed", f"{self.failed} failed"]
        parts += [f"{len(self.invalid)} invalid file(s)"] if self.invalid else []
        parts += [f"{len(self.not_run)} could not run"] if self.not_run else []
        return ", ".join(parts)


# -- for Python tests: the same operations as the YAML ------------------------------


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
    """A run's trace with the matching operations of expectation files, for tests written in Python.

    ``start_after`` (default ``listen($listen)``) skips interpreter start-up,
    as in a file; the captures it binds are visible to every step.
    """

    def __init__(self, run: RunResult, scenario: Scenario, *, start_after: str | None = DEFAULT_START_AFTER) -> None:
        self.run = run
        self.trace = run.trace
        self.scenario = scenario
        marker = parse_step(start_after) if start_after else None
        self._context = MatchContext(run.trace, start_after=marker, connections=scenario.connections)

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
