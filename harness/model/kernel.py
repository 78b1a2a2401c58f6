"""Facts about the Linux kernel that the harness relies on, written once.

Every table here is data, not code, and names the kernel header or man page
it was read from, so that a reader can check it and a newcomer can learn from
it.  The numbers are those of x86_64 Linux, the architecture the tracer
supports; all flag tables print unknown bits as hexadecimal instead of
dropping them, as strace does.

Facts about restarted system calls (include/linux/errno.h,
kernel/signal.c, arch/x86/kernel/signal.c ``handle_signal``):

* A slow call (``accept``, ``wait4`` without ``WNOHANG``, ``read`` on a
  socket) that is interrupted by a signal returns one of the kernel-internal
  codes 512-516 *to the tracer*, at its syscall-exit-stop.  User space never
  sees these numbers.
* When a handler runs for the signal, the kernel rewrites the code before
  returning to user space: ERESTARTSYS becomes EINTR unless the handler was
  installed with SA_RESTART, in which case the call is re-entered;
  ERESTARTNOHAND always becomes EINTR; ERESTARTNOINTR is always restarted;
  ERESTART_RESTARTBLOCK becomes EINTR.
* When no handler runs (the signal is ignored or its default action is to
  ignore it, like SIGCHLD's), every code restarts the call transparently:
  ERESTART_RESTARTBLOCK through the ``restart_syscall`` system call.
* The restart shows to a tracer as ``rt_sigreturn`` returning the number of
  the interrupted call (the kernel restored ``ax`` to ``orig_ax``), followed
  by a new entry into the same call.
"""

from __future__ import annotations

import errno as _errno
import os as _os
import signal as _signal
from collections.abc import Iterable, Mapping
from typing import Literal

# -- errno ------------------------------------------------------------------

#: Kernel-internal restart codes (include/linux/errno.h).  "Only a tracer
#: sees them": they are rewritten before the syscall returns to user space.
#: The restart code of a call the kernel resumes through restart_syscall(2) (a nanosleep, a poll with a timeout).
ERESTART_RESTARTBLOCK = 516
RESTART_CODES: Mapping[int, str] = {
    512: "ERESTARTSYS",
    513: "ERESTARTNOINTR",
    514: "ERESTARTNOHAND",
    515: "ENOIOCTLCMD",
    516: "ERESTART_RESTARTBLOCK",
}

#: strace's explanation of each restart code (strace src/strace.c), so that a
#: strace user reads ``= ? ERESTARTSYS (To be restarted if SA_RESTART is set)``.
RESTART_CODE_TEXT: Mapping[str, str] = {
    "ERESTARTSYS": "To be restarted if SA_RESTART is set",
    "ERESTARTNOINTR": "To be restarted",
    "ERESTARTNOHAND": "To be restarted if no handler",
    "ENOIOCTLCMD": "No ioctl command",
    "ERESTART_RESTARTBLOCK": "Interrupted by signal",
}

#: errno numbers and names as the C library defines them (asm-generic/errno.h),
#: plus the restart codes above.  Where two names share a number, the kernel's own, as strace prints it
#: (src/linux/generic/errnoent.h): Python's table keeps the alias EDEADLOCK for 35 and ENOTSUP for 95.
ERRNO_NAMES: Mapping[int, str] = {**_errno.errorcode, 35: "EDEADLK", 95: "EOPNOTSUPP", **RESTART_CODES}
ERRNO_NUMBERS: Mapping[str, int] = {name: num for num, name in ERRNO_NAMES.items()}

#: A raw return value in [-4095, -1] is an error (include/linux/err.h,
#: MAX_ERRNO); anything else is a result.
MAX_ERRNO = 4095


def errno_name(ret: int) -> str | None:
    """Name the error a raw syscall return value stands for, or None for success."""
    if -MAX_ERRNO <= ret < 0:
        return ERRNO_NAMES.get(-ret, f"E{-ret}")
    return None


def errno_text(name: str) -> str:
    """Describe an errno the way strace does after the symbol."""
    if name in RESTART_CODE_TEXT:
        return RESTART_CODE_TEXT[name]
    number = ERRNO_NUMBERS.get(name)
    return _os.strerror(number) if number is not None else name


def is_restart_code(name: str | None) -> bool:
    """Tell whether an errno name is one of the codes only a tracer sees."""
    return name in RESTART_CODE_TEXT


#: What the kernel does with an interrupted call (see RESTART_OUTCOMES).
RestartOutcome = Literal["EINTR", "restart", "restart_syscall"]
#: Which branch of the kernel's signal code handles the interrupted call.
Handling = Literal["handler", "handler with SA_RESTART", "no handler"]

