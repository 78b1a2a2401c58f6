"""The tracer's handling of the other stops of a task's life: a spawn, an exec, a signal's delivery, its end.

These are rarer than syscall stops but change what the tracer follows: a new
task to trace (whose first stop may come before its creator's event), a
process that execs as another of its threads, a signal the program must
still receive, a task gone.  ptrace(2) says how each is reported; the
methods say what the tracer makes of it.
"""

from __future__ import annotations

import contextlib
import os
import signal

from harness.model.decode import EXIT_READS_MEMORY
from harness.model.roles import process_role
from harness.model.syscalls import syscall_name
from harness.running.tracer import ptrace_ext
from harness.running.tracer.task import Task, TaskGone
from harness.running.tracer.tracer_state import TracerState


def pid_namespace(tid: int | str) -> int | None:
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


class TaskStops(TracerState):
    """The Tracer's handlers of ptrace events, signal-delivery stops and exits."""

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
            namespace = pid_namespace(task.tid)
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
