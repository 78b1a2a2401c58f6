"""The tracer: one blocking wait loop that follows every task of a command.

Facts about ptrace stops that this loop relies on (ptrace(2)):

* ``waitpid(-1, __WALL | __WNOTHREAD)`` reports every stop of every tracee,
  threads included, in the order they happen; there is no need to poll pids
  (which is what python-ptrace's ``PtraceDebugger`` does, sleeping between
  rounds).  ``__WNOTHREAD`` keeps it to the tracer thread's own children and
  tracees: the run happens in a thread of its own (:mod:`.own_thread`), so
  that the host process's other children are never reaped.
* With PTRACE_O_TRACESYSGOOD a syscall stop reports ``SIGTRAP | 0x80``; it
  is an entry or an exit, which PTRACE_GET_SYSCALL_INFO tells directly.
  Without it, entries and exits alternate per task, starting with an entry.
* With PTRACE_O_TRACEFORK/VFORK/CLONE the creator stops with
  ``SIGTRAP | PTRACE_EVENT_x << 8`` inside fork/clone, and the new task is
  traced from birth, starting with a SIGSTOP that the tracer must swallow.
  The new task's stop can be reported *before* its creator's event: such
  early stops are held until the creator's event names the task.
* Any other stop is a signal-delivery stop, or a group-stop when
  PTRACE_GETSIGINFO fails with EINVAL.  A signal-delivery stop delivers the
  signal only if the tracer passes it to the restarting request: this loop
  always passes it unchanged, so the traced program sees every signal it
  would see untraced.  A group-stop is resumed without a signal.
* A syscall interrupted by a signal shows its kernel-internal restart code
  (ERESTARTSYS...) at its exit stop, before the signal-delivery stop.

This module waits for the stops and tells them apart; what is done at a
syscall stop is :mod:`.syscall_stops`'s, at any other stop of a task's life
:mod:`.task_stops`'s.
"""

from __future__ import annotations

import errno as errno_codes
import os
import signal
import sys
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING

from harness.model import kernel
from harness.model.errors import PtraceNotPermitted
from harness.model.events import Listener
from harness.model.record import record
from harness.model.roles import ROOT_ROLE, RoleBook
from harness.model.syscalls import DEFAULT_SYSCALLS, argument_names, check_syscalls, syscall_number
from harness.model.trace import Trace
from harness.running.tracer import ptrace_ext
from harness.running.tracer.ending import WALL, Ending, reap
from harness.running.tracer.guard import Guard
from harness.running.tracer.handshake import Controller, Handshake
from harness.running.tracer.own_thread import call_in_own_thread
from harness.running.tracer.recorder import EventRecorder
from harness.running.tracer.seccomp_filter import filter_installer
from harness.running.tracer.spawn import exec_error, start_stopped
from harness.running.tracer.syscall_stops import SyscallStops
from harness.running.tracer.task import Task, TaskGone
from harness.running.tracer.task_stops import TaskStops, pid_namespace
from harness.running.tracer.waker import Waker

if TYPE_CHECKING:  # the injection modules are imported by the runs that inject (see Tracer.__init__)
    from harness.model.injection import Injection
    from harness.running.tracer.injection_policy import InjectionPolicy

_SYSCALL_TRAP = signal.SIGTRAP | 0x80
_OPTIONS = (
    ptrace_ext.PTRACE_O_TRACESYSGOOD
    | ptrace_ext.PTRACE_O_TRACEFORK
    | ptrace_ext.PTRACE_O_TRACEVFORK
    | ptrace_ext.PTRACE_O_TRACECLONE
    | ptrace_ext.PTRACE_O_TRACEEXEC
    | ptrace_ext.PTRACE_O_EXITKILL
)


def _has_syscall_info() -> bool:
    """Whether the kernel has PTRACE_GET_SYSCALL_INFO (Linux 5.3), which the seccomp mode needs."""
    release = os.uname().release.split(".")
    try:
        return (int(release[0]), int(release[1].split("-")[0])) >= (5, 3)
    except (IndexError, ValueError):
        return False


