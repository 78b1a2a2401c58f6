"""Sleeping: nanosleep, clock_nanosleep (strace's ``src/time.c``).

A server's worker that sleeps, or a reaper that naps between wait4 calls,
is interrupted there like in accept; these calls restart through
restart_syscall(2) (ERESTART_RESTARTBLOCK), which names them.  As strace
does, the time left is shown only where the sleep was interrupted: on
success or another error the kernel leaves it unwritten.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.model import kernel, kernel_flags
from harness.model.syscalls.entry import Arg, Syscall
from harness.model.syscalls.structs import MemoryReader, pointer, read_timespec, u32


def _interrupted(ret: int) -> bool:
    """Whether the call ended with a restart code: then, and only then, the kernel wrote the time left."""
    return kernel.is_restart_code(kernel.ERRNO_NAMES.get(-ret)) if ret < 0 else False


def _nanosleep(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"req": read_timespec(read, raw[0])}


def _nanosleep_exit(raw: Sequence[int], ret: int, read: MemoryReader, entered: Mapping[str, Any]) -> dict[str, Any]:
    return {"rem": read_timespec(read, raw[1]) if _interrupted(ret) else pointer(raw[1])}


def _clock_nanosleep(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    clock = u32(raw[0])
    return {
        "clockid": kernel_flags.CLOCK_NAMES_XLAT.name(clock),
        "flags": kernel_flags.TIMER_FLAGS_XLAT.flags(u32(raw[1])),
        "request": read_timespec(read, raw[2]),
    }


def _clock_nanosleep_exit(
    raw: Sequence[int], ret: int, read: MemoryReader, entered: Mapping[str, Any]
) -> dict[str, Any]:
    # An absolute sleep (TIMER_ABSTIME) has no time left to write back (clock_nanosleep(2)).
    shown = not raw[1] and _interrupted(ret)
    return {"remain": read_timespec(read, raw[3]) if shown else pointer(raw[3])}


NANOSLEEP = Syscall(
    name="nanosleep",
    family="time",
    args=(Arg(name="req", kind="timespec"), Arg(name="rem", kind="timespec", output=True)),
    decode_entry=_nanosleep,
    decode_exit=_nanosleep_exit,
    register_only=False,  # reads the requested time
    traits=frozenset({"sleeps"}),
    source="nanosleep(2); kernel/time/hrtimer.c",
)

CLOCK_NANOSLEEP = Syscall(
    name="clock_nanosleep",
    family="time",
    args=(
        Arg(name="clockid", kind="name", xlat=kernel_flags.CLOCK_NAMES_XLAT),
        Arg(name="flags", kind="flags", xlat=kernel_flags.TIMER_FLAGS_XLAT),
        Arg(name="request", kind="timespec"),
        Arg(name="remain", kind="timespec", output=True),
    ),
    decode_entry=_clock_nanosleep,
    decode_exit=_clock_nanosleep_exit,
    register_only=False,
    traits=frozenset({"sleeps"}),
    source="clock_nanosleep(2); kernel/time/posix-timers.c",
)

CALLS = (NANOSLEEP, CLOCK_NANOSLEEP)
