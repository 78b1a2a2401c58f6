"""The thin pieces python-ptrace lacks, built on its own ``ptrace()`` call.

python-ptrace 0.9.9 binds the classic requests (PTRACE_SYSCALL,
PTRACE_GETSIGINFO, PTRACE_GETEVENTMSG, PTRACE_GETREGS...) but not
PTRACE_GET_SYSCALL_INFO (Linux 5.3), nor the PTRACE_O_EXITKILL and
PTRACE_O_TRACESECCOMP options, nor prctl and tgkill.  They are added here
and nowhere else, with the two register edits that fault injection needs.
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ptrace import PtraceError
from ptrace.binding import func as binding
from ptrace.syscall import SYSCALL_NAMES

from harness.model import kernel

# include/uapi/linux/ptrace.h
PTRACE_GET_SYSCALL_INFO = 0x420E
PTRACE_SYSCALL_INFO_NONE = 0
PTRACE_SYSCALL_INFO_ENTRY = 1
PTRACE_SYSCALL_INFO_EXIT = 2
PTRACE_SYSCALL_INFO_SECCOMP = 3
PTRACE_O_EXITKILL = 0x00100000
PTRACE_O_TRACESECCOMP = 0x00000080
PTRACE_EVENT_SECCOMP = 7

AUDIT_ARCH_X86_64 = kernel.AUDIT_ARCH_X86_64

# include/uapi/linux/prctl.h
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37


class _Entry(ctypes.Structure):
    _fields_ = (("nr", ctypes.c_uint64), ("args", ctypes.c_uint64 * 6))


class _Exit(ctypes.Structure):
    _fields_ = (("rval", ctypes.c_int64), ("is_error", ctypes.c_uint8))


class _Seccomp(ctypes.Structure):
    _fields_ = (("nr", ctypes.c_uint64), ("args", ctypes.c_uint64 * 6), ("ret_data", ctypes.c_uint32))


class _Data(ctypes.Union):
    _fields_ = (("entry", _Entry), ("exit", _Exit), ("seccomp", _Seccomp))


class SyscallInfo(ctypes.Structure):
    """``struct ptrace_syscall_info`` (include/uapi/linux/ptrace.h)."""

    _fields_ = (
        ("op", ctypes.c_uint8),
        ("pad", ctypes.c_uint8 * 3),
        ("arch", ctypes.c_uint32),
        ("instruction_pointer", ctypes.c_uint64),
        ("stack_pointer", ctypes.c_uint64),
        ("data", _Data),
    )


@dataclass(frozen=True, slots=True)
class SyscallStop:
    """What a syscall stop is: an entry with its number and arguments, or an exit with its value."""

    entry: bool
    nr: int
    args: tuple[int, ...]
    ret: int
    abi: kernel.SyscallAbi = "x86_64"
    """At an entry: the call's ABI; the tracer names x86_64 calls only."""


class SyscallInfoReader:
    """Reads syscall stops through PTRACE_GET_SYSCALL_INFO into one reused buffer."""

    def __init__(self) -> None:
        self._info = SyscallInfo()
        self._address = ctypes.addressof(self._info)
        self._size = ctypes.sizeof(self._info)

    def read(self, tid: int) -> SyscallStop | None:
        """The stop's kind and data; None for a stop that is neither entry nor exit."""
        binding.ptrace(PTRACE_GET_SYSCALL_INFO, tid, self._size, self._address)
        info = self._info
        if info.op == PTRACE_SYSCALL_INFO_ENTRY:
            entry = info.data.entry
            if info.arch != AUDIT_ARCH_X86_64 or entry.nr >= kernel.X32_SYSCALL_BIT:
                return SyscallStop(True, entry.nr, tuple(entry.args), 0, kernel.syscall_abi(info.arch, entry.nr))
            return SyscallStop(True, entry.nr, tuple(entry.args), 0)
        if info.op == PTRACE_SYSCALL_INFO_SECCOMP:  # an entry, reported by the seccomp filter
            seccomp = info.data.seccomp
            abi = kernel.syscall_abi(info.arch, seccomp.nr)
            return SyscallStop(True, seccomp.nr, tuple(seccomp.args), 0, abi)
        if info.op == PTRACE_SYSCALL_INFO_EXIT:
            return SyscallStop(False, -1, (), info.data.exit.rval)
        return None

    @staticmethod
    def available(tid: int) -> bool:
        """Whether the running kernel knows the request (Linux 5.3 and later)."""
        info = SyscallInfo()
        try:
            binding.ptrace(PTRACE_GET_SYSCALL_INFO, tid, ctypes.sizeof(info), ctypes.addressof(info))
        except PtraceError as error:
            if error.errno in (errno.EIO, errno.EINVAL):
                return False
            raise
        return True