#: What becomes of an interrupted call, by restart code, when a signal is delivered.
#: arch/x86/kernel/signal.c: ``handle_signal()`` when a handler runs (keys with
#: ``handler``), ``arch_do_signal_or_restart()`` when none does.  Outcomes:
#: ``EINTR`` (the program sees the call fail), ``restart`` (the kernel enters the
#: same call again: rt_sigreturn, or the signal delivery, puts ``orig_ax`` back
#: and steps the instruction pointer back over ``syscall``), ``restart_syscall``
#: (the call resumes through the restart_syscall system call, with the time it
#: had left: nanosleep, poll with a timeout).
RESTART_OUTCOMES: Mapping[tuple[str, Handling], RestartOutcome] = {
    ("ERESTARTSYS", "handler"): "EINTR",
    ("ERESTARTSYS", "handler with SA_RESTART"): "restart",
    ("ERESTARTSYS", "no handler"): "restart",
    ("ERESTARTNOINTR", "handler"): "restart",
    ("ERESTARTNOINTR", "handler with SA_RESTART"): "restart",
    ("ERESTARTNOINTR", "no handler"): "restart",
    ("ERESTARTNOHAND", "handler"): "EINTR",
    ("ERESTARTNOHAND", "handler with SA_RESTART"): "EINTR",
    ("ERESTARTNOHAND", "no handler"): "restart",
    ("ERESTART_RESTARTBLOCK", "handler"): "EINTR",
    ("ERESTART_RESTARTBLOCK", "handler with SA_RESTART"): "EINTR",
    ("ERESTART_RESTARTBLOCK", "no handler"): "restart_syscall",
}

#: The rule behind each restart code, in words (include/linux/errno.h comments,
#: and the switch statements of arch/x86/kernel/signal.c cited above).
RESTART_RULES: Mapping[str, str] = {
    "ERESTARTSYS": "a handler without SA_RESTART turns it into EINTR; with SA_RESTART, or when no handler runs, "
    "the kernel enters the call again",
    "ERESTARTNOINTR": "the kernel always enters the call again, handler or not (fork and clone use it: "
    "they must not fail because a signal arrived)",
    "ERESTARTNOHAND": "a handler turns it into EINTR whatever its flags; without a handler the call is entered again",
    "ERESTART_RESTARTBLOCK": "a handler turns it into EINTR; without one the call resumes through restart_syscall, "
    "with the time it had left",
}


def restart_outcome(code: str, *, handler: bool, sa_restart: bool) -> RestartOutcome:
    """What the kernel makes of a restart code: ``EINTR``, ``restart`` or ``restart_syscall``."""
    how: Handling = "no handler" if not handler else "handler with SA_RESTART" if sa_restart else "handler"
    return RESTART_OUTCOMES.get((code, how), "EINTR")


#: Where rt_sigreturn's result waits, relative to the stack pointer at its entry (x86_64): the ``ax``
#: the kernel restores from the signal frame, and returns.  ``SYSCALL_DEFINE0(rt_sigreturn)``
#: (arch/x86/kernel/signal_64.c) takes the frame at ``sp - 8`` (the handler's ``ret`` popped
#: ``pretcode``), restores the registers from ``frame->uc.uc_mcontext`` and returns ``regs->ax``.
#: ``struct rt_sigframe`` (arch/x86/include/asm/sigframe.h) is ``pretcode`` (8 bytes), then
#: ``struct ucontext``: ``uc_flags`` (8), ``uc_link`` (8), ``uc_stack`` (``stack_t``: 24), then
#: ``uc_mcontext`` (``struct sigcontext_64``, include/uapi/asm/sigcontext.h: r8 to r15, di, si, bp,
#: bx, dx, then ax, the 14th 8-byte field, at 104).  So ``ax`` is at
#: ``sp - 8 + 8 + 8 + 8 + 24 + 104 = sp + 144``.  The value is the interrupted call's result as the
#: handler's delivery left it (-EINTR, say), or that call's number when it is to be restarted.
SIGRETURN_RESULT_OFFSET = 144
#: And the signal mask the return restores, ``frame->uc.uc_sigmask``, after ``uc_mcontext`` (32 words,
#: 256 bytes): ``sp - 8 + 8 + 8 + 8 + 24 + 256 = sp + 296``.  strace shows it: ``rt_sigreturn({mask=[]})``.
SIGRETURN_MASK_OFFSET = 296


# -- signals a tracer makes visible ------------------------------------------------

#: Signals whose default action is to ignore them: signal(7) ("Ign" for SIGCHLD,
#: SIGURG, SIGWINCH) and include/linux/signal.h ``SIG_KERNEL_IGNORE_MASK``, which
#: also holds SIGCONT (its default continues a stopped process, nothing more).
IGNORED_BY_DEFAULT = frozenset({"SIGCHLD", "SIGURG", "SIGWINCH", "SIGCONT"})

#: What a signal's disposition is: its default action, ignored, or a function of the program's.
HandlerKind = Literal["SIG_DFL", "SIG_IGN", "handler"]


