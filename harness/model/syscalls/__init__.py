"""The syscall catalogue: what the harness knows about each system call, one place per call.

:mod:`.x86_64` is the architecture's table (numbers and prototype argument
names) of every call.  The calls a server's story is told with have an
entry (:class:`.entry.Syscall`) each, in one module per family as strace
has them: :mod:`.net`, :mod:`.process`, :mod:`.wait`, :mod:`.signal`,
:mod:`.desc`, :mod:`.fcntl`, :mod:`.futex`, :mod:`.time`.  An entry holds the call's decoded arguments (names, print
order, kinds), its decoders, its output arguments and its result kind;
the decoders of kernel structs are in :mod:`.structs`, and
:mod:`harness.model.decode` applies an entry to a call's registers.

The functions here answer the questions every layer asks, so that no layer
needs ptrace to name a call, and none keeps a table of its own.  A call
without an entry is traced all the same: its arguments are the raw
registers named after its prototype.
"""

from __future__ import annotations

import typing
from collections.abc import Collection, Mapping

from harness.model.errors import UsageError
from harness.model.hints import closest
from harness.model.syscalls import desc, fcntl, futex, net, process, signal, time, wait
from harness.model.syscalls.entry import Arg, Syscall, Timeout, Trait
from harness.model.syscalls.x86_64 import ARGUMENT_NAMES, NUMBERS

__all__ = [
    "CATALOGUE",
    "DEFAULT_SYSCALLS",
    "INTERRUPTIBLE_CALLS",
    "Arg",
    "Syscall",
    "argument_names",
    "argument_order",
    "calls_that",
    "catalogued",
    "check_syscalls",
    "known_syscalls",
    "output_args",
    "syscall_name",
    "syscall_number",
    "timeout_of",
]

#: Every catalogued call by name.
CATALOGUE: Mapping[str, Syscall] = {
    entry.name: entry for family in (net, process, wait, signal, desc, fcntl, futex, time) for entry in family.CALLS
}

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
    "dup",
    "dup2",
    "dup3",
    "close_range",
    "wait4",
    "waitid",
    "kill",
    "rt_sigaction",
    "rt_sigreturn",
    "restart_syscall",
    "exit",
    "exit_group",
)

#: The calls a signal can interrupt while they sleep, as signal(7) lists them ("Interruption of system
#: calls and library functions by signal handlers"): those a handler with SA_RESTART restarts (read, write
#: and their vector and socket forms, the waits, accept, connect, flock, futex) and those it never does
#: (poll, select, epoll, the sleeps, sigsuspend, semop, msgrcv).  What ``harness sweep`` traces to find
#: where a server sleeps, with the default set.
INTERRUPTIBLE_CALLS: tuple[str, ...] = (
    "read",
    "readv",
    "pread64",
    "write",
    "writev",
    "recvfrom",
    "recvmsg",
    "recvmmsg",
    "sendto",
    "sendmsg",
    "accept",
    "accept4",
    "connect",
    "wait4",
    "waitid",
    "flock",
    "futex",
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "epoll_wait",
    "epoll_pwait",
    "nanosleep",
    "clock_nanosleep",
    "pause",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "semop",
    "semtimedop",
    "msgrcv",
    "msgsnd",
)

_BY_TRAIT: Mapping[Trait, frozenset[str]] = {
    trait: frozenset(name for name, entry in CATALOGUE.items() if trait in entry.traits)
    for trait in typing.get_args(Trait)
}

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
            close = closest(name, NUMBERS)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UsageError(f"unknown syscall {name!r}{hint}")


def catalogued(name: str) -> Syscall | None:
    """The catalogue's entry for a call; None for a call without one."""
    return CATALOGUE.get(name)


def argument_order(name: str) -> tuple[str, ...]:
    """What a call's positional arguments mean: its entry's print order, or else the prototype's names."""
    entry = CATALOGUE.get(name)
    return entry.order if entry is not None else argument_names(name)


def calls_that(trait: Trait) -> frozenset[str]:
    """The catalogued calls with a trait: what the schedule, the stall watch and the analysis ask by."""
    return _BY_TRAIT[trait]


def timeout_of(name: str) -> Timeout | None:
    """Where a call takes the time it may wait at most; None for a call that waits for ever or never."""
    entry = CATALOGUE.get(name)
    return entry.timeout if entry is not None else None


def output_args(name: str) -> tuple[str, ...]:
    """The arguments the kernel writes at the call's exit (none for a call without an entry)."""
    entry = CATALOGUE.get(name)
    return entry.outputs if entry is not None else ()
