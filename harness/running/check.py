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
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from harness.analysis.mismatch import Mismatch
from harness.model.errors import HarnessError, RunFailed, UnsafeOutput
from harness.model.expectations import (
    Assertion,
    ExpectationFile,
    ServerSpec,
)
from harness.model.files import open_chosen
from harness.model.loader import load_expectations
from harness.model.record import replace
from harness.model.sweep import SweepCheck
from harness.model.trace import Trace
from harness.running.run_result import RunResult
from harness.running.serving import command_line, run_spec

if TYPE_CHECKING:  # the verdicts (the matcher with them) are imported once the run is over, not before it starts
    from harness.analysis.verdicts import AssertionResult


def _run_failure(run: RunResult) -> Mismatch:
    notes = [f"{role} was blocked in {call}" for role, call in run.blocked().items()] if run.timed_out else []
    notes.extend(run.clients.failures[:3])
    output = run.server_output.strip().splitlines()[-5:]
    if output:
        notes.append("the server's last output: " + " | ".join(output))
    failure = run.failure()
    return Mismatch(f"the server run itself failed: {failure or run.summary()}", kind="run", notes=tuple(notes))


def _swept(expectation: ExpectationFile, server: ServerSpec, assertion: Assertion) -> AssertionResult:
    """A ``sweep:`` assertion's verdict: a sweep of the file's server, each broken site not excepted a mismatch."""
    from harness.analysis.verdicts import AssertionResult, first_failed_assertion
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
) -> FileChecked:
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
    from harness.analysis.verdicts import AssertionResult, evaluate

    if run.ok:
        results = tuple(
            _swept(expectation, server, result.assertion) if isinstance(result.assertion.check, SweepCheck) else result
            for result in evaluate(expectation, run.trace)
        )
    else:
        failure = (_run_failure(run),)
        results = tuple(AssertionResult(assertion, failure) for assertion in expectation.assertions)
    return FileChecked(expectation, server, run, results, time.monotonic() - started)


def _stem(path: Path) -> str:
    """The name of an expectation file without its suffix: ``reaping`` for ``reaping.expect.yaml``."""
    return path.name.removesuffix(".yaml").removesuffix(".expect")


def write_failure_trace(checked: FileChecked, directory: Path | None = None) -> Path:
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
        from harness.model.strace_format import render_trace

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
    """An expectation file whose server ran: its run, the verdict of each assertion, and what was kept of a failure."""

    expectation: ExpectationFile
    server: ServerSpec
    """The server that ran: the file's own, or the one ``--server`` put in its place."""
    run: RunResult
    results: tuple[AssertionResult, ...]
    seconds: float
    failure_trace: Path | None = None
    """The JSON Lines trace of a failing run (a ``.txt`` beside it); ``None`` when every assertion held."""
    trace_not_kept: UnsafeOutput | None = None
    """Why a failing run's trace could not be written where it goes (a planted link, a FIFO): said, not fatal."""

    @property
    def path(self) -> Path:
        """The expectation file."""
        return self.expectation.path

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
        return checked  # stopped by the user: no verdict, nothing kept
    if not checked.passed:
        try:
            return replace(checked, failure_trace=write_failure_trace(checked, traces))
        except UnsafeOutput as refused:  # the verdicts stand; the next file is checked all the same
            return replace(checked, trace_not_kept=refused)
    if server is None and traces is None:
        stale = _stale_trace(expectation.path)
        stale.unlink(missing_ok=True)
        stale.with_suffix(".txt").unlink(missing_ok=True)
    return checked


def check_files(
    paths: Sequence[Path],
    *,
    server: ServerSpec | None = None,
    traces: Path | None = None,
    python_frames: bool = False,
) -> Iterator[FileOutcome]:
    """Check each file in turn (``harness check``), yielding its outcome as soon as it is known.

    A file that cannot be read is invalid; one file's trouble never stops
    the others.  ``python_frames`` reads the Python stacks in every file's run
    (``check --python-frames``), whatever its scenario says.
    """
    for path in paths:
        try:
            expectation = load_expectations(path)
        except HarnessError as error:
            yield FileInvalid(path, error)
            continue
        if python_frames:
            expectation = replace(expectation, scenario=replace(expectation.scenario, python_frames=True))
        try:
            outcome = check_and_keep(expectation, server=server, traces=traces)
        except HarnessError as error:
            yield FileNotRun(path, error)
            continue
        yield outcome
        if outcome.run.interrupted_by is not None:
            return  # Ctrl-C or SIGTERM ends the whole command, not just this file


def check_files_on_trace(paths: Sequence[Path], trace_file: Path, trace: Trace) -> Iterator[FileOutcome]:
    """Check each file's assertions against one recorded trace (``harness check --trace``), running nothing.

    ``connections`` in a count reads each file's own scenario: a trace does
    not say how many connections its clients made.
    """
    for path in paths:
        try:
            expectation = load_expectations(path)
        except HarnessError as error:
            yield FileInvalid(path, error)
            continue
        from harness.analysis.verdicts import evaluate

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
            for result in outcome.results
        ]
        return cls(
            files=len(outcomes),
            passed=sum(result.passed for result in results),
            failed=sum(not result.passed for result in results),
            invalid=tuple(outcome.error for outcome in outcomes if isinstance(outcome, FileInvalid)),
            not_run=tuple(outcome.error for outcome in outcomes if isinstance(outcome, FileNotRun)),
            interrupted_status=next(
                (
                    outcome.run.interrupted_status
                    for outcome in outcomes
                    if isinstance(outcome, FileChecked) and outcome.run.interrupted_status is not None
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