@record
class TraceResult:
    """A finished run: its trace, and how the traced command ended."""

    trace: Trace
    exit_code: int | None
    """The command's exit code, when it exited."""
    exit_signal: str | None
    """The signal that killed the command, when it was killed."""
    interrupted_by: str | None = None
    """The signal that made the harness end the run early (SIGINT, SIGTERM)."""
    stops: int = 0
    """How many ptrace stops the tracer handled (each a restart of a stopped task): the cost driver of tracing."""
    exits: int = 0
    """How many ends of tasks ``waitpid`` reported besides: not stops, but a wake-up of the tracer each."""

    @property
    def shell_status(self) -> int:
        """The status a shell would report: the code, or 128 + the killing signal."""
        if self.interrupted_by is not None:
            return 128 + kernel.SIGNAL_NUMBERS[self.interrupted_by]
        if self.exit_signal is not None:
            return 128 + kernel.SIGNAL_NUMBERS[self.exit_signal]
        return self.exit_code or 0


def _note(text: str) -> None:
    """Say on stderr what the Python stack reader could not read (one line each)."""
    print(f"harness: python frames: {text}", file=sys.stderr)


class Tracer(SyscallStops, TaskStops):
    """Runs one command under ptrace and records its trace.

    ``use_syscall_info`` forces (True) or forbids (False) the use of
    PTRACE_GET_SYSCALL_INFO; by default it is used where the kernel has it.
    ``stdio`` redirects the command's stdin, stdout and stderr to the given
    descriptors (None keeps the harness's own).  ``controller`` may hold
    tasks at chosen syscall entries (see :class:`Controller`).  ``seccomp``
    (the default) asks for the seccomp-BPF prefilter (see :mod:`.seccomp_filter`);
    False, or where it cannot be used, every call is stepped and
    :attr:`uses_seccomp` is False.
    ``injections`` are ``--inject`` specs; ``injection_policy`` is any other
    :class:`InjectionPolicy` (the specs' policy is used when it is None).
    ``python_frames`` reads the CPython stack at each syscall entry, signal
    delivery and spawn (see :mod:`.python_stacks`); ``note`` receives what
    it could not read (stderr by default).

    The parts: this class waits and dispatches each stop, which its bases
    handle (:class:`SyscallStops` a syscall stop, :class:`TaskStops` any
    other); a :class:`Task` holds what is known of a task and makes its
    ptrace requests; the :class:`EventRecorder` builds the events; the
    :class:`Handshake` speaks with the controller; the injection policy
    decides, the loop acts.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        syscalls: Collection[str] = DEFAULT_SYSCALLS,
        listener: Listener | None = None,
        env: Mapping[str, str] | None = None,
        use_syscall_info: bool | None = None,
        stdio: Sequence[int | None] = (None, None, None),
        controller: Controller | None = None,
        seccomp: bool = True,
        injections: Sequence[Injection] = (),
        injection_policy: InjectionPolicy | None = None,
        python_frames: bool = False,
        note: Callable[[str], None] | None = None,
        own_process_group: bool = False,
    ) -> None:
        watched = tuple(controller.watched) if controller else ()
        syscalls = tuple(dict.fromkeys([*syscalls, *(injection.call for injection in injections)]))
        check_syscalls(syscalls)
        check_syscalls(watched)
        self._handshake = Handshake(controller)
        self._deferred: list[int] = []  # tasks to resume once the current stop is handled
        self._thread: int | None = None  # the tracer's thread, once the run started
        self._waker: Waker | None = None  # how another thread wakes the tracer's wait (.waker)
        seccomp_usable = seccomp and use_syscall_info is not False and _has_syscall_info()
        self._guard = Guard.here()
        guarded = self._guard.filter_rules()
        self._install_filter = filter_installer({*syscalls, *watched}, guarded) if seccomp_usable else None
        self._stdio = tuple(stdio)
        self._note = note
        self._foreign_noted: set[int] = set()  # tasks whose stray foreign call was said
        self._guard_noted: set[int] = set()  # tasks told their call on the harness failed
        self._own_process_group = own_process_group
        self._argv = list(argv)
        self._env = dict(os.environ if env is None else env)
        self._traced = {syscall_number(name): (name, argument_names(name)) for name in syscalls}
        self._traced_names = frozenset(syscalls)  # a foreign call is recorded by its own ABI's name
        self._use_syscall_info = use_syscall_info
        self._info = ptrace_ext.SyscallInfoReader()
        self._roles = RoleBook()
        self._tasks: dict[int, Task] = {}
        self._early: dict[int, int] = {}  # tid -> status of a new task's stop before its creator's event
        self._seen: set[int] = set()  # every tid traced, for the final reaping
        self._stacks = None
        if python_frames:  # its ELF and CPython readers are imported only for the runs that use them
            from harness.running.tracer.python_stacks import PythonStacks

            self._stacks = PythonStacks(note or _note)
        self._recorder = EventRecorder(listener, os.getpid(), self._stacks)
        self._ending = Ending()
        self._stops = 0
        self._exits = 0
        self._handled = 0  # reports (and queued resumptions) handled: see caught_up
        self._idle = False
        self._pid_namespace = pid_namespace("self")
        self._root = 0
        self._root_status = 0
        self._error_pipe: int | None = None
        self._injection: InjectionPolicy | None = injection_policy
        if injection_policy is None and injections:
            from harness.running.tracer.injection_policy import SpecInjections

            self._injection = SpecInjections(injections)

    # -- the run ------------------------------------------------------------

    def run(self) -> TraceResult:
        """Trace the command until its last task ends; the trace so far survives Ctrl-C.

        The command is started, traced and waited for in a thread of its own
        (:mod:`.own_thread`), which waits for nothing else.
        """
        with ptrace_ext.child_subreaper(), self._ending.on_signals(self._kill_all):
            root_status = call_in_own_thread(self._run, self._kill_all)
        stop_signal = self._ending.stop_signal
        interrupted = kernel.signal_name(stop_signal) if stop_signal else None
        code = os.WEXITSTATUS(root_status) if os.WIFEXITED(root_status) else None
        killed = kernel.signal_name(os.WTERMSIG(root_status)) if os.WIFSIGNALED(root_status) else None
        trace = Trace.recorded(self._recorder.events)
        return TraceResult(trace, code, killed, interrupted, self._stops, self._exits)

    def _run(self) -> int:
        self._thread = threading.get_ident()
        # Only a controller lets tasks go from another thread (the stall watch): a plain trace starts no waker.
        self._waker = Waker() if self._handshake.controlled else None
        self._recorder.start_clock()
        try:
            root, self._error_pipe = start_stopped(
                self._argv, self._env, self._stdio, self._install_filter, own_process_group=self._own_process_group
            )
        except BaseException:
            if self._waker is not None:
                self._waker.close()
            raise
        self._root = root
        self._seen.add(root)
        try:
            self._attach_root(root)
            return self._loop()
        finally:
            self._kill_all()
            if self._waker is not None:
                self._waker.close()
            reap(self._seen)
            if self._stacks is not None:
                self._stacks.close()
            if self._error_pipe is not None:
                os.close(self._error_pipe)
                self._error_pipe = None

    def _attach_root(self, root: int) -> None:
        _, status = os.waitpid(root, WALL)
        if not os.WIFSTOPPED(status):
            self._raise_exec_error()  # the child said why: TRACEME refused, most often
            raise PtraceNotPermitted(
                "the command could not be started under ptrace "
                f"(it ended with status {status:#x} before its first stop)"
            )
        task = self._tasks[root] = Task(root, root, ROOT_ROLE, recording=False, new=False)
        if self._ending.killing:  # the run was ended before it began (Ctrl-C, a time limit)
            self._kill_all()
        try:
            seccomp = ptrace_ext.PTRACE_O_TRACESECCOMP if self._install_filter else 0
            task.ptrace.set_options(_OPTIONS | seccomp)
        except TaskGone:
            return  # killed before its first resumption (the run ended at once): the loop collects its end
        except OSError as error:
            if error.errno == errno_codes.EPERM:
                raise PtraceNotPermitted(
                    "ptrace is not permitted here (EPERM): run as root, grant CAP_SYS_PTRACE "
                    "(docker run --cap-add=SYS_PTRACE), or lower kernel.yama.ptrace_scope"
                ) from None
            raise
        if self._use_syscall_info is None:
            self._use_syscall_info = self._info.available(root)
        self._deferred.append(root)  # resumed by the loop, where a vanished task is handled

    def _loop(self) -> int:
        """Handle reports until no traced task is left; return the command's wait status."""
        deferred, ending, wait = self._deferred, self._ending, self._ending.wait
        waker = self._waker.pid if self._waker is not None else None
        while self._tasks:
            while deferred:
                self._survive(deferred.pop(0), None)
                self._handled += 1
            if ending.must_kill:
                self._kill_all()
            self._idle = True
            try:
                tid, status = wait()
            except ChildProcessError:  # nothing left to wait for: every task's end was reported
                break
            finally:
                self._idle = False
            if tid == waker and self._waker is not None:  # another thread queued a resumption: done at the top
                self._waker.rearm()
                continue
            self._survive(tid, status)
            self._handled += 1
        return self._root_status

    def _survive(self, tid: int, status: int | None) -> None:
        """Handle a report (``status``), or a queued resumption (None), surviving a vanished task.

        Resumptions are queued for the root once attached, for a new task
        whose first stop came before its creator's event, and for a task the
        controller let go.

        This is the one place a :class:`TaskGone` is handled.  A task may
        vanish between its stop and any request on it (a SIGKILL from
        outside, another thread's exit_group or execve): the request fails
        with ESRCH, and nothing more is to be done for it now, because its
        exit report follows from waitpid like any other task's.  Each
        request in here is on the task ``tid`` only (resumptions of other
        tasks are queued), so a vanished task never leaves another stopped.
        """
        try:
            if status is None:
                task = self._tasks.get(tid)
                if task is not None:
                    self._resume(task, 0)
            else:
                self._on_report(tid, status)
        except TaskGone:
            pass

    def _on_report(self, tid: int, status: int) -> None:
        task = self._tasks.get(tid)
        if os.WIFSTOPPED(status):
            self._stops += 1
            if task is None:
                self._early[tid] = status
            else:
                self._on_stop(task, status)
            return
        self._exits += 1
        if task is None:  # a zombie re-parented to us, whose exit we already saw
            self._early.pop(tid, None)
            return
        if tid == self._root:
            self._root_status = status
            self._raise_exec_error()
        self._on_exit(task, status)

    def _raise_exec_error(self) -> None:
        """The command ended before its exec: say why, from the child's error pipe."""
        if self._error_pipe is None:
            return
        pipe, self._error_pipe = self._error_pipe, None
        failure = exec_error(pipe, self._argv)
        if failure is not None:
            raise failure

    # -- stops --------------------------------------------------------------

    def _on_stop(self, task: Task, status: int) -> None:
        stopsig = os.WSTOPSIG(status)
        if stopsig == _SYSCALL_TRAP:
            self._on_syscall(task)
        elif stopsig == signal.SIGTRAP and status >> 16 == ptrace_ext.PTRACE_EVENT_SECCOMP:
            self._on_syscall(task)  # a traced call's entry, reported by the filter
        elif stopsig == signal.SIGTRAP and status >> 16:
            self._on_ptrace_event(task, status >> 16)
        elif task.new and stopsig == signal.SIGSTOP:
            task.new = False
            self._resume(task, 0)
        else:
            self._on_signal(task, stopsig)

    def release(self, tid: int) -> None:
        """Let a task held by the controller go on: from the controller's methods, or from another thread.

        The task is resumed once the stop the tracer is handling is done; asked from another thread
        (the stall watch), once the waker has made the tracer's wait return.
        """
        if self._handshake.release(tid):
            self._deferred.append(tid)
            if threading.get_ident() != self._thread and self._waker is not None:
                self._waker.wake()

    def tasks(self) -> frozenset[int]:
        """The tasks traced now: for a watch in another thread (a snapshot, built while the GIL is held)."""
        return frozenset(self._tasks)

    def caught_up(self) -> int | None:
        """How many reports the tracer has handled, when it waits for the next one now; None while it is busy.

        For a watch in another thread: equal answers before and after a look
        at the tasks in ``/proc`` mean every stop before the look was handled
        (its events reached the listener) and none came during it.
        """
        return self._handled if self._idle else None

    def held(self) -> frozenset[int]:
        """The tasks the controller holds now."""
        return self._handshake.held()

    def abort(self) -> None:
        """End the run from another thread (a time limit): kill every traced task."""
        self._kill_all()

    # -- helpers ------------------------------------------------------------

    @property
    def uses_seccomp(self) -> bool:
        """Whether the seccomp prefilter is in use (asked for, and available here)."""
        return self._install_filter is not None

    def _kill_all(self) -> None:
        """SIGKILL every task still traced: nothing of the run may outlive it."""
        self._ending.kill([*self._tasks, *self._early])
