"""Where a trace comes from: a file written earlier, or a run now of a variant, an expectation file or a command.

``harness run``, ``explain``, ``report``, ``record`` and ``diff`` each take a
source argument; :func:`source_kind` is the one rule that tells what it
names, so that the same word means the same thing to every command.  A
source that is run becomes a :class:`RunPlan`, whatever named it: the
commands then run a bundled variant, the server of your expectation file
or your own command line the same way.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeAlias

from harness.model.errors import PortInUse, TraceInputError, UsageError
from harness.model.events import Listener
from harness.model.expectations import EXPECTATION_SUFFIX, GOLDEN_SUFFIX, ExpectationFile, ServerSpec
from harness.model.injection import Injection
from harness.model.record import replace
from harness.model.scenario import (
    DEFAULT_SCENARIO,
    DEFAULT_TIMEOUT,
    STOP_BY_EXIT,
    ClientCommand,
    Mode,
    Scenario,
    Stop,
)
from harness.model.trace import Trace, TraceFileError
from harness.running.ports import port_in_use
from harness.running.run_result import RunResult
from harness.running.serving import command_line, run_spec, server_spec

if TYPE_CHECKING:
    from harness.analysis.golden import GoldenTrace

#: ``golden``: a golden file of normalized stories (``*.golden.yaml``); ``trace``: a JSON Lines trace
#: (``*.jsonl``) or an strace log (by its content: ``strace -f`` text, or ``-ff``'s files by their prefix or
#: directory); ``expectation``: an expectation file (``*.expect.yaml``), whose server is run;
#: ``variant``: the name of a bundled server variant.
SourceKind = Literal["golden", "trace", "expectation", "variant"]


def source_kind(source: str) -> SourceKind:
    """What a source argument names: by its suffix, or an strace log by its content; any other file is refused.

    A variant's name is checked only when it is run (``find_variant`` gives
    the did-you-mean), so that a misspelt file name that does not exist reads
    as what it most likely is.  A variant's name has no dot and no slash but
    ``c/``; an strace ``-ff`` prefix is looked for only when no variant is called so.
    """
    if source.endswith(GOLDEN_SUFFIX):
        return "golden"
    if source.endswith(EXPECTATION_SUFFIX):
        return "expectation"
    if source.endswith(".jsonl"):
        return "trace"
    if source.endswith((".yaml", ".yml")):
        raise _unknown_file(source)
    if os.path.isfile(source):
        if _is_strace_log(source):
            return "trace"
        raise _unknown_file(source)
    if os.path.isdir(source) and _is_strace_log(source):
        return "trace"  # the directory of strace -ff's LOG.PID files
    if not _names_a_variant(source) and _is_strace_log(source):
        return "trace"  # the prefix of strace -ff's LOG.PID files
    return "variant"


def _is_strace_log(source: str) -> bool:
    """Whether ``source`` is an strace log, by its content (the reader is imported for a file, not for a variant)."""
    from harness.model.strace_log import is_strace_log as looks_so

    return looks_so(source)


def _unknown_file(source: str) -> TraceInputError:
    return TraceInputError(
        f"{source}: not a golden file (*{GOLDEN_SUFFIX}), an expectation file (*{EXPECTATION_SUFFIX}), "
        "an strace -f log nor a JSON Lines trace (*.jsonl): rename it to say which, or give a variant's name"
    )


def _names_a_variant(source: str) -> bool:
    from harness.model.variants import list_variants

    try:
        return source in list_variants()
    except UsageError:  # no servers directory: nothing is a variant
        return False


def read_trace(path: str) -> Trace:
    """A trace file: JSON Lines (from ``harness trace --jsonl``, ``run`` or ``check``) or an strace log.

    An strace log is told by its content (:func:`harness.model.strace_log.is_strace_log`),
    whatever its name; its errors, as a JSON Lines file's, are input errors naming the line.
    """
    from harness.model.strace_log import is_strace_log, read_strace_log

    try:
        if is_strace_log(path):
            return read_strace_log(path)
        return Trace.read_jsonl(path)
    except TraceFileError as error:
        raise TraceInputError(str(error)) from None


# -- what is run --------------------------------------------------------------------------------------------------

#: Where a plan came from: a bundled variant's name, an expectation file, or a command line.
PlanOrigin = Literal["variant", "expectation", "command"]


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What a command line says about a run; ``None`` (or nothing) leaves the plan's own setting in force."""

    connections: int | None = None
    messages: int | None = None
    concurrency: int | None = None
    mode: Mode | None = None
    timeout: float | None = None
    injections: tuple[Injection, ...] = ()
    """Added to the plan's own (an expectation file's ``inject:``)."""
    stop: str | None = None
    """``exit`` or a signal's name (``--stop``), in place of the plan's own stop."""
    grace: float | None = None
    """Seconds after the stop signal (``--grace``), in place of the plan's own."""
    exits: frozenset[int] | None = None
    """The exit statuses that end the run well (``--exit``), in place of the plan's own."""
    client: ClientCommand | None = None
    """A client command (``--client-command``) in place of the plan's clients."""
    python_frames: bool = False
    """``--python-frames``: read the Python stacks even when the plan's scenario does not ask for them."""
    ready: int | None = None
    """``--ready N``: the processes the clients wait for, in place of the plan's own."""

    def over(self, scenario: Scenario) -> Scenario:
        """``scenario`` with the fields this command line gives replaced (checked again, as any scenario is)."""
        return Scenario(
            connections=self.connections if self.connections is not None else scenario.connections,
            messages=self.messages if self.messages is not None else scenario.messages,
            concurrency=self.concurrency if self.concurrency is not None else scenario.concurrency,
            mode=self.mode if self.mode is not None else scenario.mode,
            python_frames=self.python_frames or scenario.python_frames,
            ready=self.ready if self.ready is not None else scenario.ready,
        )


