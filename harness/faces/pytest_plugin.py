"""The pytest plugin: expectation files as test files, and a fixture for trace tests in Python.

Registered through the ``pytest11`` entry point, so ``pytest expectations/``
works wherever the package is installed.  It follows pytest's own model for
non-Python tests: a :class:`ExpectationFileNode` (one per ``*.expect.yaml``)
yields one :class:`AssertionItem` per assertion, named after it, so ``-k``
selects assertions by name; ``repr_failure`` prints the harness's own report
instead of a traceback.  The server of a file runs once per file (per
xdist worker), on a port of its own, in the file node's ``setup()``: pytest
runs it before the file's first item and keeps a failure to raise it again
for each of the others.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.faces import SUFFIX
from harness.model.scenario import DEFAULT_PROTOCOL, DEFAULT_SCENARIO, DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from harness.analysis.checked_trace import CheckedTrace
    from harness.model.expectations import Assertion, ExpectationFile, FileWarning
    from harness.model.scenario import Mode, Protocol
    from harness.running.check import FileChecked

#: The file's run and verdicts, set by the file node's setup and read by its items.
_CHECKED: pytest.StashKey[FileChecked] = pytest.StashKey()
#: Warnings of the collected expectation files (a capture used once): shown in the summary, never failing a test.
_WARNINGS: pytest.StashKey[list[FileWarning]] = pytest.StashKey()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show what the expectation files hold that is valid but most likely a typo."""
    warnings = terminalreporter.config.stash.get(_WARNINGS, [])
    if warnings:
        terminalreporter.section("expectation file warnings")
        for warning in warnings:
            terminalreporter.line(str(warning))


