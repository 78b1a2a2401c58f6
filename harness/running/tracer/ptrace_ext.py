"""The ptrace requests of a run: most made directly through libc, the register structures through python-ptrace.

python-ptrace 0.9.9 binds the classic requests but not
PTRACE_GET_SYSCALL_INFO (Linux 5.3), nor the PTRACE_O_EXITKILL and
PTRACE_O_TRACESECCOMP options, nor prctl and tgkill: they are added here and
nowhere else.  Two more reasons make most requests direct calls of libc's
``ptrace()``, each a line:

* the hot path: a request made at many stops costs less without
  python-ptrace's wrapper (set_errno, a try, a signed conversion, a ctypes
  object per result).  Measured on this project's 2-core machine, best of 5
  rounds of 100,000 calls on a stopped child, python-ptrace / direct (then
  still with argtypes, which cost more again: see ``_ptrace``), in µs:
  PTRACE_GET_SYSCALL_INFO 2.40-3.00 / 1.82-2.04 (its ``SyscallInfoReader``
  with a dataclass: 2.48-2.90), GETSIGINFO 3.20 / 2.62, GETEVENTMSG 2.70 /
  2.19, PEEKDATA 3.66 / 2.75; GETREGS gains nothing (3.47 / 3.72 unpacked).
* the start: importing python-ptrace imports ``logging``, ``traceback`` and
  ``datetime`` (``ptrace.error``, ``ptrace.tools``), 9 to 11 ms by
  ``python -X importtime`` on this project's machine, a sixth of what
  ``harness trace`` added to the interpreter's own start (bench/README.md).
  A run that injects nothing, on a kernel with PTRACE_GET_SYSCALL_INFO,
  never imports it.

python-ptrace stays what reads and writes a task's registers as a structure
(PTRACE_GETREGS and PTRACE_SETREGS with its ``user_regs_struct``): for fault
injection, which edits them, and for kernels without
PTRACE_GET_SYSCALL_INFO, where every stop is read from them.  Every request,
direct or not, fails with one type, :class:`OSError` with the request's
errno (ESRCH: the task is gone), which :mod:`.task` turns into ``TaskGone``.
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING

from harness.model import kernel_abi
from harness.model.syscalls import syscall_number
from harness.model.syscalls.structs import s64
from harness.running.tracer.libc import LIBC

if TYPE_CHECKING:
    from ptrace.binding.linux_struct import user_regs_struct

# include/uapi/linux/ptrace.h (and sys/ptrace.h): the requests, options and events used here
PTRACE_TRACEME = 0
PTRACE_PEEKDATA = 2
PTRACE_PEEKUSER = 3
PTRACE_POKEDATA = 5
PTRACE_CONT = 7
PTRACE_SYSCALL = 24
PTRACE_SETOPTIONS = 0x4200
PTRACE_GETEVENTMSG = 0x4201
PTRACE_GETSIGINFO = 0x4202
PTRACE_GET_SYSCALL_INFO = 0x420E
PTRACE_SYSCALL_INFO_NONE = 0
PTRACE_SYSCALL_INFO_ENTRY = 1
PTRACE_SYSCALL_INFO_EXIT = 2
PTRACE_SYSCALL_INFO_SECCOMP = 3
PTRACE_O_TRACESYSGOOD = 0x00000001
PTRACE_O_TRACEFORK = 0x00000002
PTRACE_O_TRACEVFORK = 0x00000004
PTRACE_O_TRACECLONE = 0x00000008
PTRACE_O_TRACEEXEC = 0x00000010
PTRACE_O_TRACESECCOMP = 0x00000080
PTRACE_O_EXITKILL = 0x00100000
PTRACE_EVENT_FORK = 1
PTRACE_EVENT_VFORK = 2
PTRACE_EVENT_CLONE = 3
PTRACE_EVENT_EXEC = 4
PTRACE_EVENT_SECCOMP = 7

AUDIT_ARCH_X86_64 = kernel_abi.AUDIT_ARCH_X86_64

# struct user_regs_struct (arch/x86/include/asm/user_64.h), the layout PTRACE_PEEKUSER reads at offsets:
# r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs eflags rsp ..., eight bytes each.
_USER_RAX = 10 * 8
_USER_ORIG_RAX = 15 * 8
_USER_RSP = 19 * 8
#: The size of siginfo_t (include/uapi/asm-generic/siginfo.h: SI_MAX_SIZE).
_SIGINFO_SIZE = 128

# include/uapi/linux/prctl.h
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37


_libc = LIBC

# libc's ptrace() as a function object of our own, with no argtypes.  With argtypes, ctypes converts
# every argument by calling its type's from_param, a Python-level call that builds a c_long: 4 of
# them per request, 17% of the tracer's instructions per stop (callgrind, a close(-1) loop: 112k
# instructions per traced call, 19.5k of them in those conversions).  Without, an int goes as a C
# int, which libffi widens to the 64-bit register that glibc's variadic ptrace() reads (va_arg of
# pid_t or void *): the request, the tid, a signal, a size and the options all fit; an address is
# passed as a c_void_p, built once for the buffer of every stop (SyscallInfoReader).
_ptrace = _libc["ptrace"]
_ptrace.restype = ctypes.c_long


def _failed(request: int, tid: int) -> OSError:
    code = ctypes.get_errno()
    return OSError(code, f"ptrace({request:#x}, {tid}): {os.strerror(code)}")


def _request(request: int, tid: int, address: int = 0, data: int = 0) -> None:
    """A request whose only result is success: OSError with its errno otherwise."""
    if _ptrace(request, tid, ctypes.c_void_p(address), ctypes.c_void_p(data)) < 0:
        raise _failed(request, tid)


def _peek(request: int, tid: int, address: int) -> int:
    """PTRACE_PEEKDATA or PTRACE_PEEKUSER: the word read; libc says a failure only through errno (ptrace(2))."""
    ctypes.set_errno(0)
    word = int(_ptrace(request, tid, ctypes.c_void_p(address), 0))
    if word == -1 and ctypes.get_errno():
        raise _failed(request, tid)
    return word


def traceme() -> None:
    """PTRACE_TRACEME, in the new child: its parent's thread becomes its tracer."""
    _request(PTRACE_TRACEME, 0)


