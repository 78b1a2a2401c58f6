"""Processes and threads: clone, clone3, fork, vfork, exit, exit_group, and the pid getters.

strace's ``src/clone.c``, ``src/exit.c`` and ``src/getpid.c``.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

from harness.model import kernel, kernel_flags
from harness.model.syscalls.entry import Arg, Syscall
from harness.model.syscalls.structs import (
    CLONE_ARGS_MIN_SIZE,
    CLONE_ARGS_SIZE,
    MAX_WATCHED,
    MemoryReader,
    decode_clone3_args,
    decode_clone_flags,
    pointer,
    read_struct,
    s32,
)


def _clone(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    # clone's low byte of flags is the signal sent to the parent when the child exits (clone(2), CSIGNAL).
    exit_signal = raw[0] & kernel_flags.CLONE_EXIT_SIGNAL_MASK
    return {
        "child_stack": pointer(raw[1]),
        "flags": decode_clone_flags(raw[0]),
        "exit_signal": kernel.SIGNAL_NAMES.get(exit_signal, exit_signal) if exit_signal else None,
    }


def _clone_exit(raw: Sequence[int], ret: int, read: MemoryReader, entered: Mapping[str, Any]) -> dict[str, Any]:
    """The pointers strace shows after the flags, at the call's exit, each only with the flag that uses it.

    x86_64's clone takes flags, stack, parent_tid, child_tid, tls (kernel/fork.c, the
    CONFIG_CLONE_BACKWARDS-less order); the parent's tid is read back where the kernel wrote it.
    """
    flags = raw[0]
    outputs: dict[str, Any] = {}
    if flags & (kernel_flags.CLONE_BITS["CLONE_PARENT_SETTID"] | kernel_flags.CLONE_BITS["CLONE_PIDFD"]):
        written = read_struct(read, raw[2], 4) if ret >= 0 else None
        outputs["parent_tid"] = struct.unpack("<i", written)[0] if written is not None else pointer(raw[2])
    if flags & kernel_flags.CLONE_BITS["CLONE_SETTLS"]:
        outputs["tls"] = pointer(raw[4])
    if flags & (kernel_flags.CLONE_BITS["CLONE_CHILD_SETTID"] | kernel_flags.CLONE_BITS["CLONE_CHILD_CLEARTID"]):
        outputs["child_tidptr"] = pointer(raw[3])
    return outputs


#: The most of a larger struct's tail strace reads (a page); it shows MAX_WATCHED bytes of it (its -s, 32).
_TAIL_READ = 4096


def _clone3(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    size = raw[1]
    fetched = min(size, CLONE_ARGS_SIZE)
    data = read_struct(read, raw[0], fetched) if size >= CLONE_ARGS_MIN_SIZE else None
    if not data:
        return {"flags": pointer(raw[0]), "exit_signal": None, "size": size}
    args = decode_clone3_args(data, read)
    if size > fetched:  # a newer caller's larger struct: what the kernel does not know must be zero (E2BIG)
        tail = _tail(raw[0], size, read)
        if tail != {}:
            args["cl_args"]["tail"] = tail
    return {**args, "size": size}


def _tail(address: int, size: int, read: MemoryReader) -> dict[str, Any] | None:
    """The bytes of a struct past the members the kernel knows: None where unreadable (strace: ???), {} where zero."""
    end = min(size, _TAIL_READ)
    tail = read_struct(read, address + CLONE_ARGS_SIZE, end - CLONE_ARGS_SIZE)
    if tail is None:
        return None
    return {"from": CLONE_ARGS_SIZE, "to": end - 1, "bytes": tail[:MAX_WATCHED].hex()} if any(tail) else {}


def _nothing_written_back(args: Mapping[str, Any]) -> tuple[str, ...]:
    """Without CLONE_PIDFD or CLONE_PARENT_SETTID the kernel writes nothing into the struct: the entry says all.

    strace shows a larger struct's nonzero tail again at exit, as it may have changed.
    """
    fields = args.get("cl_args")
    asked = isinstance(fields, dict) and ("pidfd" in fields or "parent_tid" in fields or "tail" in fields)
    return () if asked else ("cl_args_written",)


def _clone3_exit(raw: Sequence[int], ret: int, read: MemoryReader, entered: Mapping[str, Any]) -> dict[str, Any]:
    """What the kernel wrote into the struct: the pidfd and the parent's copy of the child's tid."""
    fields = entered.get("cl_args")
    if ret < 0 or not isinstance(fields, dict):
        return {}
    written: dict[str, Any] = {}
    for name, offset in (("pidfd", 8), ("parent_tid", 24)):
        if name in fields:
            data = read_struct(read, raw[0] + offset, 8)
            if data is None:  # the struct cannot be read again: strace shows its pointer
                return {"cl_args_written": pointer(raw[0])}
            (address,) = struct.unpack("<Q", data)
            value = read_struct(read, address, 4)
            written[name] = struct.unpack("<i", value)[0] if value is not None else pointer(address)
    if raw[1] > CLONE_ARGS_SIZE:
        tail = _tail(raw[0], raw[1], read)
        if tail != {}:
            written["tail"] = tail
    return {"cl_args_written": written} if written else {}


def _status(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"status": s32(raw[0])}


def _pid(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"pid": s32(raw[0])}


def _nothing(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {}


#: The exit signal prints inside the flags, as strace prints it (``flags=CLONE_VM|SIGCHLD``).
_EXIT_SIGNAL = Arg(name="exit_signal", kind="signal", shown_in="flags")

# strace names clone's arguments: clone(child_stack=NULL, flags=...|SIGCHLD, child_tidptr=0x...).
CLONE = Syscall(
    name="clone",
    family="process",
    args=(
        Arg(name="child_stack", kind="pointer", named=True),
        Arg(name="flags", kind="clone_flags", named=True, xlat=kernel_flags.CLONE_FLAGS_XLAT),
        _EXIT_SIGNAL,
        # Each only with the flag that uses it.
        Arg(name="parent_tid", kind="pid", output=True, named=True, indirect=True, optional=True),
        Arg(name="tls", kind="pointer", output=True, named=True, optional=True),
        Arg(name="child_tidptr", kind="pointer", output=True, named=True, optional=True),
    ),
    decode_entry=_clone,
    decode_exit=_clone_exit,
    register_only=True,
    result="pid",
    traits=frozenset({"spawns"}),
    source="clone(2); kernel/fork.c",
)

CLONE3 = Syscall(
    name="clone3",
    family="process",
    args=(
        Arg(name="flags", kind="clone_args", xlat=kernel_flags.CLONE3_FLAGS_XLAT),
        _EXIT_SIGNAL,
        # The struct's other members, each where its flag gives it meaning, shown in the struct's text.
        Arg(name="cl_args", kind="clone_args_fields", shown_in="flags", optional=True),
        Arg(name="cl_args_written", kind="clone_args_written", output=True, optional=True),
        Arg(name="size", kind="int"),
    ),
    decode_entry=_clone3,
    decode_exit=_clone3_exit,
    entry_outputs=_nothing_written_back,
    register_only=False,
    result="pid",
    traits=frozenset({"spawns"}),
    source="clone3(2); kernel/fork.c",
)


FORK = Syscall(
    name="fork",
    family="process",
    args=(),
    decode_entry=_nothing,
    register_only=True,
    result="pid",
    traits=frozenset({"spawns"}),
    source="fork(2); kernel/fork.c",
)

VFORK = Syscall(
    name="vfork",
    family="process",
    args=(),
    decode_entry=_nothing,
    register_only=True,
    result="pid",
    traits=frozenset({"spawns"}),
    source="vfork(2); kernel/fork.c",
)

EXIT = Syscall(
    name="exit",
    family="process",
    args=(Arg(name="status", kind="int"),),
    decode_entry=_status,
    register_only=True,
    result="noreturn",
    traits=frozenset({"ends_task"}),
    source="_exit(2); kernel/exit.c",
)

EXIT_GROUP = Syscall(
    name="exit_group",
    family="process",
    args=(Arg(name="status", kind="int"),),
    decode_entry=_status,
    register_only=True,
    result="noreturn",
    traits=frozenset({"ends_process"}),
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


def _setpgid(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"pid": s32(raw[0]), "pgid": s32(raw[1])}


# What a daemon or a shell-like supervisor calls to put a child in its own process group (setpgid(2)).
SETPGID = Syscall(
    name="setpgid",
    family="process",
    args=(Arg(name="pid", kind="pid"), Arg(name="pgid", kind="pid")),
    decode_entry=_setpgid,
    register_only=True,
    source="setpgid(2); kernel/sys.c",
)

CALLS = (CLONE, CLONE3, FORK, VFORK, EXIT, EXIT_GROUP, SETPGID, *GETTERS)
