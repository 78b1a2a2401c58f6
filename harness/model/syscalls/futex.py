"""Futexes (strace's ``src/futex.c``): where a threaded server's tasks wait on one another.

Decoded so that a step can say which operation a task blocked in
(``futex(op=FUTEX_WAIT_PRIVATE)``) and what it returned (``futex -> ETIMEDOUT``).
The arguments after ``op`` mean different things per command (futex(2)):
each command shows the ones it reads, as strace shows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.model import kernel_flags
from harness.model.syscalls.entry import Arg, Syscall, Timeout
from harness.model.syscalls.structs import MemoryReader, c_hex, pointer, read_timespec, u32

#: Which arguments each command shows, after uaddr and op (strace's do_futex).
_SHOWN: dict[str, tuple[str, ...]] = {
    "FUTEX_WAIT": ("val", "timeout"),
    "FUTEX_LOCK_PI": ("timeout",),
    "FUTEX_LOCK_PI2": ("timeout",),
    "FUTEX_WAIT_BITSET": ("val", "timeout", "val3"),
    "FUTEX_WAKE_BITSET": ("val", "val3"),
    "FUTEX_REQUEUE": ("val", "val2", "uaddr2"),
    "FUTEX_CMP_REQUEUE": ("val", "val2", "uaddr2", "val3"),
    "FUTEX_CMP_REQUEUE_PI": ("val", "val2", "uaddr2", "val3"),
    "FUTEX_WAKE_OP": ("val", "val2", "uaddr2", "val3"),
    "FUTEX_WAIT_REQUEUE_PI": ("val", "timeout", "uaddr2"),
    "FUTEX_FD": ("val",),
    "FUTEX_WAKE": ("val",),
    "FUTEX_UNLOCK_PI": (),
    "FUTEX_TRYLOCK_PI": (),
}
#: An unknown command shows all four, the timeout and uaddr2 as pointers.
_UNKNOWN = ("val", "timeout", "uaddr2", "val3")


def shown_after_op(op: Sequence[str]) -> tuple[str, ...]:
    """The arguments a futex call shows after its uaddr and op, given the op's names (an strace log's reader)."""
    command = op[0].removesuffix("_PRIVATE") if op else ""
    return _SHOWN.get(command, _UNKNOWN)


def _bitset(value: int) -> str | int:
    return "FUTEX_BITSET_MATCH_ANY" if value == kernel_flags.FUTEX_BITSET_MATCH_ANY else c_hex(value)


def _wake_op(value: int) -> list[str]:
    """FUTEX_WAKE_OP's encoded operation, as strace spells it: ``FUTEX_OP_SET<<28|0<<12|FUTEX_OP_CMP_GT<<24|0x1``."""
    op, cmp = value >> 28 & 0x7, value >> 24 & 0xF
    parts = ["FUTEX_OP_OPARG_SHIFT<<28"] if value >> 28 & kernel_flags.FUTEX_OP_OPARG_SHIFT else []
    parts.append(
        f"{kernel_flags.FUTEX_WAKE_OPS[op]}<<28"
        if op in kernel_flags.FUTEX_WAKE_OPS
        else f"{c_hex(op)}<<28 /* FUTEX_OP_??? */"
    )
    oparg = value >> 12 & 0xFFF
    parts.append(f"{c_hex(oparg)}<<12")
    parts.append(
        f"{kernel_flags.FUTEX_WAKE_CMPS[cmp]}<<24"
        if cmp in kernel_flags.FUTEX_WAKE_CMPS
        else f"{c_hex(cmp)}<<24 /* FUTEX_OP_CMP_??? */"
    )
    cmparg = value & 0xFFF
    parts.append(str(c_hex(cmparg)))
    return parts


def _futex(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    op = u32(raw[1])
    command = kernel_flags.FUTEX_COMMANDS.get(op & 127)
    args: dict[str, Any] = {"uaddr": pointer(raw[0]), "op": kernel_flags.futex_op(op)}
    for name in _SHOWN.get(command, _UNKNOWN) if command is not None else _UNKNOWN:
        if name == "val":
            args["val"] = u32(raw[2])  # the kernel reads an u32 (kernel/futex/syscalls.c)
        elif name == "val2":
            args["val2"] = u32(raw[3])  # the timeout register, read as a count by these commands
        elif name == "timeout":
            args["timeout"] = read_timespec(read, raw[3]) if command is not None else pointer(raw[3])
        elif name == "uaddr2":
            args["uaddr2"] = pointer(raw[4])
        elif command in ("FUTEX_WAIT_BITSET", "FUTEX_WAKE_BITSET"):
            args["val3"] = _bitset(u32(raw[5]))
        elif command == "FUTEX_WAKE_OP":
            args["val3"] = _wake_op(u32(raw[5]))
        elif command is None:
            args["val3"] = c_hex(u32(raw[5]))
        else:
            args["val3"] = u32(raw[5])
    return args


FUTEX = Syscall(
    name="futex",
    family="futex",
    args=(
        Arg(name="uaddr", kind="pointer"),
        Arg(name="op", kind="flags"),
        Arg(name="val", kind="int", optional=True),
        Arg(name="val2", kind="int", optional=True),
        Arg(name="timeout", kind="timespec", optional=True),
        Arg(name="uaddr2", kind="pointer", optional=True),
        # A bitset, FUTEX_WAKE_OP's encoded operation, or a number, by the command.
        Arg(name="val3", kind="futex_val3", optional=True),
    ),
    decode_entry=_futex,
    register_only=False,  # reads the timeout
    timeout=Timeout(3, forever_is_negative=False),  # FUTEX_WAIT's (kernel/futex/syscalls.c)
    source="futex(2); kernel/futex/syscalls.c",
)

CALLS = (FUTEX,)
