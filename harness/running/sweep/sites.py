"""Where a sleeping task's call comes from: the code that made it.

Where and how a task sleeps is :mod:`harness.running.proc_tasks`'s; here,
``/proc/TID/mem`` reads its stack, and ``/proc/PID/maps`` says which file
each range of its memory comes from.

For a CPython task the code is its Python line, which the tracer read at the
call's entry.  For any other the harness has no unwinder (no DWARF CFI
reader): it **scans the stack** from the stack pointer for the first word
that points into the code of a file other than the one the call instruction
is in.  That is the return address into whoever called the C library's
wrapper (``read``), as crash reporters find frames when they have no unwind
data.  It is a heuristic, so the place is printed as ``file+0xOFFSET``
with the function its symbols name, and the documentation says so.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from functools import lru_cache

from harness.running.proc_tasks import Asleep
from harness.running.tracer.elf_symbols import function_at, load_bias

#: How far up the stack the scan looks: 64 words, past a C library wrapper's few saved registers.
_SCAN_WORDS = 64


@dataclass(frozen=True, slots=True)
class _Mapping:
    start: int
    end: int
    offset: int
    path: str
    executable: bool


def _file_mappings(pid: int) -> list[_Mapping]:
    """The process's mappings of files, read once per look (``[vdso]`` and anonymous memory left out)."""
    mappings = []
    try:
        with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                fields = line.split(maxsplit=5)
                if len(fields) < 6 or not fields[5].startswith("/"):
                    continue
                start, end = (int(part, 16) for part in fields[0].split("-"))
                mappings.append(_Mapping(start, end, int(fields[2], 16), fields[5].rstrip("\n"), "x" in fields[1]))
    except OSError:
        return []
    return mappings


@lru_cache(maxsize=256)
def _named(path: str, vaddr: int) -> str | None:
    return function_at(path, vaddr)


def calling_code(pid: int, found: Asleep) -> str:
    """``file+0xOFFSET (function)`` of the code that called the wrapper the task sleeps in; ``?`` if none is found.

    The offset is the file's own address (the load bias taken off), so that
    it is the same on every run of a position-independent program.
    """
    mappings = _file_mappings(pid)
    code = [mapping for mapping in mappings if mapping.executable]
    here = next((m for m in code if m.start <= found.program_counter < m.end), None)
    try:
        with open(f"/proc/{found.tid}/mem", "rb") as memory:
            memory.seek(found.stack_pointer)
            words = struct.unpack(f"<{_SCAN_WORDS}Q", memory.read(8 * _SCAN_WORDS))
    except (OSError, ValueError, struct.error):
        words = ()
    for word in words:
        mapping = next((m for m in code if m.start <= word < m.end), None)
        if mapping is not None and (here is None or mapping.path != here.path):
            return _describe(mappings, mapping.path, word)
    return _describe(mappings, here.path, found.program_counter) if here is not None else "?"


def _describe(mappings: list[_Mapping], path: str, address: int) -> str:
    """``file+0xOFFSET (function)``: the address as the file counts it, the load bias taken off."""
    start = next((m.start for m in mappings if m.path == path and m.offset == 0), None)  # where its first page lies
    vaddr = address - load_bias(path, start) if start is not None else address
    name = _named(path, vaddr)
    return f"{os.path.basename(path)}+{vaddr:#x}" + (f" ({name})" if name else "")
