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

What users import is re-exported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.model.events import (
        Event,
        ExecEvent,
        ExitEvent,
        SignalEvent,
        SpawnEvent,
        SyscallEntry,
        SyscallEvent,
    )
    from harness.model.trace import Trace

__all__ = [
    "Event",
    "ExecEvent",
    "ExitEvent",
    "SignalEvent",
    "SpawnEvent",
    "SyscallEntry",
    "SyscallEvent",
    "Trace",
]


def __getattr__(name: str) -> object:
    """The re-exports, imported when first used (PEP 562): ``import harness`` itself costs nothing.

    So the ``harness`` command's first line (:mod:`harness._start`) runs before
    any of the package's modules is imported, and can make Ctrl-C at any moment
    of start-up a clean exit.
    """
    if name == "Trace":
        from harness.model.trace import Trace

        return Trace
    if name in __all__:
        from harness.model import events

        return getattr(events, name)
    raise AttributeError(f"module 'harness' has no attribute {name!r}")
