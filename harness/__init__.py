"""A syscall-observation harness for multi-process servers.

The package is layered; each layer imports only the ones above it in this
list, never a sibling's caller (a test checks it):

* :mod:`harness.model`: events, the trace, roles, kernel facts, argument
  decoders, strace-style text, the step language, expectations, scenarios;
* :mod:`harness.analysis`: facts, matching, golden stories, explanations and
  reports, as pure functions of a trace;
* :mod:`harness.running`: the tracer (the only code that touches ptrace),
  the deterministic schedule, clients, runs and checks;
* :mod:`harness.faces`: the ``harness`` command line and the pytest plugin.

What users import is re-exported here (``__all__``); the rest is internal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.api import (  # the names of __all__, for type checkers
        CheckedTrace,
        Event,
        ExecEvent,
        ExitEvent,
        ExpectationError,
        ExpectationFile,
        FileChecked,
        RunPlan,
        SignalEvent,
        SpawnEvent,
        SweepOptions,
        SweepResult,
        SyscallEntry,
        SyscallEvent,
        Trace,
        TraceAssertionError,
        check_file,
        explain,
        load_expectations,
        run_plan,
        sweep_plan,
    )

#: The public API (:mod:`harness.api` imports each from its module).  Everything else is internal: its
#: name and place may change from one version to the next (the layers above say where things live).
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


def __getattr__(name: str) -> object:
    """The public names, imported when first used (PEP 562): ``import harness`` itself costs nothing.

    So the ``harness`` command's first line (:mod:`harness._start`) runs before
    any of the package's modules is imported, and can make Ctrl-C at any moment
    of start-up a clean exit.
    """
    if name not in __all__:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    from harness import api

    return getattr(api, name)
