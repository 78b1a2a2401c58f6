"""The only part of the harness that touches ptrace.

It starts a command under python-ptrace, follows every task it creates, and
turns what the kernel reports into the plain events of :mod:`harness.events`.
Everything downstream works on those events and never imports ``ptrace``.
"""

from harness.tracer.loop import (
    DEFAULT_SYSCALLS,
    Controller,
    Listener,
    Tracer,
    TraceResult,
    argument_names,
    check_syscalls,
    known_syscalls,
    syscall_number,
)

__all__ = [
    "DEFAULT_SYSCALLS",
    "Controller",
    "Listener",
    "TraceResult",
    "Tracer",
    "argument_names",
    "check_syscalls",
    "known_syscalls",
    "syscall_number",
]