#: A command line that says nothing about the run.
NO_OPTIONS = RunOptions()


@dataclass(frozen=True, slots=True)
class RunPlan:
    """A server to run and how: everything a command needs to run a source, whatever named it."""

    label: str
    """What the user called it: the variant's name, the expectation file's path, the command line."""
    origin: PlanOrigin
    server: ServerSpec
    scenario: Scenario = DEFAULT_SCENARIO
    timeout: float = DEFAULT_TIMEOUT
    syscalls: tuple[str, ...] = field(default=())
    """Traced in addition to the default set (the calls an expectation file's steps name)."""
    injections: tuple[Injection, ...] = ()

    def label_on(self, port: int | None) -> str:
        """The label once the run has its port: a command line as it ran (placeholders filled, paths resolved)."""
        if self.origin != "command" or port is None or "{" not in self.label:
            return self.label  # a name the user gave it, or a command without placeholders
        return command_line(self.server, port, self.scenario.connections)

    @classmethod
    def of_variant(cls, name: str, scenario: Scenario = DEFAULT_SCENARIO) -> RunPlan:
        """A bundled variant in ``scenario``; an unknown name is refused now, with the nearest one."""
        spec = server_spec(name)
        return cls(str(spec), "variant", spec, scenario)

    @classmethod
    def of_expectation(cls, expectation: ExpectationFile) -> RunPlan:
        """An expectation file's server, with its scenario, timeout, traced calls and injections."""
        return cls(
            str(expectation.path),
            "expectation",
            expectation.server,
            expectation.scenario,
            expectation.timeout,
            expectation.syscalls,
            expectation.injections,
        )

    @classmethod
    def of_command(cls, server: ServerSpec, *, label: str | None = None) -> RunPlan:
        """A command line of the user's own (``server.command``, with ``{port}``), labelled as typed."""
        return cls(label or shlex.join(server.command), "command", server)

    def with_options(self, options: RunOptions) -> RunPlan:
        """This plan with what a command line says over its own settings."""
        server = self.server
        if options.stop is not None or options.grace is not None or options.exits is not None:
            stop = options.stop or str(server.stop)
            grace = (
                options.grace if options.grace is not None else (None if stop == STOP_BY_EXIT else server.stop.grace)
            )
            server = replace(server, stop=Stop.parse(stop, grace, options.exits or server.stop.exits))
        if options.client is not None:
            server = replace(server, client_command=options.client)
        return replace(
            self,
            server=server,
            scenario=options.over(self.scenario),
            timeout=options.timeout if options.timeout is not None else self.timeout,
            injections=(*self.injections, *options.injections),
        )


