"""Reaping children: wait4, waitid (strace's ``src/wait.c``)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from harness.model import kernel
from harness.model.syscalls.entry import Arg, Syscall
from harness.model.syscalls.structs import SIGINFO_SIZE, MemoryReader, decode_siginfo, pointer, read_struct, s32


def _wait4(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"pid": s32(raw[0]), "options": kernel.flag_names(raw[2], kernel.WAIT_OPTIONS)}


def _wait4_exit(raw: Sequence[int], ret: int, read: MemoryReader) -> dict[str, Any]:
    """The status, which the kernel writes only when it reports a child (ret > 0; 0 is WNOHANG's nobody)."""
    data = read_struct(read, raw[1], 4) if ret > 0 else None
    return {"status": kernel.decode_wait_status(struct.unpack("<i", data)[0]) if data else pointer(raw[1])}


def _waitid(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {
        "idtype": kernel.WAITID_IDTYPES.get(raw[0], raw[0]),
        "id": s32(raw[1]),
        "options": kernel.flag_names(raw[3], kernel.WAIT_OPTIONS),
    }


def _waitid_exit(raw: Sequence[int], ret: int, read: MemoryReader) -> dict[str, Any]:
    data = read_struct(read, raw[2], SIGINFO_SIZE) if ret >= 0 else None
    # waitid with WNOHANG and no child ready leaves si_pid == 0 (waitid(2)); si_signo 0 says the same.
    return {"infop": decode_siginfo(data) if data and any(data[:4]) else pointer(raw[2])}


WAIT4 = Syscall(
    name="wait4",
    family="wait",
    args=(
        Arg(name="pid", kind="pid"),
        Arg(name="status", kind="wait_status", output=True),
        Arg(name="options", kind="flags"),
    ),
    decode_entry=_wait4,
    decode_exit=_wait4_exit,
    register_only=True,
    result="pid",
    source="wait4(2); kernel/exit.c",
)

WAITID = Syscall(
    name="waitid",
    family="wait",
    args=(
        Arg(name="idtype", kind="name"),
        # id is a pid for P_PID, a process group (its leader's pid) for P_PGID, a pidfd for P_PIDFD (waitid(2)).
        Arg(name="id", kind="int", kind_by=("idtype", (("P_PID", "pid"), ("P_PGID", "pid"), ("P_PIDFD", "fd")))),
        Arg(name="infop", kind="siginfo", output=True),
        Arg(name="options", kind="flags"),
    ),
    decode_entry=_waitid,
    decode_exit=_waitid_exit,
    register_only=True,
    source="waitid(2); kernel/exit.c",
)

CALLS = (WAIT4, WAITID)
