"""Descriptor calls: close (strace's ``src/close.c``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.model.syscalls.entry import Arg, Syscall
from harness.model.syscalls.structs import MemoryReader, s32


def _close(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"fd": s32(raw[0])}


CLOSE = Syscall(
    name="close",
    family="desc",
    args=(Arg(name="fd", kind="fd"),),
    decode_entry=_close,
    register_only=True,
    source="close(2); fs/open.c",
)

CALLS = (CLOSE,)
