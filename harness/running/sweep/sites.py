"""Where a sleeping task is: the call it sleeps in, and the code that made that call.

Facts about a task asleep in a call, from ``/proc`` (proc(5)):

* ``/proc/TID/stat``'s third field is ``S`` while the task sleeps
  interruptibly (a signal wakes it), ``D`` uninterruptibly;
* ``/proc/TID/syscall`` is ``NR ARG1..ARG6 SP PC`` (hex) while it is in a
  call, ``-1 SP PC`` between calls, ``running`` when it runs;
* ``/proc/TID/mem`` reads its memory, and ``/proc/PID/maps`` says which file
  each range of it comes from.

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

from harness.model.syscalls import syscall_name
from harness.running.tracer.elf_symbols import function_at, load_bias

#: How far up the stack the scan looks: 64 words, past a C library wrapper's few saved registers.
_SCAN_WORDS = 64


@dataclass(frozen=True, slots=True)
class Asleep:
    """A task asleep in a call, as ``/proc`` shows it."""

    tid: int
    call: str
    interruptible: bool
    """``S``: a signal wakes it; ``D``: it sleeps until the kernel is done (a disk read)."""
    stack_pointer: int
    program_counter: int


def asleep(tid: int) -> Asleep | None:
    """The call ``tid`` sleeps in now; None when it runs, is stopped, or is between calls."""
    try:
        with open(f"/proc/{tid}/stat", "rb") as stat:
            state = stat.read().rsplit(b")", 1)[1].split()[0]
        with open(f"/proc/{tid}/syscall", "rb") as syscall:
            fields = syscall.read().split()
    except (OSError, IndexError):
        return None
    if state not in (b"S", b"D") or len(fields) < 9 or not fields[0].isdigit():
        return None
    return Asleep(tid, syscall_name(int(fields[0])), state == b"S", int(fields[7], 16), int(fields[8], 16))


@dataclass(frozen=True, slots=True)
class _Mapping:
    start: int
    end: int
    offset: int
    path: str


def _code_mappings(pid: int) -> list[_Mapping]:
    """The process's executable mappings of files (``[vdso]`` and anonymous code left out)."""
    mappings = []
    try:
        with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                fields = line.split(maxsplit=5)
                if len(fields) < 6 or "x" not in fields[1] or not fields[5].startswith("/"):
                    continue
                start, end = (int(part, 16) for part in fields[0].split("-"))
                mappings.append(_Mapping(start, end, int(fields[2], 16), fields[5].rstrip("\n")))
    except OSError:
        return []
    return mappings


def _file_start(pid: int, path: str) -> int | None:
    """Where the file's first mapping (offset 0) starts in the process."""
    try:
        with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                fields = line.split(maxsplit=5)
                if len(fields) == 6 and fields[5].rstrip("\n") == path and int(fields[2], 16) == 0:
                    return int(fields[0].split("-")[0], 16)
    except OSError:
        return None
    return None


@lru_cache(maxsize=256)
def _named(path: str, vaddr: int) -> str | None:
    return function_at(path, vaddr)


def calling_code(pid: int, found: Asleep) -> str:
    """``file+0xOFFSET (function)`` of the code that called the wrapper the task sleeps in; ``?`` if none is found.

    The offset is the file's own address (the load bias taken off), so that
    it is the same on every run of a position-independent program.
    """
    mappings = _code_mappings(pid)
    here = next((m for m in mappings if m.start <= found.program_counter < m.end), None)
    try:
        with open(f"/proc/{found.tid}/mem", "rb") as memory:
            memory.seek(found.stack_pointer)
            words = struct.unpack(f"<{_SCAN_WORDS}Q", memory.read(8 * _SCAN_WORDS))
    except (OSError, ValueError, struct.error):
        words = ()
    for word in words:
        mapping = next((m for m in mappings if m.start <= word < m.end), None)
        if mapping is not None and (here is None or mapping.path != here.path):
            return _describe(pid, mapping.path, word)
    return _describe(pid, here.path, found.program_counter) if here is not None else "?"


def _describe(pid: int, path: str, address: int) -> str:
    start = _file_start(pid, path)
    vaddr = address - load_bias(path, start) if start is not None else address
    name = _named(path, vaddr)
    return f"{os.path.basename(path)}+{vaddr:#x}" + (f" ({name})" if name else "")
