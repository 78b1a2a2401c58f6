"""Where a trace comes from: a file written earlier, or a run of a bundled variant now.

``harness run``, ``explain``, ``report``, ``record`` and ``diff`` each take a
source argument; :func:`source_kind` is the one rule that tells what it
names, so that the same word means the same thing to every command.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Literal

from harness.model.errors import PortInUse, TraceInputError
from harness.model.events import Listener
from harness.model.injection import Injection
from harness.model.scenario import DEFAULT_SCENARIO, DEFAULT_TIMEOUT, Scenario
from harness.model.trace import Trace, TraceFileError
from harness.running.check import run_spec, server_spec
from harness.running.run import RunResult, port_in_use

#: ``golden``: a golden file of normalized stories (``*.golden.yaml``, or any ``*.yaml``/``*.yml``);
#: ``trace``: a JSON Lines trace (``*.jsonl``); ``variant``: the name of a bundled server variant.
SourceKind = Literal["golden", "trace", "variant"]


def source_kind(source: str) -> SourceKind:
    """What a source argument names, by its suffix; any other existing file is refused, not guessed at.

    A variant's name is checked only when it is run (``find_variant`` gives
    the did-you-mean), so that a misspelt file name that does not exist reads
    as what it most likely is.
    """
    if source.endswith((".yaml", ".yml")):
        return "golden"
    if source.endswith(".jsonl"):
        return "trace"
    if os.path.isfile(source):
        raise TraceInputError(f"{source}: not a golden file (*.golden.yaml) nor a JSON Lines trace (*.jsonl)")
    return "variant"


def read_trace(path: str) -> Trace:
    """A JSON Lines trace (from ``harness trace --jsonl``, ``run`` or ``check``); its errors are input errors."""
    try:
        return Trace.read_jsonl(path)
    except TraceFileError as error:
        raise TraceInputError(str(error)) from None


@dataclass(frozen=True, slots=True)
class VariantRun:
    """A bundled variant's run: its name as found, and how the run went."""

    name: str
    result: RunResult


def run_variant(
    name: str,
    scenario: Scenario = DEFAULT_SCENARIO,
    *,
    port: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    outputs: AbstractContextManager[Listener | None] | None = None,
    seccomp: bool = False,
    injections: Sequence[Injection] = (),
) -> VariantRun:
    """Run a bundled variant under the tracer and drive its clients (``harness run``); a failed run is returned.

    An unknown name is refused with the nearest one, and a taken ``port``
    refused, before ``outputs`` is entered: the listener it gives sees each
    point of the trace as it happens (``harness run`` opens its files there,
    so that a refused run leaves none behind).
    """
    spec = server_spec(name)
    if port is not None and port_in_use(port):
        raise PortInUse(
            f"port {port} is already taken by another process: choose another --port, "
            "or leave --port out to get a free one"
        )
    with outputs or nullcontext() as listener:
        result = run_spec(
            spec, scenario, timeout=timeout, port=port, listener=listener, seccomp=seccomp, injections=injections
        )
    return VariantRun(str(spec), result)


def variant_trace(name: str, scenario: Scenario = DEFAULT_SCENARIO) -> Trace:
    """The trace of a successful run of a bundled variant; a failed run raises its error.

    What is told about a failed run (an explanation, a report, a golden story)
    would describe the failure of the harness's clients, not the server's design.
    """
    result = run_variant(name, scenario).result
    failure = result.failure()
    if failure is not None:
        raise failure
    return result.trace


def trace_of(source: str, scenario: Scenario = DEFAULT_SCENARIO) -> Trace:
    """The trace a source names: a JSON Lines file read back, or a variant run now in ``scenario``."""
    kind = source_kind(source)
    if kind == "golden":
        raise TraceInputError(
            f"{source}: a golden file holds normalized stories, not a trace: give a JSON Lines trace (*.jsonl) "
            "or a variant's name"
        )
    if kind == "trace":
        return read_trace(source)
    return variant_trace(source, scenario)