def ignored(signal: str, handler: HandlerKind) -> bool:
    """Whether the signal has no effect at all on the process under this disposition (signal(7)).

    SIGKILL and SIGSTOP cannot be ignored (sigaction(2)).
    """
    if signal in ("SIGKILL", "SIGSTOP"):
        return False
    return handler == "SIG_IGN" or (handler == "SIG_DFL" and signal in IGNORED_BY_DEFAULT)


def wakes_only_under_ptrace(signal: str, handler: HandlerKind) -> bool:
    """Whether the signal interrupts a blocking call only because the task is traced.

    kernel/signal.c ``sig_ignored()``: an ignored signal is discarded when it
    is sent, so it neither is queued nor wakes the task, *unless the task is
    ptraced* ("Tracers may want to know about even ignored signal"): then it
    is queued, wakes the task, which stops at a signal-delivery-stop, and the
    interrupted call restarts (through ``restart_syscall`` for
    ERESTART_RESTARTBLOCK).  Untraced, nothing of this happens.
    """
    return ignored(signal, handler)


# -- signals ----------------------------------------------------------------

#: Signal numbers to names (signal(7)).  Real-time signals use the kernel's
#: numbering (arch/x86/include/uapi/asm/signal.h: SIGRTMIN 32, _NSIG 64), which
#: strace prints as SIGRT_n; glibc reserves the first two for itself, which is
#: why Python's signal.SIGRTMIN is 34.
KERNEL_SIGRTMIN = 32
KERNEL_SIGRTMAX = 64
SIGNAL_NAMES: Mapping[int, str] = {
    **{int(sig): sig.name for sig in _signal.Signals if not sig.name.startswith("SIGRT")},
    KERNEL_SIGRTMIN: "SIGRTMIN",
    **{num: f"SIGRT_{num - KERNEL_SIGRTMIN}" for num in range(KERNEL_SIGRTMIN + 1, KERNEL_SIGRTMAX + 1)},
}
SIGNAL_NUMBERS: Mapping[str, int] = {name: num for num, name in SIGNAL_NAMES.items()}


#: A shell's exit status for a command a signal ended: 128 + the signal's number (POSIX, Shell Command
#: Language 2.8.2 "Exit Status for Commands": greater than 128; bash(1) EXIT STATUS: 128+n).  Many
#: programs that catch a stop signal exit with it too: socat, the JVM, shells (143 after SIGTERM).
SIGNALLED_STATUS_BASE = 128


def signalled_status(signal: str) -> int:
    """The status a shell gives a command that ``signal`` ended (143 for SIGTERM)."""
    return SIGNALLED_STATUS_BASE + SIGNAL_NUMBERS[signal]


def signal_name(number: int) -> str:
    """Name a signal number; unknown numbers stay visible as numbers."""
    return SIGNAL_NAMES.get(number, str(number))


# -- calls that reach another process by its number ----------------------------

#: The calls by which a process acts on another one it names by number: the argument (by index) that holds
#: the number, and the one that holds the signal for the calls that send one.  Signals: kill(2), tkill(2),
#: tgkill(2), rt_sigqueueinfo(2), rt_tgsigqueueinfo(2) (the first argument is the thread group); tracing:
#: ptrace(2) (PTRACE_ATTACH and PTRACE_SEIZE stop the target); a process descriptor, to signal it later with
#: pidfd_send_signal(2): pidfd_open(2); writing its memory: process_vm_writev(2); its limits: prlimit(2).
#: Each number is an ``int``/``pid_t``: the kernel reads the low 32 bits of the register only.
CALLS_NAMING_A_PROCESS: Mapping[str, tuple[int, int | None]] = {
    "kill": (0, 1),
    "tkill": (0, 1),
    "tgkill": (0, 2),
    "rt_sigqueueinfo": (0, 1),
    "rt_tgsigqueueinfo": (0, 2),
    "ptrace": (1, None),
    "pidfd_open": (0, None),
    "process_vm_writev": (0, None),
    "prlimit64": (0, None),
}

#: kill(2)'s targets besides one process: ``0`` is the caller's process group, ``-1`` every process the
#: caller may signal (all but init and itself, for root), ``-PGID`` the group PGID.
KILL_OWN_GROUP = 0
KILL_EVERY_PROCESS = -1


# -- si_code (include/uapi/asm-generic/siginfo.h) ----------------------------

#: Codes that any signal can carry: who sent it.
SI_CODES_GENERIC: Mapping[int, str] = {
    0: "SI_USER",  # kill(2)
    0x80: "SI_KERNEL",
    -1: "SI_QUEUE",  # sigqueue(3)
    -2: "SI_TIMER",
    -3: "SI_MESGQ",
    -4: "SI_ASYNCIO",
    -5: "SI_SIGIO",
    -6: "SI_TKILL",  # tkill(2), tgkill(2)
}

