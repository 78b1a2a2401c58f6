"""The syscall catalogue: what the harness knows about each system call, one place per call.

:mod:`.x86_64` is the architecture's table (numbers and prototype argument
names).  The functions here answer the questions every layer asks of it, so
that no layer needs ptrace to name a call.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping

from harness.model.errors import UsageError
from harness.model.syscalls.x86_64 import ARGUMENT_NAMES, NUMBERS

#: The calls a fork-per-connection server's story is told with.
DEFAULT_SYSCALLS: tuple[str, ...] = (
    "listen",
    "accept",
    "accept4",
    "clone",
    "clone3",
    "fork",
    "vfork",
    "close",
    "wait4",
    "waitid",
    "kill",
    "rt_sigaction",
    "rt_sigreturn",
    "restart_syscall",
    "exit",
    "exit_group",
)

#: Name by native number.
NAMES: Mapping[int, str] = {number: name for name, number in NUMBERS.items()}


def known_syscalls() -> frozenset[str]:
    """Every syscall name of this architecture."""
    return frozenset(NUMBERS)


def syscall_number(name: str) -> int:
    """The native number of a syscall, as rt_sigreturn returns it for a restarted call."""
    return NUMBERS[name]


def syscall_name(number: int) -> str:
    """The name of a native syscall number; the number itself as text when unknown."""
    return NAMES.get(number, str(number))


def argument_names(name: str) -> tuple[str, ...]:
    """The names of a syscall's arguments in the prototype's order (empty when unknown)."""
    return ARGUMENT_NAMES.get(name, ())


def check_syscalls(names: Collection[str]) -> None:
    """Reject unknown syscall names with the nearest real one."""
    for name in names:
        if name not in NUMBERS:
            close = difflib.get_close_matches(name, NUMBERS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UsageError(f"unknown syscall {name!r}{hint}")
