"""Facts about the Linux kernel's signals and restarted calls that the harness relies on, written once.

Every table here is data, not code, and names the kernel header or man page
it was read from, so that a reader can check it and a newcomer can learn from
it.  The numbers are those of x86_64 Linux, the architecture the tracer
supports.  These are the facts the analysis reasons with (what a signal does
to a blocking call, who sent it, how a process ended); the tables that only
name the values of a call's arguments for a decoder (clone, fcntl, open,
poll, epoll and futex flags, clocks) are :mod:`harness.model.kernel_flags`'s,
and the syscall ABIs a task may switch to :mod:`harness.model.kernel_abi`'s.

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
from collections.abc import Mapping
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


# -- signal dispositions (sigaction) ----------------------------------------------

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