#: Codes specific to one signal, for positive values.
SI_CODES_BY_SIGNAL: Mapping[str, Mapping[int, str]] = {
    "SIGCHLD": {
        1: "CLD_EXITED",
        2: "CLD_KILLED",
        3: "CLD_DUMPED",
        4: "CLD_TRAPPED",
        5: "CLD_STOPPED",
        6: "CLD_CONTINUED",
    },
    "SIGSEGV": {1: "SEGV_MAPERR", 2: "SEGV_ACCERR", 3: "SEGV_BNDERR", 4: "SEGV_PKUERR"},
    "SIGBUS": {1: "BUS_ADRALN", 2: "BUS_ADRERR", 3: "BUS_OBJERR"},
    "SIGTRAP": {1: "TRAP_BRKPT", 2: "TRAP_TRACE", 3: "TRAP_BRANCH", 4: "TRAP_HWBKPT"},
    "SIGILL": {1: "ILL_ILLOPC", 2: "ILL_ILLOPN", 3: "ILL_ILLADR", 4: "ILL_ILLTRP"},
    "SIGFPE": {1: "FPE_INTDIV", 2: "FPE_INTOVF", 3: "FPE_FLTDIV", 4: "FPE_FLTOVF"},
    "SIGSYS": {1: "SYS_SECCOMP"},
    "SIGIO": {1: "POLL_IN", 2: "POLL_OUT", 3: "POLL_MSG", 4: "POLL_ERR"},
}

#: SIGCHLD codes whose si_status is a signal number rather than an exit code: every one but CLD_EXITED
#: (the kernel puts SIGCONT in a CLD_CONTINUED's, kernel/signal.c do_notify_parent_cldstop; strace's
#: printsiginfo names them all, src/printsiginfo.c).
CLD_STATUS_IS_SIGNAL = frozenset({"CLD_KILLED", "CLD_DUMPED", "CLD_TRAPPED", "CLD_STOPPED", "CLD_CONTINUED"})

#: Codes that carry the sender's pid and uid (the ``_kill`` member).
SI_CODES_WITH_SENDER = frozenset({"SI_USER", "SI_TKILL", "SI_QUEUE"})


def si_code_name(signal: str, code: int) -> str:
    """Name a si_code the way the signal it came with defines it."""
    if code > 0 and code != 0x80 and signal in SI_CODES_BY_SIGNAL:
        return SI_CODES_BY_SIGNAL[signal].get(code, str(code))
    return SI_CODES_GENERIC.get(code, str(code))


# -- flag tables -------------------------------------------------------------

#: clone3(2) flags (include/uapi/linux/sched.h), in strace's order (src/xlat/clone_flags.in, then
#: clone3_flags.in for the bits only clone3 can carry; clone() names those of CLONE_FLAGS below).
#: The low byte of clone()'s flags is the exit signal, decoded separately.  CLONE_DETACHED (0x400000)
#: is left out as strace leaves it out: the kernel ignores it, so it prints as a number.  python-ptrace's
#: own table (ptrace/syscall/posix_arg.py) predates CLONE_PIDFD and the namespace flags, so the complete
#: table is kept here.
CLONE3_FLAGS: Mapping[int, str] = {
    0x00000100: "CLONE_VM",
    0x00000200: "CLONE_FS",
    0x00000400: "CLONE_FILES",
    0x00000800: "CLONE_SIGHAND",
    0x00001000: "CLONE_PIDFD",
    0x00002000: "CLONE_PTRACE",
    0x00004000: "CLONE_VFORK",
    0x00008000: "CLONE_PARENT",
    0x00010000: "CLONE_THREAD",
    0x00020000: "CLONE_NEWNS",
    0x00040000: "CLONE_SYSVSEM",
    0x00080000: "CLONE_SETTLS",
    0x00100000: "CLONE_PARENT_SETTID",
    0x00200000: "CLONE_CHILD_CLEARTID",
    0x00800000: "CLONE_UNTRACED",
    0x01000000: "CLONE_CHILD_SETTID",
    0x02000000: "CLONE_NEWCGROUP",
    0x04000000: "CLONE_NEWUTS",
    0x08000000: "CLONE_NEWIPC",
    0x10000000: "CLONE_NEWUSER",
    0x20000000: "CLONE_NEWPID",
    0x40000000: "CLONE_NEWNET",
    0x80000000: "CLONE_IO",
    0x00000080: "CLONE_NEWTIME",  # clone3 only: in clone() this bit is the exit signal's
    1 << 32: "CLONE_CLEAR_SIGHAND",  # clone3 only, as are the bits above
    1 << 33: "CLONE_INTO_CGROUP",
    1 << 34: "CLONE_AUTOREAP",
    1 << 35: "CLONE_NNP",
    1 << 36: "CLONE_PIDFD_AUTOKILL",
    1 << 37: "CLONE_EMPTY_MNTNS",
}
#: clone()'s: the same without the bits only clone3 carries, which clone() reads as unknown (strace's
#: printflags64_in(clone_flags, ...)).
CLONE_FLAGS: Mapping[int, str] = {bit: name for bit, name in CLONE3_FLAGS.items() if bit < 1 << 32 and bit != 0x80}
CLONE_EXIT_SIGNAL_MASK = 0xFF  # CSIGNAL
#: Each clone flag's bit by its name: what a decoder tests (``CLONE_BITS["CLONE_SETTLS"]``).
CLONE_BITS: Mapping[str, int] = {name: bit for bit, name in CLONE3_FLAGS.items()}

