"""The only part of the harness that touches ptrace.

It starts a command under python-ptrace, follows every task it creates, and
turns what the kernel reports into the plain events of :mod:`harness.model.events`.
Everything downstream works on those events and never imports ``ptrace``.
"""

from harness.running.tracer.loop import (
    DEFAULT_SYSCALLS,
    Controller,
    Listener,
    Tracer,
    TraceResult,
)

__all__ = [
    "DEFAULT_SYSCALLS",
    "Controller",
    "Listener",
    "TraceResult",
    "Tracer",
]