def set_options(tid: int, options: int) -> None:
    """PTRACE_SETOPTIONS: which events stop the task (and the tasks it creates)."""
    _request(PTRACE_SETOPTIONS, tid, 0, options)


def event_message(tid: int) -> int:
    """PTRACE_GETEVENTMSG: the new task's tid at a fork event, the former tid at an exec event."""
    message = ctypes.c_ulong()
    _request(PTRACE_GETEVENTMSG, tid, 0, ctypes.addressof(message))
    return message.value


def siginfo(tid: int) -> bytes:
    """PTRACE_GETSIGINFO: the raw siginfo of a signal stop (EINVAL at a group-stop)."""
    buffer = ctypes.create_string_buffer(_SIGINFO_SIZE)
    _request(PTRACE_GETSIGINFO, tid, 0, ctypes.addressof(buffer))
    return buffer.raw


def peek_data(tid: int, address: int) -> int:
    """PTRACE_PEEKDATA: one word of the task's memory, as a signed long."""
    return _peek(PTRACE_PEEKDATA, tid, address)


def poke_data(tid: int, address: int, word: int) -> None:
    """PTRACE_POKEDATA: write one word of the task's memory (``harness sweep --sa-restart``)."""
    _request(PTRACE_POKEDATA, tid, address, word & 0xFFFF_FFFF_FFFF_FFFF)


def stack_pointer(tid: int) -> int:
    """The task's ``rsp`` (PTRACE_PEEKUSER): where PTRACE_GET_SYSCALL_INFO, which reports it, is missing."""
    return _peek(PTRACE_PEEKUSER, tid, _USER_RSP) & 0xFFFF_FFFF_FFFF_FFFF