#: wait4(2)/waitid(2) options (include/uapi/linux/wait.h), in strace's order (src/xlat/wait4_options.in).
#: WUNTRACED and WSTOPPED are one bit; strace names it WSTOPPED for both calls.
WAIT_OPTIONS: Mapping[int, str] = {
    0x00000001: "WNOHANG",
    0x00000004: "WEXITED",
    0x00000002: "WSTOPPED",
    0x00000008: "WCONTINUED",
    0x01000000: "WNOWAIT",
    0x80000000: "__WCLONE",
    0x40000000: "__WALL",
    0x20000000: "__WNOTHREAD",
}

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


#: waitpid(2) options the tracer waits with (include/uapi/linux/wait.h): __WALL reports threads and
#: clones too; __WNOTHREAD only the calling thread's own children and tracees, not its process's.
WAIT_ALL = 0x40000000
WAIT_NO_THREAD = 0x20000000

#: waitid(2) idtype (include/uapi/linux/wait.h).
WAITID_IDTYPES: Mapping[int, str] = {0: "P_ALL", 1: "P_PID", 2: "P_PGID", 3: "P_PIDFD"}

#: struct sigaction sa_flags (include/uapi/asm-generic/signal-defs.h, arch/x86/include/uapi/asm/signal.h
#: for SA_RESTORER), in strace's order and with its names (src/xlat/sigact_flags.in): SA_INTERRUPT, a
#: historical no-op that glibc's bits/sigaction.h still defines, as glibc's siginterrupt(3) and some
#: servers still set it; SA_UNSUPPORTED and SA_EXPOSE_TAGBITS are not in strace's table and print as numbers.
SA_FLAGS: Mapping[int, str] = {
    0x04000000: "SA_RESTORER",
    0x08000000: "SA_ONSTACK",
    0x10000000: "SA_RESTART",
    0x20000000: "SA_INTERRUPT",
    0x40000000: "SA_NODEFER",
    0x80000000: "SA_RESETHAND",
    0x00000004: "SA_SIGINFO",
    0x00000001: "SA_NOCLDSTOP",
    0x00000002: "SA_NOCLDWAIT",
}

#: The two handler values that are not addresses (signal(2)).
SPECIAL_HANDLERS: Mapping[int, str] = {0: "SIG_DFL", 1: "SIG_IGN"}

#: accept4(2) flags (include/linux/net.h, x86_64 values).
SOCK_FLAGS: Mapping[int, str] = {0o2000000: "SOCK_CLOEXEC", 0o4000: "SOCK_NONBLOCK"}

