"""The harness's safety from its tracees: a call that would signal, trace or change the harness fails with EPERM.

The traced server is the harness's child and often runs as root: with
``kill(getppid(), SIGSTOP)`` it would freeze the run, with SIGTERM or
SIGHUP end it without a verdict, with ``PTRACE_ATTACH`` stop it for good,
and ``kill(-1, SIGKILL)`` as root ends every process on the machine.
Ignoring signals cannot cover SIGSTOP or SIGKILL, and a signal handler
cannot tell who sent the signal; the tracer can, because it sees the call.
So every call of :data:`kernel.CALLS_NAMING_A_PROCESS` that names the
harness (its pid or a thread's, its process group, every process) is
skipped at its entry and fails with EPERM, as it would for a process
without the right to signal the harness (kill(2), "EPERM").  A signal 0
(a probe that the process exists) goes through.  The call, when traced,
is in the trace as failed and marked injected: the harness made it fail.

With the seccomp prefilter the same calls stop only when their argument
names the harness (a masked compare of the low 32 bits, as the kernel reads
a ``pid_t``): a server that signals its own workers costs no stop.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from harness.model import kernel
from harness.model.record import record
from harness.model.syscalls import syscall_number

#: The calls watched, by number: what each argument is (see kernel.CALLS_NAMING_A_PROCESS).
_CALLS = {syscall_number(name): (name, *where) for name, where in kernel.CALLS_NAMING_A_PROCESS.items()}
#: Every call number the guard looks at: a set, for the tracer's one test per entry.
NUMBERS = frozenset(_CALLS)


def _int32(value: int) -> int:
    """The ``int`` the kernel reads from a 64-bit register: its low 32 bits, signed."""
    value &= 0xFFFF_FFFF
    return value - (1 << 32) if value & 0x8000_0000 else value


def _harness_tids() -> frozenset[int]:
    """The harness's threads now (/proc/self/task): a tkill(2) may name any of them."""
    try:
        return frozenset(int(name) for name in os.listdir("/proc/self/task"))
    except OSError:
        return frozenset({os.getpid()})


@record
class Guard:
    """Which calls of a tracee reach the harness itself."""

    pid: int
    """The harness's process id."""
    pgid: int
    """The harness's process group."""

    @classmethod
    def here(cls) -> Guard:
        """The guard of this process, the harness."""
        return cls(os.getpid(), os.getpgrp())

    def filter_rules(self) -> dict[int, tuple[int, frozenset[int]] | None]:
        """For the prefilter: each call's argument and the values of it that must stop the call; None for every call.

        kill(2) stops for the harness, its group, every process, and 0 (the
        caller's group, which may be the harness's: checked at the stop).
        tkill(2), obsolete and rare, stops always: a thread the harness
        starts later has an id no filter installed now could name.
        """
        rules: dict[int, tuple[int, frozenset[int]] | None] = {}
        for number, (name, process, _signal) in _CALLS.items():
            targets = {self.pid}
            if name == "kill":
                targets |= {-self.pgid, kernel.KILL_EVERY_PROCESS, kernel.KILL_OWN_GROUP}
            rules[number] = None if name == "tkill" else (process, frozenset(targets))
        return rules

    def refusal(self, caller_pid: int, number: int, raw: Sequence[int]) -> str | None:
        """What the call would do to the harness, in a few words; None when it does not reach it, or harms nothing."""
        name, process, signal_at = _CALLS[number]
        target = _int32(raw[process])
        signal = kernel.signal_name(_int32(raw[signal_at])) if signal_at is not None else None
        if signal == "0":
            return None  # a probe that the process exists: it sends nothing
        if name == "kill" and target == kernel.KILL_EVERY_PROCESS:
            return f"send {signal} to every process on the machine, the harness included"
        if name == "kill" and (
            target == -self.pgid or (target == kernel.KILL_OWN_GROUP and _group(caller_pid) == self.pgid)
        ):
            return f"send {signal} to its process group, the harness's too (harness run gives a server its own)"
        if not (target == self.pid or (name == "tkill" and target in _harness_tids())):
            return None
        if signal is not None:
            return f"send {signal} to the harness"
        if name == "prlimit64":
            return "change the harness's resource limits" if raw[2] else None  # new_rlim NULL: only reads them
        return _HARMS[name]


#: What each call that names no signal would do to the harness.
_HARMS = {
    "ptrace": "trace the harness",
    "pidfd_open": "open a descriptor of the harness, to signal it later",
    "process_vm_writev": "write into the harness's memory",
}


def _group(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None
