"""The model's syscall tables agree with python-ptrace's (tests may import ptrace): x86_64, x32 and i386."""

from __future__ import annotations

from ptrace.syscall.linux.i386 import SYSCALL_NAMES as I386_SYSCALL_NAMES
from ptrace.syscall.linux.x86_64 import SYSCALL_NAMES
from ptrace.syscall.prototypes import SYSCALL_PROTOTYPES

from harness.model.syscalls.i386 import NAMES as I386_NAMES
from harness.model.syscalls.i386 import X32_NAMES
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


def _users_name(kernel_name: str) -> str:
    """The name strace and the UAPI header give a call python-ptrace names as the kernel does inside."""
    return kernel_name.removesuffix("16").removeprefix("old_").removeprefix("new").removeprefix("old")


def test_the_i386_names_cover_python_ptraces_and_agree_where_both_use_the_users_name() -> None:
    """Where the names differ, by a prefix or a suffix only.

    python-ptrace names some i386 calls as the kernel does inside (getuid16,
    old_mmap, newstat); strace and the UAPI header as the user knows them
    (getuid, mmap, stat).
    """
    assert set(I386_SYSCALL_NAMES) <= set(I386_NAMES)
    differ = {
        number: (theirs, I386_NAMES[number])
        for number, theirs in I386_SYSCALL_NAMES.items()
        if theirs != I386_NAMES[number]
    }
    assert all(_users_name(theirs) in ours or ours.startswith("old") for theirs, ours in differ.values()), differ
    assert (I386_NAMES[20], I386_NAMES[6], I386_NAMES[435]) == ("getpid", "close", "clone3")


def test_the_x32_names_are_python_ptraces_x32_entries() -> None:
    assert dict(X32_NAMES) == {number: name for number, name in SYSCALL_NAMES.items() if number >= _X32_BASE}
