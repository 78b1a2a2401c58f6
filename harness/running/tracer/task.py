"""One traced task: the door through which every ptrace call on it goes, and what the loop knows of it.

A task can vanish between any two ptrace calls: a SIGKILL from outside, an
``exit_group`` of another thread of its process, an ``execve`` by another
thread (which kills every other thread, execve(2)).  ptrace(2) then fails
with ESRCH ("the specified process does not exist, or is not currently being
traced by the caller, or is not stopped").  As python-ptrace's
``PtraceProcess`` does, the object that owns a task owns its failures: every
request on a task goes through its :class:`TaskHandle`, and an ESRCH from
any of them becomes one :class:`TaskGone`, which the loop handles in one
place.  Nothing else needs doing then: the task's exit report follows from
``waitpid``, as for any other task that ends.
"""

from __future__ import annotations

import errno as errno_codes
from typing import TYPE_CHECKING

from harness.model import kernel
from harness.model.events import SyscallEntry
from harness.model.record import record
from harness.model.syscalls.structs import SIGACTION_FLAGS_OFFSET, SIGACTION_HANDLER_OFFSET
from harness.running.proc_tasks import signal_masks
from harness.running.tracer import ptrace_ext

if TYPE_CHECKING:
    from harness.model.frames import Stack
    from harness.model.kernel_abi import ForeignAbi


class TaskGone(Exception):
    """A ptrace request found its task gone (ESRCH): its exit report is still to come from waitpid."""

    def __init__(self, tid: int) -> None:
        super().__init__(f"task {tid} is gone")
        self.tid = tid


@record(frozen=False)
class Call:
    """A traced call a task is in: decoded at its entry, finished at its exit."""

    name: str
    raw: tuple[int, ...]
    enter_seq: int
    args: dict[str, object]
    entered_us: int
    """When it was entered, in µs of the run's clock: its event's ``duration`` starts there."""
    injected: bool = False
    python: Stack | None = None
    """The Python stack at entry, when ``--python-frames`` reads it."""
    abi: ForeignAbi | None = None
    """Another ABI's call (``int $0x80``, the x32 bit), named by that ABI and kept raw."""


