"""The only part of the harness that touches ptrace.

It starts a command under ptrace, follows every task it creates, and
turns what the kernel reports into the plain events of :mod:`harness.model.events`.
Everything downstream works on those events and never imports ``ptrace``.

Its parts, one job each: :mod:`.loop` waits for stops and dispatches them
to :mod:`.syscall_stops` and :mod:`.task_stops`, whose shared state
:mod:`.tracer_state` declares;
:mod:`.task` holds what is known of each task and makes every ptrace request
on it (a vanished task is one ``TaskGone``); :mod:`.recorder` decodes and
records events; :mod:`.handshake` speaks with a :class:`Controller`;
:mod:`.injection_policy` decides injections, which the loop carries out
(imported by the runs that inject: no other run pays for it at start-up);
:mod:`.ptrace_ext` makes the requests, most straight through libc and the
register structures through python-ptrace (its docstring says why); :mod:`.spawn` and
:mod:`.seccomp_filter` start the command.
"""

from harness.running.tracer import libc  # noqa: F401, I001 - first: python-ptrace must find the C library resolved
from harness.model.events import Listener
from harness.model.syscalls import DEFAULT_SYSCALLS
from harness.running.tracer.handshake import Controller
from harness.running.tracer.loop import Tracer, TraceResult

__all__ = [
    "DEFAULT_SYSCALLS",
    "Controller",
    "Listener",
    "TraceResult",
    "Tracer",
]