def pytest_addoption(parser: pytest.Parser) -> None:
    """The plugin's options."""
    group = parser.getgroup("harness", "syscall harness expectations")
    group.addoption(
        "--harness-server",
        metavar="VARIANT",
        help="run every expectation file against this bundled variant instead of its own server",
    )
    group.addoption(
        "--harness-traces",
        metavar="DIR",
        help="write the traces of failing runs to DIR (default: beside each expectation file)",
    )
    group.addoption(
        "--harness-record-golden",
        action="store_true",
        help="re-record the golden traces that 'golden:' assertions compare with, from this run, instead of comparing",
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Claim the expectation files, and only them (other YAML is left alone)."""
    if file_path.name.endswith(SUFFIX):
        node: ExpectationFileNode = ExpectationFileNode.from_parent(parent, path=file_path)
        return node
    return None


def _end_the_session_if_interrupted(interrupted_by: str | None) -> None:
    """A Ctrl-C or SIGTERM during a run stopped the run and killed its tree: now it ends pytest too.

    During a run the harness handles both signals itself, to kill the tree in
    order; pytest never saw them.  SIGINT becomes the KeyboardInterrupt pytest
    raises for any Ctrl-C (``!!! KeyboardInterrupt !!!``, exit status 2, no
    further test runs).  SIGTERM is raised again, now that pytest's own
    disposition is back: by default it ends pytest as it would have without
    the harness (status 143).
    """
    if interrupted_by == "SIGINT":
        raise KeyboardInterrupt
    if interrupted_by == "SIGTERM":
        signal.raise_signal(signal.SIGTERM)


class AssertionFailed(Exception):
    """An assertion that the trace does not keep; carries the report."""

    def __init__(self, report: str) -> None:
        super().__init__(report)
        self.report = report


class ExpectationFileNode(pytest.File):
    """One expectation file: its assertions are the items; its server runs once, in :meth:`setup`."""

    expectation: ExpectationFile

    def collect(self) -> Iterator[AssertionItem]:
        """Load and validate the file; a broken file is a collection error with its file:line message."""
        from harness.model.loader import ExpectationError, load_expectations

        try:
            self.expectation = load_expectations(self.path)
        except ExpectationError as error:
            raise self.CollectError(str(error)) from None
        self.config.stash.setdefault(_WARNINGS, []).extend(self.expectation.warnings)
        for assertion in self.expectation.assertions:
            yield AssertionItem.from_parent(self, name=assertion.name, assertion=assertion)

    def setup(self) -> None:
        """Run the file's server and check every assertion, before its first selected item runs.

        pytest runs this once per file (per xdist worker) and, when it raises,
        keeps the exception and raises it again for each item of the file: a
        run that cannot start is one error (or one skip reason) for each.
        """
        from harness.model.errors import HarnessError, PtraceNotPermitted
        from harness.running.check import check_and_keep
        from harness.running.serving import server_spec
        from harness.running.variants import NoCompiler

        config = self.config
        traces = config.getoption("harness_traces")
        try:
            override = config.getoption("harness_server")
            self.stash[_CHECKED] = check_and_keep(
                self.expectation,
                server=server_spec(override) if override else None,
                traces=Path(traces) if traces else None,
                record_golden=config.getoption("harness_record_golden"),
            )
        except (PtraceNotPermitted, NoCompiler) as error:  # a missing capability
            skip, problem = os.environ.get("HARNESS_REQUIRE_PTRACE") != "1", str(error)
        except HarnessError as error:
            skip, problem = False, str(error)
        else:
            _end_the_session_if_interrupted(self.stash[_CHECKED].run.interrupted_by)
            return
        # Out of the except clauses, so that pytest prints no "during handling of the above exception".
        if skip:
            pytest.skip(problem)
        pytest.fail(f"the server could not be run: {problem}", pytrace=False)


class AssertionItem(pytest.Item):
    """One assertion of an expectation file."""

    def __init__(self, *, assertion: Assertion, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.assertion = assertion

    @property
    def file_node(self) -> ExpectationFileNode:
        """The file this assertion belongs to."""
        assert isinstance(self.parent, ExpectationFileNode)
        return self.parent

    def runtest(self) -> None:
        """Check the assertion against the file's run."""
        kept = self.file_node.stash[_CHECKED]
        result = next(result for result in kept.results if result.assertion is self.assertion)
        if not result.passed:
            verbose = self.config.get_verbosity() > 0
            report = result.report(verbose=verbose)
            trace = kept.failure_trace
            if trace is not None:
                report += f"\ntrace of the run: {trace} ('harness show {trace}' prints it)"
            raise AssertionFailed(report)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | Any:
        """The harness's own report for a broken promise; pytest's otherwise."""
        if isinstance(excinfo.value, AssertionFailed):
            return excinfo.value.report
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        """Where the assertion was written (pytest counts lines from 0)."""
        line = self.assertion.location.line - 1 if self.assertion.location else 0
        return self.path, line, f"expectation: {self.name}"


@pytest.fixture
def harness_run() -> Callable[..., CheckedTrace]:
    """Run a server under the tracer and return its trace with the matching operations of expectation files.

    ``trace = harness_run("fork_sigchld", connections=3)``, then
    ``trace.sequence("accept4 -> ERESTARTSYS", "rt_sigreturn -> EINTR")``,
    ``trace.never("accept4 -> EINTR")``, ``trace.count("wait4 -> child")``,
    ``trace.fact("no zombie left")``.  ``server`` is a bundled variant's
    name or an argv list with ``{port}``; each run gets a port of its own,
    so tests can run in parallel (pytest-xdist).  ``python_frames=True``
    reads the Python stack at each event, for steps with ``@ function``.
    """
    from harness.analysis.checked_trace import DEFAULT_START_AFTER

    def run(
        server: str | Sequence[str],
        *,
        connections: int = DEFAULT_SCENARIO.connections,
        messages: int = DEFAULT_SCENARIO.messages,
        concurrency: int = DEFAULT_SCENARIO.concurrency,
        mode: Mode = DEFAULT_SCENARIO.mode,
        protocol: Protocol = DEFAULT_PROTOCOL,
        timeout: float = DEFAULT_TIMEOUT,
        start_after: str | None = DEFAULT_START_AFTER,
        syscalls: Sequence[str] = (),
        inject: Sequence[str] = (),
        python_frames: bool = False,
        ready: int = DEFAULT_SCENARIO.ready,
    ) -> CheckedTrace:
        from harness.analysis.checked_trace import CheckedTrace
        from harness.model.expectations import ServerSpec
        from harness.model.injection import parse_injection
        from harness.model.scenario import Scenario
        from harness.running.serving import run_spec, server_spec

        spec = server_spec(server) if isinstance(server, str) else ServerSpec(command=tuple(server), protocol=protocol)
        scenario = Scenario(connections, messages, concurrency, mode, python_frames, ready)
        injections = [parse_injection(text) for text in inject]
        result = run_spec(spec, scenario, timeout=timeout, syscalls=syscalls, injections=injections)
        _end_the_session_if_interrupted(result.interrupted_by)
        if not result.ok:
            pytest.fail(f"the server run failed: {result.summary()}\n{result.server_output}", pytrace=False)
        return CheckedTrace(result.trace, connections=scenario.connections, start_after=start_after)

    return run
