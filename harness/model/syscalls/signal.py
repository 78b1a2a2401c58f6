"""Signals: kill, tkill, tgkill, rt_sigaction, rt_sigreturn, restart_syscall (strace's ``src/signal.c``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.model import kernel
from harness.model.syscalls.entry import Arg, Syscall
from harness.model.syscalls.structs import SIGACTION_SIZE, MemoryReader, decode_sigaction, pointer, read_struct, s32


def _kill(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    # Signal 0 checks that the target exists and sends nothing (kill(2)): it has no name.
    return {"pid": s32(raw[0]), "signal": kernel.signal_name(raw[1]) if raw[1] else 0}


def _tgkill(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"tgid": s32(raw[0]), "tid": s32(raw[1]), "signal": kernel.signal_name(raw[2]) if raw[2] else 0}


def _rt_sigaction(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    act = read_struct(read, raw[1], SIGACTION_SIZE)
    return {
        "signal": kernel.signal_name(raw[0]),
        "act": decode_sigaction(act) if act else pointer(raw[1]),
        "sigsetsize": raw[3],
    }


def _rt_sigaction_exit(raw: Sequence[int], ret: int, read: MemoryReader) -> dict[str, Any]:
    data = read_struct(read, raw[2], SIGACTION_SIZE) if ret >= 0 else None
    return {"oldact": decode_sigaction(data) if data else pointer(raw[2])}


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
RT_SIGRETURN = Syscall(
    name="rt_sigreturn",
    family="signal",
    args=(),
    decode_entry=_nothing,
    register_only=True,
    result="restored",
    source="sigreturn(2); arch/x86/kernel/signal.c",
)

RESTART_SYSCALL = Syscall(
    name="restart_syscall",
    family="signal",
    args=(),
    decode_entry=_nothing,
    register_only=True,
    source="restart_syscall(2); kernel/signal.c",
)

CALLS = (KILL, TKILL, TGKILL, RT_SIGACTION, RT_SIGRETURN, RESTART_SYSCALL)
