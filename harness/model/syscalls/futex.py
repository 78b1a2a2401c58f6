"""Futexes (strace's ``src/futex.c``): where a threaded server's tasks wait on one another.

Decoded so that a step can say which operation a task blocked in
(``futex(op=FUTEX_WAIT_PRIVATE)``) and what it returned (``futex -> ETIMEDOUT``).
Only the three arguments every operation has are decoded: the later ones
mean different things per operation (futex(2)).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.model import kernel
from harness.model.syscalls.entry import Arg, Syscall
from harness.model.syscalls.structs import MemoryReader, pointer, s32


def _futex(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"uaddr": pointer(raw[0]), "op": kernel.futex_op(raw[1] & 0xFFFFFFFF), "val": s32(raw[2])}


FUTEX = Syscall(
    name="futex",
    family="futex",
    args=(Arg(name="uaddr", kind="pointer"), Arg(name="op", kind="flags"), Arg(name="val", kind="int")),
    decode_entry=_futex,
    register_only=True,
    source="futex(2); kernel/futex/syscalls.c",
)

CALLS = (FUTEX,)