def syscall_registers(tid: int) -> tuple[int, int]:
    """The task's ``orig_rax`` and ``rax`` (PTRACE_PEEKUSER), as signed longs: the call it is in and its return."""
    return _peek(PTRACE_PEEKUSER, tid, _USER_ORIG_RAX), _peek(PTRACE_PEEKUSER, tid, _USER_RAX)


@contextmanager
def _python_ptrace() -> Iterator[ModuleType]:
    """python-ptrace's bindings, imported by the first run that needs them; its PtraceError becomes an OSError."""
    from ptrace import PtraceError
    from ptrace.binding import func as binding

    try:
        yield binding
    except PtraceError as error:
        raise OSError(error.errno or 0, str(error)) from None


def _registers(tid: int) -> user_regs_struct:
    """PTRACE_GETREGS through python-ptrace: the whole structure."""
    with _python_ptrace() as binding:
        regs: user_regs_struct = binding.ptrace_getregs(tid)
    return regs


def _set_registers(tid: int, regs: user_regs_struct) -> None:
    """PTRACE_SETREGS through python-ptrace."""
    with _python_ptrace() as binding:
        binding.ptrace_setregs(tid, regs)


def resume(tid: int, signum: int, to_next_syscall: bool) -> None:
    """PTRACE_SYSCALL (to the next syscall stop) or PTRACE_CONT, delivering ``signum`` (0: none)."""
    request = PTRACE_SYSCALL if to_next_syscall else PTRACE_CONT
    if _ptrace(request, tid, 0, signum) < 0:
        raise _failed(request, tid)


#: What a syscall stop is, as plain values (no object per stop): ``(kind, nr, args, ret)``, where kind
#: is PTRACE_SYSCALL_INFO_ENTRY (an entry, the seccomp filter's too; ``nr`` and the six ``args``) or
#: PTRACE_SYSCALL_INFO_EXIT (``ret``); ``nr`` is -1 and ``args`` empty at an exit.
SyscallStop = tuple[int, int, tuple[int, ...], int]

# struct ptrace_syscall_info (include/uapi/linux/ptrace.h): op (u8), pad[3], arch (u32),
# instruction_pointer (u64), stack_pointer (u64), then at offset 24 the union: entry {nr, args[6]},
# exit {rval (s64), is_error (u8)}, seccomp {nr, args[6], ret_data (u32)}; 88 bytes in all.
_INFO_SIZE = 88
_DATA = 24
_NUMBER_AND_ARGS = struct.Struct("<7Q").unpack_from
_RVAL = struct.Struct("<q").unpack_from
_ENTRY_OPS = (PTRACE_SYSCALL_INFO_ENTRY, PTRACE_SYSCALL_INFO_SECCOMP)  # the filter's stop is an entry too
_ARCH = struct.Struct("<I").unpack_from  # the arch field, at offset 4
_STACK_POINTER = struct.Struct("<Q").unpack_from  # the stack_pointer field, at offset 16


class ForeignCall(Exception):
    """A syscall entry of another ABI than x86_64 (an i386 or x32 program): its numbers mean other calls.

    Raised rather than returned, so that the x86_64 stops pay nothing for the check but one comparison.
    """

    def __init__(self, abi: kernel_abi.SyscallAbi, nr: int, args: tuple[int, ...]) -> None:
        super().__init__(abi, nr)
        self.abi = abi
        self.nr = nr
        """The call's number in its own ABI's table."""
        self.args = args
        """Its six argument registers, in that ABI's order (i386: ebx, ecx, edx, esi, edi, ebp)."""


