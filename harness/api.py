"""The public API, in one place: what ``from harness import ...`` gives (see :data:`harness.__all__`).

Imported on the first use of a public name, not by ``import harness``.
"""

from __future__ import annotations

from harness.analysis.checked_trace import CheckedTrace, TraceAssertionError
from harness.analysis.explain import explain
from harness.model.events import Event, ExecEvent, ExitEvent, SignalEvent, SpawnEvent, SyscallEntry, SyscallEvent
from harness.model.expectations import ExpectationFile
from harness.model.loader import ExpectationError, load_expectations
from harness.model.sweep import SweepResult
from harness.model.trace import Trace
from harness.running.check import FileChecked, check_file
from harness.running.sources import RunPlan, run_plan
from harness.running.sweep import SweepOptions, sweep_plan

__all__ = [
    "CheckedTrace",
    "Event",
    "ExecEvent",
    "ExitEvent",
    "ExpectationError",
    "ExpectationFile",
    "FileChecked",
    "RunPlan",
    "SignalEvent",
    "SpawnEvent",
    "SweepOptions",
    "SweepResult",
    "SyscallEntry",
    "SyscallEvent",
    "Trace",
    "TraceAssertionError",
    "check_file",
    "explain",
    "load_expectations",
    "run_plan",
    "sweep_plan",
]
