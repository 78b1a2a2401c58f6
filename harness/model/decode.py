"""Decode a call's raw argument registers into trace values, as its catalogue entry says.

The tracer's one door to decoding: it hands in a call's six argument
registers, its return value and a way to read the tracee's memory, and gets
JSON-like values back.  What each call decodes to is its entry in the
syscall catalogue (:mod:`harness.model.syscalls`); the kernel structs are
decoded by :mod:`harness.model.syscalls.structs`.  A call without an entry
keeps its raw registers, named after its prototype.

Like strace, input arguments are decoded at syscall entry and output
arguments only at exit and only when the call succeeded; an output argument
the kernel did not write is shown as its pointer, never invented.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.model.syscalls import CATALOGUE
from harness.model.syscalls.entry import no_outputs
from harness.model.syscalls.structs import MemoryReader, decode_siginfo, s64

__all__ = [
    "ENTRY_READS_MEMORY",
    "EXIT_READS_MEMORY",
    "REGISTER_ONLY",
    "MemoryReader",
    "decode_entry",
    "decode_exit",
    "decode_siginfo",
]

#: The calls whose decoded arguments the tracer may share between events with equal registers:
#: the entries whose decoder reads registers only (``register_only``) and has something to decode
#: (a call without arguments gains nothing from a cache but churn).
REGISTER_ONLY: frozenset[str] = frozenset(
    name for name, entry in CATALOGUE.items() if entry.register_only and entry.args
)


#: The calls whose entry decoder reads the tracee's memory: the tracer decodes them while the task is
#: still stopped.  Any other entry (a call without a catalogue entry keeps its raw registers) decodes
#: from the registers alone, so the tracer may restart the task first and decode afterwards.
ENTRY_READS_MEMORY: frozenset[str] = frozenset(name for name, entry in CATALOGUE.items() if not entry.register_only)

#: The calls whose exit decoder may read the tracee's memory (their output arguments): decoded while
#: the task is still stopped, for the same reason.
EXIT_READS_MEMORY: frozenset[str] = frozenset(
    name for name, entry in CATALOGUE.items() if entry.decode_exit is not no_outputs
)


def decode_entry(
    name: str,
    raw: Sequence[int],
    read: MemoryReader,
    arg_names: Sequence[str] = (),
) -> dict[str, Any]:
    """Decode the input arguments of a call at its entry.

    ``arg_names`` names the arguments of a call without a catalogue entry
    (the prototype's, :func:`harness.model.syscalls.argument_names`): their
    values are kept raw.
    """
    entry = CATALOGUE.get(name)
    if entry is not None:
        return entry.decode_entry(raw, read)
    return {arg: s64(value) for arg, value in zip(arg_names, raw, strict=False)}


def decode_exit(
    name: str, raw: Sequence[int], ret: int, read: MemoryReader, entered: Mapping[str, Any]
) -> dict[str, Any]:
    """Decode the output arguments of a call at its exit.

    Given its return value (negative: an errno) and the arguments decoded at its entry.
    """
    entry = CATALOGUE.get(name)
    return entry.decode_exit(raw, ret, read, entered) if entry is not None else {}
