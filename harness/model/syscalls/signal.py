"""Signals: kill, tkill, tgkill, rt_sigaction, rt_sigreturn, restart_syscall (strace's ``src/signal.c``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.model.syscalls.entry import Arg, Syscall
from harness.model.syscalls.structs import (
    SIGACTION_SIZE,
    MemoryReader,
    decode_sigaction,
    decode_sigset,
    pointer,
    read_struct,
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
    source="kill(2); kernel/signal.c",
)

TKILL = Syscall(
    name="tkill",
    family="signal",
    args=_TARGET,
    decode_entry=_kill,
    register_only=True,
    source="tkill(2); kernel/signal.c",
)

# What raise(3) and pthread_kill(3) call: a thread of a given thread group (tgkill(2)); both are pids.
TGKILL = Syscall(
    name="tgkill",
    family="signal",
    args=(Arg(name="tgid", kind="pid"), Arg(name="tid", kind="pid"), Arg(name="signal", kind="signal")),
    decode_entry=_tgkill,
    register_only=True,
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
    source="restart_syscall(2); kernel/signal.c",
)

CALLS = (KILL, TKILL, TGKILL, RT_SIGACTION, RT_SIGRETURN, RESTART_SYSCALL)
