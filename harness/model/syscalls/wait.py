"""Reaping children: wait4, waitid (strace's ``src/wait.c``)."""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

from harness.model import kernel, kernel_flags
from harness.model.syscalls.entry import Arg, Syscall
from harness.model.syscalls.structs import (
    SIGINFO_SIZE,
    MemoryReader,
    decode_siginfo,
    pointer,
    read_rusage,
    read_struct,
    s32,
    u32,
)


def _options(value: int) -> list[str]:
    return kernel_flags.WAIT_OPTIONS_XLAT.flags(u32(value))


def _wait4(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"pid": s32(raw[0]), "options": _options(raw[2])}


def _rusage(address: int, written: bool, read: MemoryReader) -> dict[str, Any] | str | None:
    """The resource usage the kernel wrote, read only where it wrote one, else its pointer."""
    return read_rusage(read, address) if written else pointer(address)


def _wait4_exit(raw: Sequence[int], ret: int, read: MemoryReader, entered: Mapping[str, Any]) -> dict[str, Any]:
    """The status, which the kernel writes only when it reports a child (ret > 0; 0 is WNOHANG's nobody)."""
    data = read_struct(read, raw[1], 4) if ret > 0 else None
    return {
        "status": kernel.decode_wait_status(struct.unpack("<i", data)[0]) if data else pointer(raw[1]),
        "rusage": _rusage(raw[3], ret > 0, read),  # as the status: only for a child reported
    }


def _waitid(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    idtype = u32(raw[0])
    return {
        "idtype": kernel_flags.WAITID_IDTYPES_XLAT.name(idtype),
        "id": s32(raw[1]),
        "options": _options(raw[3]),
    }


def _waitid_exit(raw: Sequence[int], ret: int, read: MemoryReader, entered: Mapping[str, Any]) -> dict[str, Any]:
    data = read_struct(read, raw[2], SIGINFO_SIZE) if ret >= 0 else None
    # waitid with WNOHANG and no child ready leaves the siginfo zeroed (waitid(2)): strace prints it {}.
    return {"infop": decode_siginfo(data) if data else pointer(raw[2]), "rusage": _rusage(raw[4], ret >= 0, read)}


#: The resource usage of the reaped child, read at exit (``NULL`` when the caller asked for none).
_RUSAGE = Arg(name="rusage", kind="rusage", output=True)

WAIT4 = Syscall(
    name="wait4",
    family="wait",
    args=(
        Arg(name="pid", kind="pid"),
        Arg(name="status", kind="wait_status", output=True),
        Arg(name="options", kind="flags", xlat=kernel_flags.WAIT_OPTIONS_XLAT),
        _RUSAGE,
    ),
    decode_entry=_wait4,
    decode_exit=_wait4_exit,
    register_only=True,
    result="pid",
    traits=frozenset({"reaps"}),
    source="wait4(2); kernel/exit.c",
)

WAITID = Syscall(
    name="waitid",
    family="wait",
    args=(
        Arg(name="idtype", kind="name", xlat=kernel_flags.WAITID_IDTYPES_XLAT),
        # id is a pid for P_PID, a process group (its leader's pid) for P_PGID, a pidfd for P_PIDFD (waitid(2)).
        Arg(name="id", kind="int", kind_by=("idtype", (("P_PID", "pid"), ("P_PGID", "pid"), ("P_PIDFD", "fd")))),
        Arg(name="infop", kind="siginfo", output=True),
        Arg(name="options", kind="flags", xlat=kernel_flags.WAIT_OPTIONS_XLAT),
        _RUSAGE,
    ),
    decode_entry=_waitid,
    decode_exit=_waitid_exit,
    register_only=True,
    traits=frozenset({"reaps"}),
    source="waitid(2); kernel/exit.c",
)

CALLS = (WAIT4, WAITID)