def read_registers_stop(tid: int, entry: bool) -> SyscallStop:
    """A syscall stop read from the registers (PTRACE_GETREGS), where PTRACE_GET_SYSCALL_INFO is missing.

    x86-64 syscall convention (arch/x86/entry/entry_64.S): the number in
    orig_rax, the arguments in rdi, rsi, rdx, r10, r8, r9, the result in rax.
    Whether the stop is an ``entry`` the caller knows by counting stops.
    """
    regs = binding.ptrace_getregs(tid)
    if entry:
        args = (regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9)
        return SyscallStop(True, regs.orig_rax, args, 0, kernel.registers_abi(regs.cs, regs.orig_rax))
    rax: int = regs.rax
    return SyscallStop(False, regs.orig_rax, (), rax - (1 << 64) if rax >= 1 << 63 else rax)


_libc = ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, arg: int) -> int:
    result: int = _libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0)
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"prctl({option}): {errno.errorcode.get(code, code)}")
    return result


def die_with_parent(parent: int) -> None:
    """In a new child: be killed when the parent dies, and die now if it already has.

    PR_SET_PDEATHSIG sends SIGKILL when the thread that forked us ends
    (prctl(2)); it survives execve.  Set after the fork, it misses a parent
    that died before it was set: then our parent is no longer ``parent``
    (we were re-parented), and we end at once.  Until the tracer sets
    PTRACE_O_EXITKILL, this is what ties the child's life to the harness's.
    """
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


@contextmanager
def child_subreaper() -> Iterator[None]:
    """Make this process the reaper of orphans created inside the block.

    A daemon's grandchild outlives its parent and is re-parented to the
    nearest subreaper, else to PID 1; where PID 1 does not reap (as in many
    containers), it would stay a zombie forever.  The previous setting is
    restored on leaving, so that orphans of unrelated work are not ours.
    """
    flag = ctypes.c_int(0)
    _prctl(PR_GET_CHILD_SUBREAPER, ctypes.addressof(flag))
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    try:
        yield
    finally:
        _prctl(PR_SET_CHILD_SUBREAPER, flag.value)


_TGKILL = next(number for number, name in SYSCALL_NAMES.items() if name == "tgkill")


def tgkill(pid: int, tid: int, signum: int) -> None:
    """Send a signal to one thread (tgkill(2)): os.kill would let any thread of the process take it."""
    if _libc.syscall(_TGKILL, pid, tid, signum) < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"tgkill({pid}, {tid}, {signum}): {errno.errorcode.get(code, code)}")


def skip_syscall(tid: int) -> None:
    """At a syscall entry (or seccomp) stop: make the kernel skip the call, by setting its number to -1."""
    regs = binding.ptrace_getregs(tid)
    regs.orig_rax = (1 << 64) - 1
    binding.ptrace_setregs(tid, regs)


def set_return(tid: int, value: int) -> None:
    """At a syscall exit stop: the value the call returns to the program (``-errno`` for an error)."""
    regs = binding.ptrace_getregs(tid)
    regs.rax = value & ((1 << 64) - 1)
    binding.ptrace_setregs(tid, regs)