def plan_of(source: str) -> RunPlan:
    """The plan a source argument names when it names a server: a variant, or an expectation file (read now)."""
    kind = source_kind(source)
    if kind == "expectation":
        from harness.model.loader import load_expectations  # YAML and its schema: not for a variant's run

        return RunPlan.of_expectation(load_expectations(Path(source)))
    if kind == "variant":
        return RunPlan.of_variant(source)
    raise TraceInputError(
        f"{source}: a {'golden file' if kind == 'golden' else 'trace'} is not a server to run: give a variant's name, "
        f"an expectation file (*{EXPECTATION_SUFFIX}) or '-- CMD ... {{port}} ...'"
    )


#: What a source argument gives: a trace read back, a golden file's stories, or a server to run.
Source: TypeAlias = "Trace | GoldenTrace | RunPlan"


def read_source(source: str) -> Source:
    """What a source argument names: a golden file or a trace read now, or a plan to run (its server checked now)."""
    kind = source_kind(source)
    if kind == "golden":
        from harness.analysis.golden import read_golden  # the golden model: for a golden file alone

        return read_golden(source)
    if kind == "trace":
        return read_trace(source)
    return plan_of(source)


@dataclass(frozen=True, slots=True)
class PlannedRun:
    """A plan's run: the plan's label, and how the run went."""

    name: str
    result: RunResult


def run_plan(
    plan: RunPlan,
    *,
    port: int | None = None,
    outputs: AbstractContextManager[Listener | None] | None = None,
    seccomp: bool = True,
) -> PlannedRun:
    """Run a plan's server under the tracer and drive its clients (``harness run``); a failed run is returned.

    A taken ``port`` is refused before ``outputs`` is entered: the listener it
    gives sees each point of the trace as it happens (``harness run`` opens
    its files there, so that a refused run leaves none behind).
    """
    if port is not None and port_in_use(port):
        raise PortInUse(
            f"port {port} is already taken by another process: choose another --port, "
            "or leave --port out to get a free one"
        )
    with outputs or nullcontext() as listener:
        result = run_spec(
            plan.server,
            plan.scenario,
            timeout=plan.timeout,
            syscalls=plan.syscalls,
            port=port,
            listener=listener,
            seccomp=seccomp,
            injections=plan.injections,
        )
    return PlannedRun(plan.label_on(result.port), result)


def run_variant(
    name: str,
    scenario: Scenario = DEFAULT_SCENARIO,
    *,
    port: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    outputs: AbstractContextManager[Listener | None] | None = None,
    seccomp: bool = True,
    injections: Sequence[Injection] = (),
) -> PlannedRun:
    """Run a bundled variant as :func:`run_plan` does; an unknown name is refused before ``outputs`` is entered."""
    plan = replace(RunPlan.of_variant(name, scenario), timeout=timeout, injections=tuple(injections))
    return run_plan(plan, port=port, outputs=outputs, seccomp=seccomp)


def plan_trace(plan: RunPlan) -> Trace:
    """The trace of a successful run of the plan; a failed run raises its error.

    What is told about a failed run (an explanation, a report, a golden story)
    would describe the failure of the harness's clients, not the server's design.
    """
    result = run_plan(plan).result
    failure = result.failure()
    if failure is not None:
        raise failure
    return result.trace


def variant_trace(name: str, scenario: Scenario = DEFAULT_SCENARIO) -> Trace:
    """The trace of a successful run of a bundled variant (see :func:`plan_trace`)."""
    return plan_trace(RunPlan.of_variant(name, scenario))


def _not_a_trace(name: str) -> TraceInputError:
    return TraceInputError(
        f"{name}: a golden file holds normalized stories, not a trace: give a JSON Lines trace (*.jsonl), "
        "an expectation file, a variant's name or a command"
    )


def trace_of(source: str | Source, scenario: Scenario = DEFAULT_SCENARIO) -> Trace:
    """The trace a source gives: a JSON Lines file read back, or a run now (a variant's name runs in ``scenario``)."""
    if isinstance(source, str):
        kind = source_kind(source)
        if kind == "golden":
            raise _not_a_trace(source)
        source = RunPlan.of_variant(source, scenario) if kind == "variant" else read_source(source)
    if isinstance(source, Trace):
        return source
    if isinstance(source, RunPlan):
        return plan_trace(source)
    raise _not_a_trace("this source")  # a golden file's stories
