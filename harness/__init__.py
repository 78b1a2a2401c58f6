"""A syscall-observation harness for multi-process servers.

The flow, one module per step:

* :mod:`harness.tracer` runs a command under ptrace (the only module that
  touches it) and produces events;
* :mod:`harness.events` and :mod:`harness.trace` are those events and the
  recorded trace, with its JSON Lines form;
* :mod:`harness.decode`, :mod:`harness.kernel` and :mod:`harness.roles`
  turn raw numbers into names: arguments, errno and signal names, roles;
* :mod:`harness.strace_format` prints a trace the way strace would;
* :mod:`harness.cli` is the ``harness`` command.
"""

from harness.events import (
    Event,
    ExecEvent,
    ExitEvent,
    SignalEvent,
    SpawnEvent,
    SyscallEntry,
    SyscallEvent,
)
from harness.trace import Trace

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
