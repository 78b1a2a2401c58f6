"""Processes and threads: clone, clone3, fork, vfork, exit, exit_group, and the pid getters.

strace's ``src/clone.c``, ``src/exit.c`` and ``src/getpid.c``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.model import kernel
from harness.model.syscalls.entry import Arg, Syscall
from harness.model.syscalls.structs import (
    CLONE_ARGS_SIZE,
    MemoryReader,
    decode_clone3_args,
    decode_clone_flags,
    pointer,
    read_struct,
    s32,
)


def _clone(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    # clone's low byte of flags is the signal sent to the parent when the child exits (clone(2), CSIGNAL).
    exit_signal = raw[0] & kernel.CLONE_EXIT_SIGNAL_MASK
    return {
        "flags": decode_clone_flags(raw[0]),
        "exit_signal": kernel.signal_name(exit_signal) if exit_signal else None,
    }


def _clone3(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    data = read_struct(read, raw[0], CLONE_ARGS_SIZE)
    args = decode_clone3_args(data) if data else {"flags": pointer(raw[0]), "exit_signal": None}
    return {**args, "size": raw[1]}


def _status(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"status": s32(raw[0])}


def _pid(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"pid": s32(raw[0])}


def _nothing(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {}


#: The exit signal prints inside the flags, as strace prints it (``flags=CLONE_VM|SIGCHLD``).
_EXIT_SIGNAL = Arg(name="exit_signal", kind="signal", shown_in="flags")

CLONE = Syscall(
    name="clone",
    family="process",
    args=(Arg(name="flags", kind="clone_flags"), _EXIT_SIGNAL),
    decode_entry=_clone,
    register_only=True,
    result="pid",
    source="clone(2); kernel/fork.c",
)

CLONE3 = Syscall(
    name="clone3",
    family="process",
    args=(Arg(name="flags", kind="clone_args"), _EXIT_SIGNAL, Arg(name="size", kind="int")),
    decode_entry=_clone3,
    register_only=False,
    result="pid",
    source="clone3(2); kernel/fork.c",
)


FORK = Syscall(
    name="fork",
    family="process",
    args=(),
    decode_entry=_nothing,
    register_only=True,
    result="pid",
    source="fork(2); kernel/fork.c",
)

VFORK = Syscall(
    name="vfork",
    family="process",
    args=(),
    decode_entry=_nothing,
    register_only=True,
    result="pid",
    source="vfork(2); kernel/fork.c",
)

EXIT = Syscall(
    name="exit",
    family="process",
    args=(Arg(name="status", kind="int"),),
    decode_entry=_status,
    register_only=True,
    result="noreturn",
    source="_exit(2); kernel/exit.c",
)

EXIT_GROUP = Syscall(
    name="exit_group",
    family="process",
    args=(Arg(name="status", kind="int"),),
    decode_entry=_status,
    register_only=True,
    result="noreturn",
    source="exit_group(2); kernel/exit.c",
)


def _getter(name: str, *, of_pid: bool, source: str) -> Syscall:
    """A call that returns a pid (its caller's, its parent's, a group's or a session's): getpid(2) and kin."""
    return Syscall(
        name=name,
        family="process",
        args=(Arg(name="pid", kind="pid"),) if of_pid else (),
        decode_entry=_pid if of_pid else _nothing,
        register_only=True,
        result="pid",
        source=source,
    )


#: The pid getters: their result is a pid, which a golden story shows as a role.
GETTERS = (
    _getter("getpid", of_pid=False, source="getpid(2); kernel/sys.c"),
    _getter("gettid", of_pid=False, source="gettid(2); kernel/sys.c"),
    _getter("getppid", of_pid=False, source="getppid(2); kernel/sys.c"),
    _getter("getpgrp", of_pid=False, source="getpgrp(2); kernel/sys.c"),
    _getter("getpgid", of_pid=True, source="getpgid(2); kernel/sys.c"),
    _getter("getsid", of_pid=True, source="getsid(2); kernel/sys.c"),
)

CALLS = (CLONE, CLONE3, FORK, VFORK, EXIT, EXIT_GROUP, *GETTERS)
