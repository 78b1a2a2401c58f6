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