#: fcntl(2) commands (include/uapi/asm-generic/fcntl.h, include/uapi/linux/fcntl.h: F_LINUX_SPECIFIC_BASE
#: 1024), in strace's order (src/xlat/fcntlcmds.in).  F_GETLK64..F_SETLKW64 are the 32-bit ABI's, which a
#: 64-bit kernel still names.  F_DUPFD and F_DUPFD_CLOEXEC make a descriptor, like dup(2).
FCNTL_COMMANDS: Mapping[int, str] = {
    0: "F_DUPFD",
    1: "F_GETFD",
    2: "F_SETFD",
    3: "F_GETFL",
    4: "F_SETFL",
    5: "F_GETLK",
    6: "F_SETLK",
    7: "F_SETLKW",
    8: "F_SETOWN",
    9: "F_GETOWN",
    10: "F_SETSIG",
    11: "F_GETSIG",
    12: "F_GETLK64",
    13: "F_SETLK64",
    14: "F_SETLKW64",
    15: "F_SETOWN_EX",
    16: "F_GETOWN_EX",
    17: "F_GETOWNER_UIDS",
    36: "F_OFD_GETLK",
    37: "F_OFD_SETLK",
    38: "F_OFD_SETLKW",
    1024: "F_SETLEASE",
    1025: "F_GETLEASE",
    1026: "F_NOTIFY",
    1027: "F_DUPFD_QUERY",
    1028: "F_CREATED_QUERY",
    1029: "F_CANCELLK",
    1030: "F_DUPFD_CLOEXEC",
    1031: "F_SETPIPE_SZ",
    1032: "F_GETPIPE_SZ",
    1033: "F_ADD_SEALS",
    1034: "F_GET_SEALS",
    1035: "F_GET_RW_HINT",
    1036: "F_SET_RW_HINT",
    1037: "F_GET_FILE_RW_HINT",
    1038: "F_SET_FILE_RW_HINT",
    1039: "F_GETDELEG",
    1040: "F_SETDELEG",
}
#: Lock and lease types (struct flock's l_type, F_SETLEASE's argument).
LOCK_TYPES: Mapping[int, str] = {0: "F_RDLCK", 1: "F_WRLCK", 2: "F_UNLCK", 4: "F_EXLCK", 8: "F_SHLCK"}
#: lseek(2) whence, struct flock's l_whence (include/uapi/linux/fs.h).
WHENCE: Mapping[int, str] = {0: "SEEK_SET", 1: "SEEK_CUR", 2: "SEEK_END", 3: "SEEK_DATA", 4: "SEEK_HOLE"}
#: struct f_owner_ex's type (F_SETOWN_EX).
OWNER_TYPES: Mapping[int, str] = {0: "F_OWNER_TID", 1: "F_OWNER_PID", 2: "F_OWNER_PGRP"}
#: F_NOTIFY's events.
NOTIFY_FLAGS: Mapping[int, str] = {
    0x1: "DN_ACCESS",
    0x2: "DN_MODIFY",
    0x4: "DN_CREATE",
    0x8: "DN_DELETE",
    0x10: "DN_RENAME",
    0x20: "DN_ATTRIB",
    0x80000000: "DN_MULTISHOT",
}
#: F_ADD_SEALS's seals.
SEALS: Mapping[int, str] = {
    0x1: "F_SEAL_SEAL",
    0x2: "F_SEAL_SHRINK",
    0x4: "F_SEAL_GROW",
    0x8: "F_SEAL_WRITE",
    0x10: "F_SEAL_FUTURE_WRITE",
    0x20: "F_SEAL_EXEC",
}
#: The write-life hints of F_SET_RW_HINT.
RW_HINTS: Mapping[int, str] = {
    0: "RWH_WRITE_LIFE_NOT_SET",
    1: "RWH_WRITE_LIFE_NONE",
    2: "RWH_WRITE_LIFE_SHORT",
    3: "RWH_WRITE_LIFE_MEDIUM",
    4: "RWH_WRITE_LIFE_LONG",
    5: "RWH_WRITE_LIFE_EXTREME",
}
#: The commands of FCNTL_COMMANDS that make a new descriptor, as dup(2) does.
FCNTL_DUPLICATES = frozenset({"F_DUPFD", "F_DUPFD_CLOEXEC"})
#: A descriptor's own flags (F_GETFD, F_SETFD): close-on-exec only.
FD_FLAGS: Mapping[int, str] = {1: "FD_CLOEXEC"}
#: An open file's flags (include/uapi/asm-generic/fcntl.h, x86_64 values), in strace's order
#: (src/xlat/open_mode_flags.in): what F_SETFL sets (with the access mode, OPEN_ACCESS_MODES), and
#: what dup3(2) and pipe2(2) take (O_CLOEXEC, O_NONBLOCK, O_DIRECT; the others fail with EINVAL but
#: print by name).  O_SYNC and O_TMPFILE are two bits each, named before their parts.
OPEN_FILE_FLAGS: Mapping[int, str] = {
    0o100: "O_CREAT",
    0o200: "O_EXCL",
    0o400: "O_NOCTTY",
    0o1000: "O_TRUNC",
    0o2000: "O_APPEND",
    0o4000: "O_NONBLOCK",
    0o4010000: "O_SYNC",
    0o4000000: "__O_SYNC",
    0o10000: "O_DSYNC",
    0o40000: "O_DIRECT",
    0o100000: "O_LARGEFILE",
    0o400000: "O_NOFOLLOW",
    0o1000000: "O_NOATIME",
    0o2000000: "O_CLOEXEC",
    0o10000000: "O_PATH",
    0o20200000: "O_TMPFILE",
    0o20000000: "__O_TMPFILE",
    0o200000: "O_DIRECTORY",
    0o20000: "O_ASYNC",  # strace's FASYNC, printed by its kernel name
}
#: The access mode, the low two bits of an open file's flags (O_ACCMODE).
OPEN_ACCESS_MODES: Mapping[int, str] = {0: "O_RDONLY", 1: "O_WRONLY", 2: "O_RDWR", 3: "O_ACCMODE"}
#: close_range(2) flags (include/uapi/linux/close_range.h): unshare the table first, or mark close-on-exec
#: instead of closing.
CLOSE_RANGE_FLAGS: Mapping[int, str] = {2: "CLOSE_RANGE_UNSHARE", 4: "CLOSE_RANGE_CLOEXEC"}

#: clock ids (include/uapi/linux/time.h), as strace's src/xlat/clocknames.in names them.
CLOCK_NAMES: Mapping[int, str] = {
    0: "CLOCK_REALTIME",
    1: "CLOCK_MONOTONIC",
    2: "CLOCK_PROCESS_CPUTIME_ID",
    3: "CLOCK_THREAD_CPUTIME_ID",
    4: "CLOCK_MONOTONIC_RAW",
    5: "CLOCK_REALTIME_COARSE",
    6: "CLOCK_MONOTONIC_COARSE",
    7: "CLOCK_BOOTTIME",
    8: "CLOCK_REALTIME_ALARM",
    9: "CLOCK_BOOTTIME_ALARM",
    10: "CLOCK_SGI_CYCLE",
    11: "CLOCK_TAI",
}
#: clock_nanosleep(2) flags (include/uapi/linux/time.h).
TIMER_FLAGS: Mapping[int, str] = {1: "TIMER_ABSTIME"}

