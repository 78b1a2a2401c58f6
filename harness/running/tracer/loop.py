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
"""

from __future__ import annotations

import contextlib
import errno as errno_codes
import os
import signal
import sys
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.model import kernel
from harness.model.decode import ENTRY_READS_MEMORY, EXIT_READS_MEMORY
from harness.model.errors import PtraceNotPermitted, UnsupportedArchitecture
from harness.model.events import Listener
from harness.model.roles import ROOT_ROLE, RoleBook, process_role
from harness.model.syscalls import DEFAULT_SYSCALLS, argument_names, check_syscalls, syscall_name, syscall_number
from harness.model.trace import Trace
from harness.running.tracer import ptrace_ext
from harness.running.tracer.ending import WALL, Ending, reap
from harness.running.tracer.guard import NUMBERS as GUARDED_CALLS
from harness.running.tracer.guard import Guard
from harness.running.tracer.handshake import Controller, Handshake
from harness.running.tracer.own_thread import call_in_own_thread
from harness.running.tracer.recorder import EventRecorder
from harness.running.tracer.seccomp_filter import filter_installer
from harness.running.tracer.spawn import exec_error, start_stopped
from harness.running.tracer.task import Call, Task, TaskGone
from harness.running.tracer.waker import Waker

if TYPE_CHECKING:  # the injection modules are imported by the runs that inject (see Tracer.__init__)
    from harness.model.injection import Injection
    from harness.running.tracer.injection_policy import InjectionAction, InjectionPolicy

_SYSCALL_TRAP = signal.SIGTRAP | 0x80
_RT_SIGRETURN = syscall_number("rt_sigreturn")
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


@dataclass(frozen=True, slots=True)
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


def _say(text: str) -> None:
    print(f"harness: {text}", file=sys.stderr)


def _pid_namespace(tid: int | str) -> int | None:
    """The pid namespace a task is in (the inode of /proc/TID/ns/pid, namespaces(7)); None when unreadable."""
    try:
        return os.stat(f"/proc/{tid}/ns/pid").st_ino
    except OSError:
        return None


def _read_proc(tid: int, name: str) -> bytes:
    try:
        with open(f"/proc/{tid}/{name}", "rb") as stream:
            return stream.read()
    except OSError:
        return b""


def _open_fds(pid: int) -> tuple[int, ...] | None:
    """The descriptors a process holds now (``/proc/PID/fd``), None where they cannot be read."""
    try:
        return tuple(sorted(int(name) for name in os.listdir(f"/proc/{pid}/fd")))
    except (OSError, ValueError):
        return None


class Tracer:
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

    The parts: this class waits and dispatches each stop; a :class:`Task`
    holds what is known of a task and makes its ptrace requests; the
    :class:`EventRecorder` builds the events; the :class:`Handshake` speaks
    with the controller; the injection policy decides, the loop acts.
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
        self._pid_namespace = _pid_namespace("self")
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

    # Resume first, record after.  A stop the tracer needs nothing more from (no decision to take,
    # no memory to read) is restarted as soon as its registers are read, and decoded, numbered and
    # recorded while the task runs on: the task does not wait for the Python side of the work.  The
    # order of the trace is unchanged, since this one thread handles the stops one after another.
    # Where the task must stay stopped is decided in one place, :meth:`_held_at_entry`,
    # :meth:`_held_at_exit` and :meth:`_held_at_signal`; anything that reads the tracee at a
    # recorded stop (its memory, more registers) belongs there.

    def _held_at_entry(self, task: Task, nr: int, name: str | None) -> bool:
        """Whether a recorded task's entry of call ``nr`` (``name`` when traced) needs the task stopped.

        It does when the controller may hold it there, when an injection may
        act on it, or when recording the traced call reads its memory: to
        decode its inputs, or for its Python stack (``--python-frames``).
        """
        return (
            nr in self._handshake.names
            or self._injection is not None
            or (name is not None and (name in ENTRY_READS_MEMORY or self._stacks is not None))
        )

    @staticmethod
    def _held_at_exit(task: Task, call: Call | None) -> bool:
        """Whether a recorded task's syscall exit needs the task stopped.

        It does when an injected error must be written into its result, when
        the controller is told the watched call returned (it may act on that
        before the task goes on), or when decoding the outputs reads memory.
        """
        return (
            task.inject_return is not None
            or task.watched is not None
            or (call is not None and call.name in EXIT_READS_MEMORY)
        )

    def _on_syscall(self, task: Task) -> None:
        """Record a syscall stop, and resume the task unless the controller holds it there."""
        try:
            if self._use_syscall_info:
                stop = task.ptrace.syscall_stop(self._info)
                if stop is None:
                    self._resume(task, 0)
                    return
            else:
                stop = task.ptrace.syscall_stop_from_registers(not task.in_syscall)
        except ptrace_ext.ForeignCall as foreign:
            from harness.running.tracer.elf_symbols import is_x86_64_program  # only when a foreign call comes

            if not is_x86_64_program(f"/proc/{task.tid}/exe"):
                raise self._refused(task, foreign.abi) from None
            self._pass_foreign_call(task, foreign)
            return
        kind, nr, args, ret = stop
        if kind == ptrace_ext.PTRACE_SYSCALL_INFO_ENTRY:
            task.in_syscall = True
            task.nr = nr
            if not task.recording:
                self._resume(task, 0)
                return
            if nr == _RT_SIGRETURN and nr in self._traced:
                args = self._sigreturn_args(task)
            if nr in GUARDED_CALLS and self._refuse_if_harmful(task, nr, args):
                return
            traced = self._traced.get(nr)
            if not self._held_at_entry(task, nr, traced[0] if traced else None):
                result = self._result_at_entry(task, nr) if traced is not None else None
                try:
                    self._resume(task, 0)
                finally:  # also when the task is gone: its entry happened, its end is still to come
                    if traced is not None:
                        task.call = self._recorder.enter(task, nr, traced[0], traced[1], args)
                        if result is not None:
                            finished, task.call = task.call, None
                            self._recorder.finish(task, finished, result)
                return
            if traced is not None:
                action = self._injection.at_entry(task.tid, task.role, nr) if self._injection is not None else None
                rewritten = action is not None and action.before_decoding and self._rewrite(task, args, action)
                task.call = self._recorder.enter(task, nr, traced[0], traced[1], args)
                if rewritten:
                    task.call.injected = True
                elif action is not None and not action.before_decoding:
                    self._inject(task, action)
            offered = nr in self._handshake.names and not self._injection_ends_the_call(task)
            if offered and self._handshake.ask(task, nr, self._recorder.seq, args):
                return  # the controller holds it: resumed by a release
            self._resume(task, 0)
            return
        task.in_syscall = False
        call, task.call = task.call, None
        if self._injection is not None and call is not None:
            self._injection.at_exit(task.tid, task.nr, ret)
        if not self._held_at_exit(task, call):
            try:
                self._resume(task, 0)
            finally:
                if call is not None:
                    self._recorder.finish(task, call, ret)
            return
        if task.inject_return is not None:
            ret, task.inject_return = task.inject_return, None
            task.ptrace.set_return(ret)
        if call is not None:
            self._recorder.finish(task, call, ret)
        self._handshake.left(task)
        self._resume(task, 0)

    def _sigreturn_args(self, task: Task) -> tuple[int, ...]:
        """rt_sigreturn's "arguments": the signal mask its frame restores, which strace shows (it takes none)."""
        if self._use_syscall_info:
            return task.ptrace.sigreturn_mask(self._info.stack_pointer())
        try:
            return task.ptrace.sigreturn_mask(ptrace_ext.stack_pointer(task.tid))
        except OSError:
            return ()

    def _result_at_entry(self, task: Task, nr: int) -> int | None:
        """The result of a traced call already known at its entry, so that its exit stop can go: rt_sigreturn's.

        rt_sigreturn returns the ``ax`` saved in the signal frame, a word at a
        fixed distance from the stack pointer at its entry
        (:data:`kernel.SIGRETURN_RESULT_OFFSET`).  Read while the task is
        stopped at the entry, it is what the exit stop would show, and the
        kernel reads it right after: only another thread writing into this
        thread's signal frame in between could make them differ.  So under the
        prefilter (the task goes on with PTRACE_CONT; stepping every call, the
        exit stop comes anyway) the call is finished at its entry: one stop
        fewer for every handler that returns.  The caller asks only for an
        entry nothing holds (no controller watching it, no injection), and
        None (the word unreadable, the task gone) keeps the exit stop.
        """
        if nr != _RT_SIGRETURN or self._install_filter is None or not self._use_syscall_info:
            return None
        try:
            result = task.ptrace.sigreturn_result(self._info.stack_pointer())
        except TaskGone:
            return None
        if result is not None:
            task.in_syscall = False  # resumed with PTRACE_CONT: to the next traced call, past this one's exit
        return result

    def _pass_foreign_call(self, task: Task, foreign: ptrace_ext.ForeignCall) -> None:
        """A 64-bit program's call through another ABI (one ``int $0x80``): recorded by that ABI's name, kept raw.

        Its number means another call there, named as strace names it, and
        recorded when that name is traced; its arguments stay the raw
        registers, since the catalogue decodes x86_64 calls only (the other
        ABIs' structures have other layouts).  The kernel runs it (or fails
        an x32 one with ENOSYS) all the same, and its exit stop finishes it.
        The user is told once per task that its program changed ABI.
        """
        from harness.model.syscalls.i386 import foreign_call_name  # only when a foreign call comes

        abi, name = foreign.abi, foreign_call_name(foreign.abi, foreign.nr)
        task.in_syscall, task.nr, task.call = True, -1, None
        recorded = task.recording and name in self._traced_names
        if task.tid not in self._foreign_noted:  # said before the call's line
            self._foreign_noted.add(task.tid)
            how = "int $0x80" if abi == "i386" else "the x32 bit, 0x40000000" if abi == "x32" else "another ABI"
            kept = "recorded by that ABI's name, its arguments raw" if recorded else "not traced"
            (self._note or _say)(
                f"{task.role} (pid {task.pid}) made an {abi} call, {name}, from a 64-bit program ({how}): {kept}, "
                "as strace does; the catalogue decodes x86_64 calls only"
            )
        if recorded and abi in ("i386", "x32"):
            task.call = self._recorder.enter_foreign(task, name, abi, foreign.args)
        self._resume(task, 0)

    def _refuse_if_harmful(self, task: Task, nr: int, args: tuple[int, ...]) -> bool:
        """Fail with EPERM, at its entry, a call that would signal, trace or change the harness (:mod:`.guard`).

        Whether it did.  The call is skipped as an injected error is; traced,
        it is recorded as failed and injected.  The user is told once per
        task, before the call's line.
        """
        harm = self._guard.refusal(task.pid, nr, args)
        if harm is None:
            return False
        if task.tid not in self._guard_noted:
            self._guard_noted.add(task.tid)
            (self._note or _say)(
                f"{task.role} (pid {task.pid}) called {syscall_name(nr)} to {harm}: it fails with EPERM, as every "
                "call of a traced process on the harness does, so that nothing traced can stop or end the run"
            )
        traced = self._traced.get(nr)
        if traced is not None:
            task.call = self._recorder.enter(task, nr, traced[0], traced[1], args)
            task.call.injected = True
        task.ptrace.skip_syscall()
        task.inject_return = -errno_codes.EPERM
        self._resume(task, 0)
        return True

    def _refused(self, task: Task, abi: kernel.SyscallAbi) -> UnsupportedArchitecture:
        """A task makes a call of another ABI: the run ends (the tree is killed), never with a guessed trace."""
        try:
            program = os.readlink(f"/proc/{task.tid}/exe")
        except OSError:
            program = self._argv[0]
        return UnsupportedArchitecture(
            f"{program}: {kernel.ABI_NAMES[abi]}: the harness traces x86_64 programs only (the syscall numbers "
            "of other ABIs differ, so its trace would be wrong); build it for x86_64"
        )

    def _inject(self, task: Task, action: InjectionAction) -> None:
        """Do what the injection policy said for this entry: skip the call for an error, or send a signal now."""
        from harness.running.tracer.injection_policy import SendSignal, SkipAndReturn  # once there is a policy

        if isinstance(action, SkipAndReturn):
            task.ptrace.skip_syscall()
            task.inject_return = action.ret
            if task.call is not None:
                task.call.injected = True
        elif isinstance(action, SendSignal):
            task.injected_signal = action.signum
            task.ptrace.send(action.signum)

    @staticmethod
    def _rewrite(task: Task, args: tuple[int, ...], action: InjectionAction) -> bool:
        """Change what the call reads before the kernel (and the event's decoder) reads it: a handler's flags.

        Decoded after the change, the event shows what the kernel installs, so
        that the analysis reads the disposition in force; the event is marked injected.  Whether it changed.
        """
        from harness.running.tracer.injection_policy import AddHandlerFlags

        assert isinstance(action, AddHandlerFlags)
        return len(args) > 1 and bool(args[1]) and task.ptrace.add_handler_flags(args[1], action.flags)

    @staticmethod
    def _injection_ends_the_call(task: Task) -> bool:
        """Whether an injection ends the call the task enters before it can wait: such an entry is no wait.

        It is not offered to the controller, for either of two reasons.  An
        injected error skips the call, which returns at once: a controller
        that took it for a wait would let a held child exit while the program
        is elsewhere, on some runs only.  A signal the harness sent interrupts
        the call: a controller that let a client connect now would race the
        signal, because accept takes a queued connection without waiting,
        hence without looking at pending signals (inet_csk_accept,
        net/ipv4/inet_connection_sock.c).  The task is resumed, the call sees
        the signal and returns ERESTARTSYS, the signal-delivery stop clears
        ``injected_signal``, and the call's next entry is offered as usual.
        The delivery stop always comes, even for an ignored signal: a traced
        task's signals are never dropped as ignored (sig_ignored,
        kernel/signal.c).  A blocked signal interrupts nothing, so it does not
        defer the controller.
        """
        if task.inject_return is not None:
            return True
        return task.injected_signal != 0 and not task.ptrace.blocks(task.injected_signal)

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

    def _on_ptrace_event(self, task: Task, event: int) -> None:
        if event in (ptrace_ext.PTRACE_EVENT_FORK, ptrace_ext.PTRACE_EVENT_VFORK, ptrace_ext.PTRACE_EVENT_CLONE):
            self._on_spawn(task, task.ptrace.event_message(), event)
        else:
            if event == ptrace_ext.PTRACE_EVENT_EXEC:
                self._on_exec(task, task.ptrace.event_message())
            self._resume(task, 0)

    def _returns_at_event(self, task: Task, event: int) -> bool:
        """Whether the creator's fork or clone result is known exactly at its event stop, making its exit stop needless.

        At PTRACE_EVENT_FORK and PTRACE_EVENT_CLONE the new task exists and
        the call can no longer fail: kernel_clone (kernel/fork.c) has written
        CLONE_PARENT_SETTID's tid and reports the event just before it returns
        the new task's id.  The event's message is that id in the tracer's pid
        namespace, the result the caller gets is the id in its own: the same
        number when both share a namespace.  So when the task is resumed with
        PTRACE_CONT (the prefilter is in use; without it, every stop is needed)
        the call is finished at this stop.  Not for a vfork (PTRACE_EVENT_VFORK,
        clone with CLONE_VFORK): its caller sleeps until the child execs or
        exits, and the call's end belongs after the child's first events; not
        for a call the controller watches, told when the call returns; and not
        for an injected error, which skips the call (no event then anyway).
        """
        if event == ptrace_ext.PTRACE_EVENT_VFORK or self._install_filter is None:
            return False
        if task.call is None or task.watched is not None or task.inject_return is not None:
            return False
        if task.own_pid_ns is None:
            namespace = _pid_namespace(task.tid)
            task.own_pid_ns = namespace is not None and namespace == self._pid_namespace
        return task.own_pid_ns

    def _on_spawn(self, task: Task, child_tid: int, event: int) -> None:
        pid = child_tid
        if event == ptrace_ext.PTRACE_EVENT_CLONE:
            for line in _read_proc(child_tid, "status").splitlines():
                if line.startswith(b"Tgid:"):
                    pid = int(line.split()[1])
                    break
        thread = pid != child_tid
        role = self._roles.child(process_role(task.role), thread=thread)
        self._seen.add(child_tid)
        early = self._early.pop(child_tid, None)
        child = self._tasks[child_tid] = Task(child_tid, pid, role, recording=True, new=early is None)
        if self._ending.killing:  # born while the run is being ended: it must not run on
            with contextlib.suppress(ProcessLookupError):
                os.kill(child_tid, signal.SIGKILL)
        elif early is not None:  # its first SIGSTOP came before this event: let it go once this stop is done
            self._deferred.append(child_tid)
        via = self._spawning_call(task)
        finished = None
        if self._returns_at_event(task, event):
            finished, task.call, task.in_syscall = task.call, None, False
        # The spawn's Python stack, and what the call wrote back (clone's parent_tid), are read from the stopped
        # task: once it runs on, it may have changed the memory the tids were written to.
        if self._stacks is not None or (finished is not None and finished.name in EXIT_READS_MEMORY):
            self._recorder.spawn(task, child, via, thread=thread)
            if finished is not None:
                self._recorder.finish(task, finished, child_tid)
            self._resume(task, 0)
            return
        try:
            self._resume(task, 0)
        finally:
            self._recorder.spawn(task, child, via, thread=thread)
            if finished is not None:
                self._recorder.finish(task, finished, child_tid)

    @staticmethod
    def _spawning_call(task: Task) -> str:
        """The call that made a new task: the one whose entry was seen, or else the one in ``orig_rax``.

        Under the prefilter a fork that is not traced has no entry stop, so
        ``task.nr`` is the last traced call's; the kernel keeps the number in
        ``orig_rax`` at the event stop.  A creator gone meanwhile (SIGKILL)
        leaves the last call seen, rather than no spawn event at all.
        """
        if task.in_syscall:
            return syscall_name(task.nr)
        try:
            return syscall_name(task.ptrace.interrupted_call()[0])
        except TaskGone:
            return syscall_name(task.nr)

    def _on_exec(self, task: Task, former_tid: int) -> None:
        superseded = former_tid != task.tid and former_tid in self._tasks
        if superseded:
            self._supersede(task, self._tasks.pop(former_tid))
        if task.tid == self._root and self._error_pipe is not None:
            os.close(self._error_pipe)  # exec succeeded: the pipe has nothing to say
            self._error_pipe = None
        task.recording = True
        # The exec stop sits inside execve; its exit stop follows, and is needed when stepping every
        # call (entries and exits alternate), or when the call is recorded or watched.  Under the
        # prefilter an execve outside the set had no entry stop, and its exit stop would show nothing.
        task.in_syscall = self._install_filter is None or task.call is not None or task.watched is not None
        argv = tuple(arg.decode(errors="replace") for arg in _read_proc(task.tid, "cmdline").split(b"\0")[:-1])
        try:
            filename = os.readlink(f"/proc/{task.tid}/exe")
        except OSError:
            filename = argv[0] if argv else "?"
        self._recorder.exec(task, filename, argv, _open_fds(task.pid), former_tid if superseded else None)

    def _supersede(self, leader: Task, caller: Task) -> None:
        """A thread other than the leader exec'd: the leader's task goes on as that thread.

        execve(2), "execve(2) under ptrace" in ptrace(2): the kernel ends
        every other thread, gives the caller the leader's tid and reports
        PTRACE_EVENT_EXEC on that tid, with the caller's former tid as the
        event's message (Linux 3.0).  Neither the leader's thread nor the
        caller's former tid ever reports an exit, so both end here: the
        leader's call, if it was in one, never returns (strace: ``= ?``, then
        ``+++ superseded by execve +++``), and the caller's execve returns 0,
        which a PTRACE_EVENT_EXEC means.  The leader's Task keeps its role and
        the process goes on under it with the caller's state.
        """
        if leader.call is not None:
            self._recorder.finish(leader, leader.call, None)
        if caller.call is not None:
            self._recorder.finish(caller, caller.call, 0)
        for gone in (leader, caller):
            self._handshake.left(gone)
            self._handshake.forget(gone.tid)
        if caller.tid in self._deferred:
            self._deferred.remove(caller.tid)
        leader.call, leader.nr = None, caller.nr
        leader.inject_return, leader.injected_signal = None, caller.injected_signal

    def _on_signal(self, task: Task, stopsig: int) -> None:
        raw = task.ptrace.siginfo()
        if raw is None:  # a group-stop: resume it, as strace does without SEIZE
            self._resume(task, 0)
            return
        interrupted = task.ptrace.interrupted_call() if task.recording else None
        if self._held_at_signal(task):
            self._record_signal(task, stopsig, raw, interrupted)
            self._resume(task, stopsig)
            return
        try:
            self._resume(task, stopsig)
        finally:  # what the stop says is read: decode and record it while the task runs on
            self._record_signal(task, stopsig, raw, interrupted)

    def _held_at_signal(self, task: Task) -> bool:
        """Whether a signal-delivery stop needs the task stopped once its siginfo and registers are read.

        Only to read its Python stack (``--python-frames``), which the delivery's event carries.
        """
        return self._stacks is not None and task.recording

    def _record_signal(self, task: Task, stopsig: int, raw: bytes, interrupted: tuple[int, int] | None) -> None:
        if interrupted is not None:
            self._recorder.signal(task, stopsig, raw, interrupted)
        if stopsig == task.injected_signal:  # delivered, even merged with a real one: the controller may ask again
            task.injected_signal = 0

    def _on_exit(self, task: Task, status: int) -> None:
        del self._tasks[task.tid]
        if task.tid in self._deferred:
            self._deferred.remove(task.tid)
        self._handshake.forget(task.tid)
        if not task.recording:
            return
        if task.call is not None:  # exit_group, or killed inside a call: it never returns
            self._recorder.finish(task, task.call, None)
            task.call = None
        self._handshake.left(task)
        self._recorder.exit(task, status)

    # -- helpers ------------------------------------------------------------

    @property
    def uses_seccomp(self) -> bool:
        """Whether the seccomp prefilter is in use (asked for, and available here)."""
        return self._install_filter is not None

    def _resume(self, task: Task, signum: int) -> None:
        """Let a task go on: to its next syscall stop, or with the filter, to its next traced call.

        With the filter, a task inside a traced call is resumed with
        PTRACE_SYSCALL, to stop at that call's exit; any other with PTRACE_CONT.
        """
        task.ptrace.resume(signum, to_next_syscall=self._install_filter is None or task.in_syscall)

    def _kill_all(self) -> None:
        """SIGKILL every task still traced: nothing of the run may outlive it."""
        self._ending.kill([*self._tasks, *self._early])