class TaskHandle:
    """Makes every ptrace request on one task; an ESRCH from any of them raises :class:`TaskGone`.

    Only ESRCH is turned: any other error is a harness bug or a missing
    capability, and keeps its own exception.  Every request of
    :mod:`.ptrace_ext` fails with an ``OSError`` carrying its errno.
    """

    __slots__ = ("pid", "tid")

    def __init__(self, tid: int, pid: int) -> None:
        self.tid = tid
        self.pid = pid

    def _gone(self, error: OSError) -> BaseException:
        return TaskGone(self.tid) if error.errno == errno_codes.ESRCH else error

    def syscall_stop(self, reader: ptrace_ext.SyscallInfoReader) -> ptrace_ext.SyscallStop | None:
        """At a syscall stop: its kind and data, through PTRACE_GET_SYSCALL_INFO."""
        try:
            return reader.read(self.tid)
        except OSError as error:
            raise self._gone(error) from None

    def syscall_stop_from_registers(self, entry: bool) -> ptrace_ext.SyscallStop:
        """At a syscall stop known to be an ``entry`` or an exit: its data, read from the registers."""
        try:
            return ptrace_ext.read_registers_stop(self.tid, entry)
        except OSError as error:
            raise self._gone(error) from None

    def set_return(self, value: int) -> None:
        """At a syscall exit stop: make the call return ``value`` (``-errno`` for an error)."""
        try:
            ptrace_ext.set_return(self.tid, value)
        except OSError as error:
            raise self._gone(error) from None

    def skip_syscall(self) -> None:
        """At a syscall entry stop: make the kernel skip the call."""
        try:
            ptrace_ext.skip_syscall(self.tid)
        except OSError as error:
            raise self._gone(error) from None

    def event_message(self) -> int:
        """At a PTRACE_EVENT stop: the event's message (the new task's tid, the exec'ing thread's former tid)."""
        try:
            return ptrace_ext.event_message(self.tid)
        except OSError as error:
            raise self._gone(error) from None

    def sigreturn_mask(self, stack_pointer: int) -> tuple[int, ...]:
        """At rt_sigreturn's entry: the signal mask it will restore, read from the frame on the stack.

        (:data:`kernel.SIGRETURN_MASK_OFFSET`).  Handed to the catalogue's decoder as the call's one
        register, so that it decodes from registers alone; none where the word cannot be read (the
        kernel's own read will fail too).
        """
        word = self._frame_word(stack_pointer, kernel.SIGRETURN_MASK_OFFSET)
        return () if word is None else (word,)

    def sigreturn_result(self, stack_pointer: int) -> int | None:
        """At rt_sigreturn's entry: the value it will return, read from the signal frame on the stack.

        That is the ``ax`` the kernel restores (:data:`kernel.SIGRETURN_RESULT_OFFSET`).  None where
        the word cannot be read (an unaligned or unmapped stack: the kernel will fail the same read
        and raise SIGSEGV, and the call's exit stop tells what it returned).
        """
        return self._frame_word(stack_pointer, kernel.SIGRETURN_RESULT_OFFSET)

    def _frame_word(self, stack_pointer: int, offset: int) -> int | None:
        """A word of the signal frame at rt_sigreturn's entry; None where it cannot be read (the task not gone)."""
        try:
            return ptrace_ext.peek_data(self.tid, stack_pointer + offset)
        except OSError as error:
            if error.errno == errno_codes.ESRCH:
                raise TaskGone(self.tid) from None
            return None

    def add_handler_flags(self, act: int, flags: int) -> bool:
        """At rt_sigaction's entry: add ``flags`` to the ``sa_flags`` of the ``act`` the program passes.

        Only for a handler (not SIG_DFL or SIG_IGN), and only where the
        struct can be read and written; the kernel reads ``act`` after this
        stop, so it installs the changed one.  Whether it changed anything.
        """
        try:
            handler = ptrace_ext.peek_data(self.tid, act + SIGACTION_HANDLER_OFFSET)
            if handler in kernel.SPECIAL_HANDLERS:
                return False
            old = ptrace_ext.peek_data(self.tid, act + SIGACTION_FLAGS_OFFSET) & 0xFFFF_FFFF_FFFF_FFFF
            if old & flags == flags:
                return False
            ptrace_ext.poke_data(self.tid, act + SIGACTION_FLAGS_OFFSET, old | flags)
        except OSError as error:
            if error.errno == errno_codes.ESRCH:
                raise TaskGone(self.tid) from None
            return False
        return True

    def interrupted_call(self) -> tuple[int, int]:
        """At a signal-delivery stop: the call the task was in (``orig_rax``, -1 if none) and its return (``rax``).

        The kernel decides whether to restart the call after this stop
        (arch/x86/kernel/signal.c): ``rax`` still holds its restart code
        (-ERESTARTSYS...), traced call or not.
        """
        try:
            return ptrace_ext.syscall_registers(self.tid)
        except OSError as error:
            raise self._gone(error) from None

    def siginfo(self) -> bytes | None:
        """At a signal stop: the raw siginfo; None for a group-stop (PTRACE_GETSIGINFO fails with EINVAL)."""
        try:
            return ptrace_ext.siginfo(self.tid)
        except OSError as error:
            if error.errno == errno_codes.EINVAL:
                return None
            raise self._gone(error) from None

    def set_options(self, options: int) -> None:
        """PTRACE_SETOPTIONS: which events stop the task (and the tasks it creates)."""
        try:
            ptrace_ext.set_options(self.tid, options)
        except OSError as error:
            raise self._gone(error) from None

    def resume(self, signum: int, *, to_next_syscall: bool) -> None:
        """Let the task go on, delivering ``signum`` (0: none): to its next syscall stop, or to its next event.

        ``to_next_syscall`` False is PTRACE_CONT: with the seccomp prefilter,
        the filter reports the next traced call's entry.
        """
        try:
            ptrace_ext.resume(self.tid, signum, to_next_syscall)
        except OSError as error:
            raise self._gone(error) from None

    def blocks(self, signum: int) -> bool:
        """Whether the task blocks ``signum`` now (its SigBlk, :mod:`harness.running.proc_tasks`); False once gone."""
        masks = signal_masks(self.pid, self.tid)
        return masks is not None and masks.has(masks.blocked, signum)

    def send(self, signum: int) -> None:
        """Send a signal to this very thread (tgkill(2)), as fault injection does."""
        try:
            ptrace_ext.tgkill(self.pid, self.tid, signum)
        except OSError as error:
            raise self._gone(error) from None


class Task:
    """What the loop knows about one traced task, and its :class:`TaskHandle`."""

    __slots__ = (
        "call",
        "in_syscall",
        "inject_return",
        "injected_signal",
        "new",
        "nr",
        "own_pid_ns",
        "pid",
        "ptrace",
        "recording",
        "restart_block_call",
        "role",
        "tid",
        "watched",
    )

    def __init__(self, tid: int, pid: int, role: str, *, recording: bool, new: bool) -> None:
        self.tid = tid
        self.pid = pid
        self.role = role
        self.ptrace = TaskHandle(tid, pid)
        self.nr = -1
        """The syscall the task is in, traced or not."""
        self.call: Call | None = None
        """The traced call it is in."""
        self.in_syscall = False
        """Between an entry and its exit: for the entry/exit fallback, and for how to resume under the filter."""
        self.recording = recording
        """False for the command before its execve."""
        self.new = new
        """Its first stop (the SIGSTOP of a new tracee) is still to come."""
        self.watched: SyscallEntry | None = None
        """The controller's entry it is in, to report when it is left."""
        self.inject_return: int | None = None
        """What the current (skipped) call must return: -errno for an injected error, or an injected value."""
        self.injected_signal = 0
        """A signal the harness sent, whose delivery is still to come."""
        self.own_pid_ns: bool | None = None
        """Whether it is in the tracer's pid namespace (None: not looked at yet)."""
        self.restart_block_call: str | None = None
        """Its last traced call that ERESTART_RESTARTBLOCK interrupted: the call a restart_syscall resumes."""

    def __repr__(self) -> str:
        return f"<Task {self.tid} of {self.pid} ({self.role}){' in ' + self.call.name if self.call else ''}>"