#: Socket address families the decoder knows (include/linux/socket.h).
ADDRESS_FAMILIES: Mapping[int, str] = {1: "AF_UNIX", 2: "AF_INET", 10: "AF_INET6", 16: "AF_NETLINK"}


#: poll(2) events and revents bits (include/uapi/asm-generic/poll.h).
POLL_EVENTS: Mapping[int, str] = {
    0x1: "POLLIN",
    0x2: "POLLPRI",
    0x4: "POLLOUT",
    0x8: "POLLERR",
    0x10: "POLLHUP",
    0x20: "POLLNVAL",
    0x40: "POLLRDNORM",
    0x80: "POLLRDBAND",
    0x100: "POLLWRNORM",
    0x200: "POLLWRBAND",
    0x400: "POLLMSG",
    0x2000: "POLLRDHUP",
}

#: epoll_event.events bits (include/uapi/linux/eventpoll.h).
EPOLL_EVENTS: Mapping[int, str] = {
    0x1: "EPOLLIN",
    0x2: "EPOLLPRI",
    0x4: "EPOLLOUT",
    0x8: "EPOLLERR",
    0x10: "EPOLLHUP",
    0x20: "EPOLLNVAL",
    0x40: "EPOLLRDNORM",
    0x80: "EPOLLRDBAND",
    0x100: "EPOLLWRNORM",
    0x200: "EPOLLWRBAND",
    0x400: "EPOLLMSG",
    0x2000: "EPOLLRDHUP",
    1 << 28: "EPOLLEXCLUSIVE",
    1 << 29: "EPOLLWAKEUP",
    1 << 30: "EPOLLONESHOT",
    1 << 31: "EPOLLET",
}

#: futex(2) commands, the low bits of ``op`` (include/uapi/linux/futex.h, FUTEX_CMD_MASK).
FUTEX_COMMANDS: Mapping[int, str] = {
    0: "FUTEX_WAIT",
    1: "FUTEX_WAKE",
    2: "FUTEX_FD",
    3: "FUTEX_REQUEUE",
    4: "FUTEX_CMP_REQUEUE",
    5: "FUTEX_WAKE_OP",
    6: "FUTEX_LOCK_PI",
    7: "FUTEX_UNLOCK_PI",
    8: "FUTEX_TRYLOCK_PI",
    9: "FUTEX_WAIT_BITSET",
    10: "FUTEX_WAKE_BITSET",
    11: "FUTEX_WAIT_REQUEUE_PI",
    12: "FUTEX_CMP_REQUEUE_PI",
    13: "FUTEX_LOCK_PI2",
}
FUTEX_PRIVATE_FLAG = 128
FUTEX_CLOCK_REALTIME = 256
#: The bits past the command and the private flag that strace names with it (include/uapi/linux/futex.h).
_FUTEX_ROBUST_UNLOCK = 512
_FUTEX_ROBUST_LIST32 = 1024
#: The commands that take FUTEX_CLOCK_REALTIME (futex(2)): any other with it fails with ENOSYS.
_FUTEX_TIMED = ("FUTEX_WAIT", "FUTEX_WAIT_BITSET", "FUTEX_WAIT_REQUEUE_PI")
_ROBUST_LISTS = {"FUTEX_UNLOCK_PI": "PI", "FUTEX_WAKE": "WAKE", "FUTEX_WAKE_BITSET": "BITSET"}


def _futex_ops() -> dict[int, str]:
    """Every valid futex ``op`` by its value, named as strace names it (src/xlat/futexops.in)."""
    ops: dict[int, str] = {}
    for private in (0, FUTEX_PRIVATE_FLAG):
        for number, name in FUTEX_COMMANDS.items():
            ops[number | private] = name + ("_PRIVATE" if private and name != "FUTEX_FD" else "")
        ops[2 | FUTEX_PRIVATE_FLAG] = "FUTEX_FD|FUTEX_PRIVATE_FLAG"
        for name in _FUTEX_TIMED:
            number = next(number for number, known in FUTEX_COMMANDS.items() if known == name)
            ops[number | private | FUTEX_CLOCK_REALTIME] = ops[number | private] + "|FUTEX_CLOCK_REALTIME"
        for name, kind in _ROBUST_LISTS.items():
            number = next(number for number, known in FUTEX_COMMANDS.items() if known == name)
            suffix = "_PRIVATE" if private else ""
            ops[number | _FUTEX_ROBUST_UNLOCK | private] = f"FUTEX_UNLOCK_{kind}_LIST64{suffix}"
            ops[number | _FUTEX_ROBUST_UNLOCK | _FUTEX_ROBUST_LIST32 | private] = f"FUTEX_UNLOCK_{kind}_LIST32{suffix}"
    return ops


