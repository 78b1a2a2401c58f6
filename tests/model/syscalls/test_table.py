"""The model's x86_64 table equals python-ptrace's, from which it was generated (tests may import ptrace)."""

from __future__ import annotations

from ptrace.syscall.linux.x86_64 import SYSCALL_NAMES
from ptrace.syscall.prototypes import SYSCALL_PROTOTYPES

from harness.model.syscalls.x86_64 import ARGUMENT_NAMES, NUMBERS

#: The first x32 number (arch/x86/entry/syscalls/syscall_64.tbl): python-ptrace lists the x32 entries too,
#: under the same names, and they are not native calls.
_X32_BASE = 512


def test_numbers_are_python_ptraces_native_table() -> None:
    native = {name: number for number, name in SYSCALL_NAMES.items() if number < _X32_BASE}
    assert dict(NUMBERS) == native


def test_argument_names_are_python_ptraces_prototypes_of_the_native_calls() -> None:
    prototypes = {
        name: tuple(argument for _, argument in arguments)
        for name, (_, arguments) in SYSCALL_PROTOTYPES.items()
        if name in NUMBERS
    }
    assert dict(ARGUMENT_NAMES) == prototypes
