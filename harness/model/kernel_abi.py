"""The syscall ABIs an x86_64 kernel runs, and how a syscall stop tells which one a task used.

A 64-bit program may still enter the kernel through ``int $0x80`` (i386) or
with the x32 bit set, and then its call's number means another call: the
tracer must tell these apart before it names a call, or its trace would be
wrong.  These facts serve the tracer's stop decoding and the events and
text that say which ABI a call came through; the analysis never reasons
with them, so they live apart from the signal facts of :mod:`harness.model.kernel`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

#: The syscall ABIs an x86_64 kernel runs.  PTRACE_GET_SYSCALL_INFO reports a stop's audit
#: architecture (include/uapi/linux/audit.h: AUDIT_ARCH_X86_64, AUDIT_ARCH_I386 for a 32-bit
#: program's int 0x80/sysenter calls); an x32 program's calls have the x86_64 architecture and
#: __X32_SYSCALL_BIT set in their number (arch/x86/include/uapi/asm/unistd.h, and do_syscall_x32 in
#: arch/x86/entry/common.c).  Without syscall info, a task running 32-bit code has the code segment
#: __USER32_CS (arch/x86/include/asm/segment.h).  Syscall numbers differ between the three ABIs
#: (i386's 3 is read, x86_64's is close), so only x86_64 calls can be named.
AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_I386 = 0x40000003
X32_SYSCALL_BIT = 0x40000000
USER32_CS = 0x23

SyscallAbi = Literal["x86_64", "i386", "x32", "unknown"]
#: The other ABIs a 64-bit program can reach: ``int $0x80`` (i386) and the x32 bit; their calls are recorded
#: by their own names, with raw arguments (ForeignCall in the tracer).
ForeignAbi = Literal["i386", "x32"]
#: How strace names each ABI when a process switches to it: ``[ Process PID=N runs in 32 bit mode. ]``.
ABI_MODES: Mapping[str, str] = {"x86_64": "64 bit", "i386": "32 bit", "x32": "x32"}

#: How each ABI is named to a person.
ABI_NAMES: Mapping[SyscallAbi, str] = {
    "x86_64": "an x86_64 program",
    "i386": "a 32-bit (i386) program",
    "x32": "an x32 program (x86_64 with 32-bit pointers)",
    "unknown": "a program of an unknown architecture",
}


def syscall_abi(arch: int, nr: int) -> SyscallAbi:
    """The ABI of a syscall entry, from its audit architecture and number (PTRACE_GET_SYSCALL_INFO)."""
    if arch == AUDIT_ARCH_X86_64:
        return "x32" if X32_SYSCALL_BIT <= nr < X32_SYSCALL_BIT << 1 else "x86_64"
    return "i386" if arch == AUDIT_ARCH_I386 else "unknown"


#: The two bytes of ``int $0x80`` (CD 80), as a little-endian word: the i386 entry a 64-bit program may
#: still use.  ``syscall`` is two bytes too (0F 05), so at a syscall entry the instruction that entered
#: is the two bytes before the instruction pointer (the kernel's own test for it, in the 64-bit code
#: segment, is which entry point ran: arch/x86/entry/entry_64_compat.S).
INT_0X80 = 0x80CD


def registers_abi(cs: int, nr: int, entry_instruction: int | None = None) -> SyscallAbi:
    """The ABI of a syscall entry, from the registers: the code segment, ``orig_rax``, and the instruction.

    ``entry_instruction`` is the two bytes before the instruction pointer,
    where they could be read: ``int $0x80`` in 64-bit code is an i386 call.
    """
    if cs == USER32_CS or entry_instruction == INT_0X80:
        return "i386"
    return "x32" if X32_SYSCALL_BIT <= nr < X32_SYSCALL_BIT << 1 else "x86_64"