#: futex ``op`` values by name, as strace prints them.
FUTEX_OPS: Mapping[int, str] = _futex_ops()
#: The bitset that matches any waiter (FUTEX_BITSET_MATCH_ANY).
FUTEX_BITSET_MATCH_ANY = 0xFFFFFFFF
#: FUTEX_WAKE_OP's encoded operation (include/uapi/linux/futex.h): op << 28, cmp << 24, oparg, cmparg.
FUTEX_WAKE_OPS: Mapping[int, str] = {
    0: "FUTEX_OP_SET",
    1: "FUTEX_OP_ADD",
    2: "FUTEX_OP_OR",
    3: "FUTEX_OP_ANDN",
    4: "FUTEX_OP_XOR",
}
FUTEX_WAKE_CMPS: Mapping[int, str] = {
    0: "FUTEX_OP_CMP_EQ",
    1: "FUTEX_OP_CMP_NE",
    2: "FUTEX_OP_CMP_LT",
    3: "FUTEX_OP_CMP_LE",
    4: "FUTEX_OP_CMP_GT",
    5: "FUTEX_OP_CMP_GE",
}
FUTEX_OP_OPARG_SHIFT = 8


def futex_op(op: int) -> list[str]:
    """A futex ``op`` as strace prints it: the command, ``_PRIVATE`` when private, then FUTEX_CLOCK_REALTIME."""
    return value_name(op & 0xFFFF_FFFF, FUTEX_OPS, "FUTEX_").split("|")


def unknown_value(value: int, family: str) -> str:
    """A number no name of its family stands for, as strace prints it: ``0x2a /* P_??? */`` (``family`` ``P_``)."""
    return f"{hex(value)} /* {family}??? */"


def value_name(value: int, table: Mapping[int, str], family: str) -> str:
    """A value of a table of names (not of bits): its name, or :func:`unknown_value` (strace's ``printxval``)."""
    name = table.get(value)
    return name if name is not None else unknown_value(value, family)


def flag_names(value: int, table: Mapping[int, str], unknown: str | None = None) -> list[str]:
    """Split a bit mask into flag names, in the table's order; leftover bits stay visible in hex.

    As strace prints them (``printflags_ex``, src/xlat.c): where no bit has a
    name, the number carries a comment naming the family, ``0x1 /* O_??? */``
    (``unknown`` is that family's prefix, ``O_``).
    """
    names = []
    rest = value
    for bit, name in table.items():
        if bit and rest & bit == bit:  # every bit of a flag made of several (O_SYNC)
            names.append(name)
            rest &= ~bit
    if rest:
        names.append(hex(rest) if names or unknown is None else unknown_value(rest, unknown))
    return names


def flag_value(names: Iterable[str], table: Mapping[int, str]) -> int:
    """Invert :func:`flag_names`: the bit mask that a list of names stands for."""
    by_name = {name: bit for bit, name in table.items()}
    value = 0
    for name in names:
        value |= by_name[name] if name in by_name else int(name.split(" ", 1)[0], 16)
    return value


# -- wait status (include/uapi/linux/wait.h and bits/waitstatus.h) -----------


def decode_wait_status(status: int) -> dict[str, object]:
    """Decode a wait status word into the facts the W* macros extract."""
    low = status & 0x7F
    if low == 0:
        return {"exited": (status >> 8) & 0xFF}
    if status == 0xFFFF:
        return {"continued": True}
    if low == 0x7F:
        return {"stopped": signal_name((status >> 8) & 0xFF)}
    return {"signaled": signal_name(low), "core_dumped": bool(status & 0x80)}


# -- every name a decoded value can hold ---------------------------------------

#: The symbolic constants that can appear in a decoded argument, siginfo or
#: result: what an expectation may compare against, and where a misspelt name
#: finds its nearest real one.
SYMBOLIC_VALUES: frozenset[str] = frozenset(
    {
        *ERRNO_NUMBERS,
        *SIGNAL_NUMBERS,
        *SI_CODES_GENERIC.values(),
        *(name for codes in SI_CODES_BY_SIGNAL.values() for name in codes.values()),
        *CLONE_FLAGS.values(),
        *WAIT_OPTIONS.values(),
        *WAITID_IDTYPES.values(),
        *SA_FLAGS.values(),
        *SPECIAL_HANDLERS.values(),
        *SOCK_FLAGS.values(),
        *FCNTL_COMMANDS.values(),
        *FD_FLAGS.values(),
        *OPEN_FILE_FLAGS.values(),
        *CLOSE_RANGE_FLAGS.values(),
        *ADDRESS_FAMILIES.values(),
        *POLL_EVENTS.values(),
        *EPOLL_EVENTS.values(),
        *FUTEX_COMMANDS.values(),
        *(name + "_PRIVATE" for name in FUTEX_COMMANDS.values()),
        "FUTEX_CLOCK_REALTIME",
    }
)