class SyscallInfoReader:
    """Reads syscall stops through PTRACE_GET_SYSCALL_INFO into one reused buffer, unpacked with ``struct``."""

    __slots__ = ("_address", "_buffer")

    def __init__(self) -> None:
        self._buffer = bytearray(_INFO_SIZE)
        self._address = ctypes.c_void_p(ctypes.addressof((ctypes.c_char * _INFO_SIZE).from_buffer(self._buffer)))

    def read(self, tid: int) -> SyscallStop | None:
        """The stop's kind and data; None for a stop that is neither entry nor exit."""
        if _ptrace(PTRACE_GET_SYSCALL_INFO, tid, _INFO_SIZE, self._address) < 0:
            raise _failed(PTRACE_GET_SYSCALL_INFO, tid)
        buffer = self._buffer
        op = buffer[0]
        if op in _ENTRY_OPS:
            values = _NUMBER_AND_ARGS(buffer, _DATA)
            nr = values[0]
            if nr >= kernel_abi.X32_SYSCALL_BIT or _ARCH(buffer, 4)[0] != AUDIT_ARCH_X86_64:
                abi = kernel_abi.syscall_abi(_ARCH(buffer, 4)[0], nr)
                args = tuple(value & 0xFFFF_FFFF if abi == "i386" else value for value in values[1:])  # 32-bit regs
                raise ForeignCall(abi, nr, args)
            return PTRACE_SYSCALL_INFO_ENTRY, nr, values[1:], 0
        if op == PTRACE_SYSCALL_INFO_EXIT:
            return PTRACE_SYSCALL_INFO_EXIT, -1, (), _RVAL(buffer, _DATA)[0]
        return None

    def stack_pointer(self) -> int:
        """The stack pointer at the stop :meth:`read` read last (``sp`` as the call was entered)."""
        return int(_STACK_POINTER(self._buffer, 16)[0])

    def available(self, tid: int) -> bool:
        """Whether the running kernel knows the request (Linux 5.3 and later)."""
        try:
            self.read(tid)
        except OSError as error:
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
    regs = _registers(tid)
    if entry:
        args = (regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9)
        abi = kernel_abi.registers_abi(regs.cs, regs.orig_rax, _entry_instruction(tid, regs.rip))
        if abi == "i386":  # int $0x80's registers (arch/x86/entry/entry_64_compat.S), 32 bits each
            raise ForeignCall(
                abi,
                regs.orig_rax,
                tuple(r & 0xFFFF_FFFF for r in (regs.rbx, regs.rcx, regs.rdx, regs.rsi, regs.rdi, regs.rbp)),
            )
        if abi != "x86_64":
            raise ForeignCall(abi, regs.orig_rax, args)
        return PTRACE_SYSCALL_INFO_ENTRY, regs.orig_rax, args, 0
    return PTRACE_SYSCALL_INFO_EXIT, regs.orig_rax, (), s64(regs.rax)


def _entry_instruction(tid: int, rip: int) -> int | None:
    """The two bytes before the instruction pointer at a syscall entry: the instruction that entered.

    One PTRACE_PEEKDATA a stop, in this fallback for kernels without
    PTRACE_GET_SYSCALL_INFO only (which reports the ABI itself).  None
    where they cannot be read (an unmapped page, a task gone).
    """
    try:
        return _peek(PTRACE_PEEKDATA, tid, rip - 2) & 0xFFFF
    except OSError:
        return None


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


_TGKILL = syscall_number("tgkill")


def tgkill(pid: int, tid: int, signum: int) -> None:
    """Send a signal to one thread (tgkill(2)): os.kill would let any thread of the process take it."""
    if _libc.syscall(_TGKILL, pid, tid, signum) < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"tgkill({pid}, {tid}, {signum}): {errno.errorcode.get(code, code)}")


def skip_syscall(tid: int) -> None:
    """At a syscall entry (or seccomp) stop: make the kernel skip the call, by setting its number to -1."""
    regs = _registers(tid)
    regs.orig_rax = (1 << 64) - 1
    _set_registers(tid, regs)


def set_return(tid: int, value: int) -> None:
    """At a syscall exit stop: the value the call returns to the program (``-errno`` for an error)."""
    regs = _registers(tid)
    regs.rax = value & ((1 << 64) - 1)
    _set_registers(tid, regs)
