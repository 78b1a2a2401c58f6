"""The tracer: one blocking wait loop that follows every task of a command.

Facts about ptrace stops that this loop relies on (ptrace(2)):

* ``waitpid(-1, __WALL)`` reports every stop of every tracee, threads
  included, in the order they happen; there is no need to poll pids (which
  is what python-ptrace's ``PtraceDebugger`` does, sleeping between rounds).
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
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Protocol

from ptrace import PtraceError
from ptrace.binding import func as binding

from harness.model import kernel
from harness.model.decode import REGISTER_ONLY, decode_entry, decode_exit, decode_siginfo
from harness.model.errors import PtraceNotPermitted
from harness.model.events import (
    Event,
    ExecEvent,
    ExitEvent,
    Listener,
    SignalEvent,
    SpawnEvent,
    SyscallEntry,
    SyscallEvent,
)
from harness.model.injection import Injection
from harness.model.roles import ROOT_ROLE, RoleBook, process_role
from harness.model.syscalls import DEFAULT_SYSCALLS, argument_names, check_syscalls, syscall_name, syscall_number
from harness.model.trace import Trace
from harness.running.tracer import ptrace_ext
from harness.running.tracer.seccomp_filter import filter_installer
from harness.running.tracer.spawn import exec_error, start_stopped

#: How many distinct decoded argument sets the tracer keeps for reuse (a few per call a server makes).
_DECODED_CACHE_SIZE = 4096
_WALL = binding.THREAD_TRACE_FLAGS  # __WALL: wait for threads and clones too
_SYSCALL_TRAP = signal.SIGTRAP | 0x80
_OPTIONS = (
    binding.PTRACE_O_TRACESYSGOOD
    | binding.PTRACE_O_TRACEFORK
    | binding.PTRACE_O_TRACEVFORK
    | binding.PTRACE_O_TRACECLONE
    | binding.PTRACE_O_TRACEEXEC
    | ptrace_ext.PTRACE_O_EXITKILL
)


class Controller(Protocol):
    """Decides, at chosen syscall entries, whether a task waits there.

    This is how a run is made deterministic through ptrace rather than by
    sleeping: a held task stays in its syscall-entry stop until
    :meth:`Tracer.release` lets it go.  Both methods run in the tracer's
    thread, between a stop and the task's resumption.
    """

    @property
    def watched(self) -> Collection[str]:
        """The calls whose entries :meth:`hold` is asked about, traced or not."""
        ...

    def hold(self, entry: SyscallEntry) -> bool:
        """Return True to keep the task stopped at this entry."""
        ...

    def left(self, entry: SyscallEntry) -> None:
        """The call entered at ``entry`` has returned (or the task ended inside it)."""
        ...


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
    """How many ptrace stops and exits the tracer handled: the cost driver of tracing."""

    @property
    def shell_status(self) -> int:
        """The status a shell would report: the code, or 128 + the killing signal."""
        if self.interrupted_by is not None:
            return 128 + kernel.SIGNAL_NUMBERS[self.interrupted_by]
        if self.exit_signal is not None:
            return 128 + kernel.SIGNAL_NUMBERS[self.exit_signal]
        return self.exit_code or 0


class _Task:
    """What the loop knows about one traced task."""

    __slots__ = (
        "call",
        "in_syscall",
        "inject_error",
        "injected_signal",
        "injection_counts",
        "new",
        "nr",
        "pid",
        "recording",
        "role",
        "tid",
        "watched",
    )

    def __init__(self, tid: int, pid: int, role: str, *, recording: bool, new: bool) -> None:
        self.tid = tid
        self.pid = pid
        self.role = role
        self.nr = -1  # the syscall the task is in, traced or not
        self.call: _Call | None = None  # the traced call it is in
        self.in_syscall = False  # for the entry/exit fallback
        self.recording = recording  # False for the command before its execve
        self.new = new  # its first stop (the SIGSTOP of a new tracee) is still to come
        self.watched: SyscallEntry | None = None  # the controller's call it is in
        self.injection_counts: dict[int, int] = {}  # injection index -> calls of its name seen
        self.inject_error = 0  # the errno the current (skipped) call must return
        self.injected_signal = 0  # a signal the harness sent, whose delivery is still to come


@dataclass(slots=True)
class _Call:
    name: str
    raw: tuple[int, ...]
    enter_seq: int
    args: dict[str, object]
    injected: bool = False


class _StopRequested(Exception):
    """Raised by the signal handler to leave a blocking wait."""


def _read_memory(tid: int) -> Callable[[int, int], bytes | None]:
    def read(address: int, size: int) -> bytes | None:
        try:
            fd = os.open(f"/proc/{tid}/mem", os.O_RDONLY)
        except OSError:
            return None
        try:
            return os.pread(fd, size, address)
        except OSError:
            return None
        finally:
            os.close(fd)

    return read


def _read_proc(tid: int, name: str) -> bytes:
    try:
        with open(f"/proc/{tid}/{name}", "rb") as stream:
            return stream.read()
    except OSError:
        return b""


class Tracer:
    """Runs one command under ptrace and records its trace.

    ``use_syscall_info`` forces (True) or forbids (False) the use of
    PTRACE_GET_SYSCALL_INFO; by default it is used where the kernel has it.
    ``stdio`` redirects the command's stdin, stdout and stderr to the given
    descriptors (None keeps the harness's own).  ``controller`` may hold
    tasks at chosen syscall entries (see :class:`Controller`).  ``seccomp``
    asks for the seccomp-BPF prefilter (see :mod:`.seccomp_filter`); where it
    cannot be used, every call is stepped and :attr:`uses_seccomp` is False.
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
        seccomp: bool = False,
        injections: Sequence[Injection] = (),
    ) -> None:
        watched = tuple(controller.watched) if controller else ()
        syscalls = tuple(dict.fromkeys([*syscalls, *(injection.call for injection in injections)]))
        check_syscalls(syscalls)
        check_syscalls(watched)
        self._controller = controller
        self._watched = {syscall_number(name): name for name in watched}
        self._held: set[int] = set()
        seccomp_usable = seccomp and use_syscall_info is not False and _has_syscall_info()
        self._install_filter = filter_installer({*syscalls, *watched}) if seccomp_usable else None
        self._stdio = tuple(stdio)
        self._argv = list(argv)
        self._env = dict(os.environ if env is None else env)
        self._traced = {syscall_number(name): (name, argument_names(name)) for name in syscalls}
        self._listener = listener
        self._use_syscall_info = use_syscall_info
        self._info = ptrace_ext.SyscallInfoReader()
        self._roles = RoleBook()
        self._tasks: dict[int, _Task] = {}
        self._early: dict[int, int] = {}  # tid -> status of a new task's stop before its creator's event
        self._seen: set[int] = set()  # every tid traced, for the final reaping
        self._events: list[Event] = []
        self._seq = 0
        self._stop_signal: int | None = None
        self._waiting = False
        self._killing = False
        self._stops = 0
        self._root = 0
        self._error_pipe: int | None = None
        self._injections = tuple((syscall_number(i.call), i) for i in injections)
        self._harness_pid = os.getpid()
        self._decoded: dict[tuple[int, tuple[int, ...]], dict[str, object]] = {}

    # -- the run ------------------------------------------------------------

    def run(self) -> TraceResult:
        """Trace the command until its last task ends; the trace so far survives Ctrl-C."""
        with ptrace_ext.child_subreaper(), self._stop_on_signals():
            root_status = self._run()
        interrupted = kernel.signal_name(self._stop_signal) if self._stop_signal else None
        code = os.WEXITSTATUS(root_status) if os.WIFEXITED(root_status) else None
        killed = kernel.signal_name(os.WTERMSIG(root_status)) if os.WIFSIGNALED(root_status) else None
        return TraceResult(Trace(tuple(self._events)), code, killed, interrupted, self._stops)

    def _run(self) -> int:
        root, self._error_pipe = start_stopped(self._argv, self._env, self._stdio, self._install_filter)
        self._root = root
        self._seen.add(root)
        try:
            self._attach_root(root)
            return self._loop()
        finally:
            self._kill_all()
            self._reap_orphans()
            if self._error_pipe is not None:
                os.close(self._error_pipe)
                self._error_pipe = None

    def _attach_root(self, root: int) -> None:
        _, status = os.waitpid(root, _WALL)
        if not os.WIFSTOPPED(status):
            self._raise_exec_error()  # the child said why: TRACEME refused, most often
            raise PtraceNotPermitted(
                "the command could not be started under ptrace "
                f"(it ended with status {status:#x} before its first stop)"
            )
        try:
            seccomp = ptrace_ext.PTRACE_O_TRACESECCOMP if self._install_filter else 0
            binding.ptrace_setoptions(root, _OPTIONS | seccomp)
        except PtraceError as error:
            if error.errno == errno_codes.EPERM:
                raise PtraceNotPermitted(
                    "ptrace is not permitted here (EPERM): run as root, grant CAP_SYS_PTRACE "
                    "(docker run --cap-add=SYS_PTRACE), or lower kernel.yama.ptrace_scope"
                ) from None
            raise
        if self._use_syscall_info is None:
            self._use_syscall_info = ptrace_ext.SyscallInfoReader.available(root)
        self._tasks[root] = _Task(root, root, ROOT_ROLE, recording=False, new=False)
        self._resume(root, 0)

    def _loop(self) -> int:
        """Handle stops until no traced task is left; return the command's wait status."""
        root_status = 0
        while self._tasks:
            if self._stop_signal is not None and not self._killing:
                self._kill_all()
            reported = self._wait()
            if reported is None:
                continue
            tid, status = reported
            self._stops += 1
            task = self._tasks.get(tid)
            if os.WIFSTOPPED(status):
                if task is None:
                    self._early[tid] = status
                else:
                    self._on_stop(task, status)
            elif task is None:  # a zombie re-parented to us, whose exit we already saw
                self._early.pop(tid, None)
            else:
                if tid == self._root:
                    root_status = status
                    self._raise_exec_error()
                self._on_exit(task, status)
        return root_status

    def _wait(self) -> tuple[int, int] | None:
        """Block for the next stop; None when a stop request (SIGINT, SIGTERM) came first."""
        self._waiting = True
        try:
            if self._stop_signal is not None and not self._killing:
                return None
            return os.waitpid(-1, _WALL)
        except _StopRequested:
            return None
        except ChildProcessError:
            self._tasks.clear()
            return None
        finally:
            self._waiting = False

    def _raise_exec_error(self) -> None:
        """The command ended before its exec: say why, from the child's error pipe."""
        if self._error_pipe is None:
            return
        pipe, self._error_pipe = self._error_pipe, None
        failure = exec_error(pipe, self._argv)
        if failure is not None:
            raise failure

    # -- stops --------------------------------------------------------------

    def _on_stop(self, task: _Task, status: int) -> None:
        stopsig = os.WSTOPSIG(status)
        if stopsig == _SYSCALL_TRAP:
            if self._on_syscall(task):
                self._resume(task.tid, 0)
        elif stopsig == signal.SIGTRAP and status >> 16 == ptrace_ext.PTRACE_EVENT_SECCOMP:
            if self._on_syscall(task):  # a traced call's entry, reported by the filter
                self._resume(task.tid, 0)
        elif stopsig == signal.SIGTRAP and status >> 16:
            self._on_ptrace_event(task, status >> 16)
            self._resume(task.tid, 0)
        elif task.new and stopsig == signal.SIGSTOP:
            task.new = False
            self._resume(task.tid, 0)
        else:
            self._on_signal(task, stopsig)

    def _on_syscall(self, task: _Task) -> bool:
        """Record a syscall stop; return False when the controller holds the task here."""
        if self._use_syscall_info:
            stop = self._info.read(task.tid)
            if stop is None:
                return True
            entry, nr, raw, ret = stop.entry, stop.nr, stop.args, stop.ret
            task.in_syscall = entry
        else:
            regs = binding.ptrace_getregs(task.tid)
            entry = not task.in_syscall
            task.in_syscall = entry
            nr = regs.orig_rax
            raw = (regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9)
            ret = regs.rax - (1 << 64) if regs.rax >= 1 << 63 else regs.rax
        if entry:
            task.nr = nr
            if nr in self._traced and task.recording:
                self._enter(task, nr, raw)
                if self._injections:
                    self._inject(task, nr)
            if nr in self._watched and task.recording:
                return not self._ask_controller(task, nr)
        else:
            if task.inject_error:
                ret, task.inject_error = -task.inject_error, 0
                ptrace_ext.set_return(task.tid, ret)
            call, task.call = task.call, None
            if call is not None:
                self._finish(task, call, ret)
            self._leave_watched(task)
        return True

    def _inject(self, task: _Task, nr: int) -> None:
        """Apply the injections that hit this call: skip it for an error, or send the signal now."""
        for index, (number, injection) in enumerate(self._injections):
            if number != nr or (injection.role is not None and injection.role != task.role):
                continue
            count = task.injection_counts.get(index, 0) + 1
            task.injection_counts[index] = count
            if not injection.hits(count):
                continue
            if injection.error is not None:
                ptrace_ext.skip_syscall(task.tid)
                task.inject_error = kernel.ERRNO_NUMBERS[injection.error]
                if task.call is not None:
                    task.call.injected = True
            else:
                assert injection.signal is not None
                task.injected_signal = kernel.SIGNAL_NUMBERS[injection.signal]
                ptrace_ext.tgkill(task.pid, task.tid, task.injected_signal)

    def _leave_watched(self, task: _Task) -> None:
        if task.watched is not None and self._controller is not None:
            entry, task.watched = task.watched, None
            self._controller.left(entry)

    def _ask_controller(self, task: _Task, nr: int) -> bool:
        assert self._controller is not None
        call = task.call
        entry = SyscallEntry(
            seq=call.enter_seq if call else self._seq,
            pid=task.pid,
            tid=task.tid,
            role=task.role,
            name=self._watched[nr],
            args=call.args if call else {},
        )
        task.watched = entry
        if self._controller.hold(entry):
            self._held.add(task.tid)
            return True
        return False

    def release(self, tid: int) -> None:
        """Let a task held by the controller go on; call it from the controller's methods."""
        if tid in self._held:
            self._held.discard(tid)
            self._resume(tid, 0)

    def held(self) -> frozenset[int]:
        """The tasks the controller holds now."""
        return frozenset(self._held)

    def abort(self) -> None:
        """End the run from another thread (a time limit): kill every traced task."""
        self._kill_all()

    def _enter(self, task: _Task, nr: int, raw: tuple[int, ...]) -> None:
        name, arg_names = self._traced[nr]
        if name in REGISTER_ONLY:
            # A server makes the same call with the same arguments thousands of times (close(4),
            # wait4(-1, WNOHANG)): events share one decoded value, which they never mutate.
            key = (nr, raw)
            args = self._decoded.get(key)
            if args is None:
                if len(self._decoded) >= _DECODED_CACHE_SIZE:
                    self._decoded.clear()
                args = self._decoded[key] = decode_entry(name, raw, _read_memory(task.tid), arg_names)
        else:
            args = decode_entry(name, raw, _read_memory(task.tid), arg_names)
        self._seq += 1
        task.call = _Call(name, raw, self._seq, args)
        if self._listener is not None:
            self._listener(
                SyscallEntry(seq=self._seq, pid=task.pid, tid=task.tid, role=task.role, name=name, args=args)
            )

    def _finish(self, task: _Task, call: _Call, ret: int | None) -> None:
        args = call.args
        if ret is not None:
            outputs = decode_exit(call.name, call.raw, ret, _read_memory(task.tid))
            if outputs:
                args = {**args, **outputs}
        self._record(
            SyscallEvent(
                seq=self._next_seq(),
                pid=task.pid,
                tid=task.tid,
                role=task.role,
                name=call.name,
                args=args,
                ret=ret,
                errno=kernel.errno_name(ret) if ret is not None else None,
                enter_seq=call.enter_seq,
                injected=call.injected,
            )
        )

    def _on_ptrace_event(self, task: _Task, event: int) -> None:
        if event in (binding.PTRACE_EVENT_FORK, binding.PTRACE_EVENT_VFORK, binding.PTRACE_EVENT_CLONE):
            self._on_spawn(task, binding.ptrace_geteventmsg(task.tid), event)
        elif event == binding.PTRACE_EVENT_EXEC:
            self._on_exec(task, binding.ptrace_geteventmsg(task.tid))

    def _on_spawn(self, task: _Task, child: int, event: int) -> None:
        pid = child
        if event == binding.PTRACE_EVENT_CLONE:
            for line in _read_proc(child, "status").splitlines():
                if line.startswith(b"Tgid:"):
                    pid = int(line.split()[1])
                    break
        thread = pid != child
        role = self._roles.child(process_role(task.role), thread=thread)
        self._seen.add(child)
        early = self._early.pop(child, None)
        self._tasks[child] = _Task(child, pid, role, recording=True, new=early is None)
        self._record(
            SpawnEvent(
                seq=self._next_seq(),
                pid=task.pid,
                tid=task.tid,
                role=task.role,
                child_pid=pid,
                child_tid=child,
                child_role=role,
                via=syscall_name(task.nr),
                thread=thread,
            )
        )
        if early is not None:  # its first SIGSTOP came before this event: let it go now
            self._resume(child, 0)

    def _on_exec(self, task: _Task, former_tid: int) -> None:
        if former_tid != task.tid and former_tid in self._tasks:
            # A non-leader thread exec'd: it now has the leader's tid (execve(2)).
            old = self._tasks.pop(former_tid)
            task.role, task.call = old.role, None
        if task.tid == self._root and self._error_pipe is not None:
            os.close(self._error_pipe)  # exec succeeded: the pipe has nothing to say
            self._error_pipe = None
        task.recording = True
        task.in_syscall = True  # the exec stop sits inside execve; its exit stop follows
        argv = tuple(arg.decode(errors="replace") for arg in _read_proc(task.tid, "cmdline").split(b"\0")[:-1])
        try:
            filename = os.readlink(f"/proc/{task.tid}/exe")
        except OSError:
            filename = argv[0] if argv else "?"
        self._record(
            ExecEvent(seq=self._next_seq(), pid=task.pid, tid=task.tid, role=task.role, filename=filename, argv=argv)
        )

    def _on_signal(self, task: _Task, stopsig: int) -> None:
        try:
            raw = bytes(binding.ptrace_getsiginfo(task.tid))
        except PtraceError as error:
            if error.errno == errno_codes.EINVAL:  # a group-stop: resume it, as strace does without SEIZE
                self._resume(task.tid, 0)
                return
            if error.errno == errno_codes.ESRCH:  # killed meanwhile; its exit follows
                return
            raise
        if task.recording:
            siginfo = decode_siginfo(raw)
            injected = stopsig == task.injected_signal and siginfo.get("si_pid") == self._harness_pid
            if injected:
                task.injected_signal = 0
            # At a signal-delivery-stop orig_rax names the call the task was in (or -1), rax what it returns
            # (-ERESTARTSYS...): the restart is decided after this stop (arch/x86/kernel/signal.c).
            try:
                regs = binding.ptrace_getregs(task.tid)
                ret = regs.rax - (1 << 64) if regs.rax >= 1 << 63 else regs.rax
                in_call = syscall_name(regs.orig_rax) if regs.orig_rax < 1 << 63 else None
            except PtraceError:  # SIGKILLed meanwhile: record the signal without the call
                ret, in_call = 0, None
            self._record(
                SignalEvent(
                    seq=self._next_seq(),
                    pid=task.pid,
                    tid=task.tid,
                    role=task.role,
                    name=kernel.signal_name(stopsig),
                    siginfo=siginfo,
                    injected=injected,
                    syscall=in_call or None,
                    syscall_errno=kernel.errno_name(ret) if in_call else None,
                )
            )
        self._resume(task.tid, stopsig)

    def _on_exit(self, task: _Task, status: int) -> None:
        del self._tasks[task.tid]
        self._held.discard(task.tid)
        if not task.recording:
            return
        if task.call is not None:  # exit_group, or killed inside a call: it never returns
            self._finish(task, task.call, None)
            task.call = None
        self._leave_watched(task)
        if os.WIFSIGNALED(status):
            exit_event = ExitEvent(
                seq=self._next_seq(),
                pid=task.pid,
                tid=task.tid,
                role=task.role,
                signal=kernel.signal_name(os.WTERMSIG(status)),
                core_dumped=os.WCOREDUMP(status),
            )
        else:
            exit_event = ExitEvent(
                seq=self._next_seq(), pid=task.pid, tid=task.tid, role=task.role, code=os.WEXITSTATUS(status)
            )
        self._record(exit_event)

    # -- helpers ------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _record(self, event: Event) -> None:
        self._events.append(event)
        if self._listener is not None:
            self._listener(event)

    @property
    def uses_seccomp(self) -> bool:
        """Whether the seccomp prefilter is in use (asked for, and available here)."""
        return self._install_filter is not None

    def _resume(self, tid: int, signum: int) -> None:
        """Let a task go on: to its next syscall stop, or with the filter, to its next traced call.

        With the filter, a task inside a traced call is resumed with
        PTRACE_SYSCALL, to stop at that call's exit; any other with PTRACE_CONT.
        """
        try:
            task = self._tasks.get(tid)
            if self._install_filter is not None and not (task is not None and task.in_syscall):
                binding.ptrace_cont(tid, signum)
                return
            binding.ptrace_syscall(tid, signum)
        except PtraceError as error:
            if error.errno != errno_codes.ESRCH:  # ESRCH: killed meanwhile; its exit follows
                raise

    def _kill_all(self) -> None:
        """SIGKILL every task still traced: nothing of the run may outlive it."""
        self._killing = True
        for tid in list(self._tasks) + list(self._early):
            with contextlib.suppress(ProcessLookupError):
                os.kill(tid, signal.SIGKILL)

    def _reap_orphans(self) -> None:
        """Collect what is left of the run: tasks killed above, and zombies re-parented to us."""
        pending = set(self._tasks) | set(self._early)
        while pending:
            try:
                tid, status = os.waitpid(-1, _WALL)
            except ChildProcessError:
                break
            if not os.WIFSTOPPED(status):
                pending.discard(tid)
        for tid in self._seen:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(tid, os.WNOHANG | _WALL)

    @contextlib.contextmanager
    def _stop_on_signals(self) -> Iterator[None]:
        """Turn SIGINT and SIGTERM into an orderly end: kill the tree, keep the trace."""
        import threading

        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: FrameType | None) -> None:
            self._stop_signal = signum
            if self._waiting:
                raise _StopRequested

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)
