"""Signals (strace's ``src/signal.c``).

kill, tkill, tgkill, rt_sigaction, rt_sigreturn, restart_syscall, and the
waits for one: pause, rt_sigsuspend, rt_sigtimedwait.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.model import kernel
from harness.model.syscalls.entry import Arg, Syscall, Timeout
from harness.model.syscalls.structs import (
    SIGACTION_SIZE,
    SIGINFO_SIZE,
    MemoryReader,
    decode_sigaction,
    decode_siginfo,
    decode_sigset,
    pointer,
    read_sigset,
    read_struct,
    read_timespec,
    s32,
    signal_arg,
)


def _kill(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    # Signal 0 checks that the target exists and sends nothing (kill(2)): it has no name.
    return {"pid": s32(raw[0]), "signal": signal_arg(raw[1])}


def _tgkill(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"tgid": s32(raw[0]), "tid": s32(raw[1]), "signal": signal_arg(raw[2])}


def _rt_sigaction(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    act = read_struct(read, raw[1], SIGACTION_SIZE)
    return {
        "signal": signal_arg(raw[0]),
        "act": decode_sigaction(act) if act else pointer(raw[1]),
        "sigsetsize": raw[3],
    }


def _rt_sigaction_exit(raw: Sequence[int], ret: int, read: MemoryReader, entered: Mapping[str, Any]) -> dict[str, Any]:
    data = read_struct(read, raw[2], SIGACTION_SIZE) if ret >= 0 else None
    return {"oldact": decode_sigaction(data) if data else pointer(raw[2])}


def _rt_sigreturn(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    """The mask the return restores, saved in the signal frame: the tracer reads it there and hands it in as raw[0]."""
    return {"mask": decode_sigset(raw[0] & 0xFFFF_FFFF_FFFF_FFFF)} if raw else {}


def _nothing(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {}


_TARGET = (Arg(name="pid", kind="pid"), Arg(name="signal", kind="signal"))

KILL = Syscall(
    name="kill",
    family="signal",
    args=_TARGET,
    decode_entry=_kill,
    register_only=True,
    traits=frozenset({"signals"}),
    source="kill(2); kernel/signal.c",
)

TKILL = Syscall(
    name="tkill",
    family="signal",
    args=_TARGET,
    decode_entry=_kill,
    register_only=True,
    traits=frozenset({"signals"}),
    source="tkill(2); kernel/signal.c",
)

# What raise(3) and pthread_kill(3) call: a thread of a given thread group (tgkill(2)); both are pids.
TGKILL = Syscall(
    name="tgkill",
    family="signal",
    args=(Arg(name="tgid", kind="pid"), Arg(name="tid", kind="pid"), Arg(name="signal", kind="signal")),
    decode_entry=_tgkill,
    register_only=True,
    traits=frozenset({"signals"}),
    source="tgkill(2); kernel/signal.c",
)

RT_SIGACTION = Syscall(
    name="rt_sigaction",
    family="signal",
    args=(
        Arg(name="signal", kind="signal"),
        Arg(name="act", kind="sigaction"),
        Arg(name="oldact", kind="sigaction", output=True),
        Arg(name="sigsetsize", kind="int"),
    ),
    decode_entry=_rt_sigaction,
    decode_exit=_rt_sigaction_exit,
    register_only=False,
    traits=frozenset({"installs_handler"}),
    source="rt_sigaction(2); kernel/signal.c",
)

# A handler's return: the kernel restores the registers saved at delivery, so the call "returns" the
# interrupted call's result, or that call's own number when it is to be restarted (arch/x86/kernel/signal.c).
# It takes no arguments: strace shows the signal mask it restores, which the tracer reads from the frame on
# the stack and hands the decoder in place of the first register (kernel.SIGRETURN_MASK_OFFSET).
RT_SIGRETURN = Syscall(
    name="rt_sigreturn",
    family="signal",
    args=(Arg(name="mask", kind="sigset", named=True, braced=True, optional=True),),
    decode_entry=_rt_sigreturn,
    register_only=True,
    result="restored",
    traits=frozenset({"returns_from_handler"}),
    source="sigreturn(2); arch/x86/kernel/signal.c",
)

# It takes no arguments: strace shows the call it resumes, the task's last one that ERESTART_RESTARTBLOCK
# interrupted, which the tracer knows and hands in (``resuming``, None where that call was not seen).
RESTART_SYSCALL = Syscall(
    name="restart_syscall",
    family="signal",
    args=(Arg(name="resuming", kind="resuming", optional=True),),
    decode_entry=_nothing,
    register_only=True,
    traits=frozenset({"resumes"}),
    source="restart_syscall(2); kernel/signal.c",
)


def _rt_sigsuspend(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"mask": read_sigset(read, raw[0], raw[1]), "sigsetsize": raw[1]}


def _rt_sigtimedwait(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"set": read_sigset(read, raw[0], raw[3]), "timeout": read_timespec(read, raw[2]), "sigsetsize": raw[3]}


def _rt_sigtimedwait_exit(
    raw: Sequence[int], ret: int, read: MemoryReader, entered: Mapping[str, Any]
) -> dict[str, Any]:
    """The signal taken: its siginfo where the call succeeded, and its name after the result (strace's note)."""
    data = read_struct(read, raw[1], SIGINFO_SIZE) if ret > 0 else None
    outputs: dict[str, Any] = {"info": decode_siginfo(data) if data else pointer(raw[1])}
    if ret > 0:
        outputs["returned"] = {"hex": False, "note": kernel.signal_name(ret)}
    return outputs


# A process that waits for a signal and nothing else: an event loop's idle, a supervisor's main loop.
PAUSE = Syscall(
    name="pause",
    family="signal",
    args=(),
    decode_entry=_nothing,
    register_only=True,
    traits=frozenset({"suspends"}),
    source="pause(2); kernel/signal.c",
)

RT_SIGSUSPEND = Syscall(
    name="rt_sigsuspend",
    family="signal",
    args=(Arg(name="mask", kind="sigset"), Arg(name="sigsetsize", kind="int")),
    decode_entry=_rt_sigsuspend,
    register_only=False,  # reads the mask
    traits=frozenset({"suspends"}),
    source="sigsuspend(2); kernel/signal.c",
)

RT_SIGTIMEDWAIT = Syscall(
    name="rt_sigtimedwait",
    family="signal",
    args=(
        Arg(name="set", kind="sigset"),
        Arg(name="info", kind="siginfo", output=True),
        Arg(name="timeout", kind="timespec"),
        Arg(name="sigsetsize", kind="int"),
        Arg(name="returned", kind="returned", output=True, result_note=True, optional=True),
    ),
    decode_entry=_rt_sigtimedwait,
    decode_exit=_rt_sigtimedwait_exit,
    register_only=False,  # reads the set and the timeout
    traits=frozenset({"suspends"}),
    timeout=Timeout(2, forever_is_negative=False),
    source="sigtimedwait(2); kernel/signal.c",
)

CALLS = (KILL, TKILL, TGKILL, RT_SIGACTION, RT_SIGRETURN, RESTART_SYSCALL, PAUSE, RT_SIGSUSPEND, RT_SIGTIMEDWAIT)
