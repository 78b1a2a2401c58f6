"""What the tracer's stop handlers share: the state the loop keeps, declared once, and how a stopped task goes on.

The :class:`~harness.running.tracer.loop.Tracer` handles its stops in three
parts: the loop waits and dispatches (:mod:`.loop`), a syscall stop is
handled by :mod:`.syscall_stops`, and the other stops of a task's life
(spawn, exec, signal delivery, exit) by :mod:`.task_stops`.  The two are
classes the Tracer inherits, so that a handler reaches the tracer's state
and the other handlers as ``self``, with the very calls one class made: no
stop pays for the split.  This base declares the state they read, so that
each part type-checks alone, and holds the one request every part makes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.model.roles import RoleBook
    from harness.running.tracer import ptrace_ext
    from harness.running.tracer.ending import Ending
    from harness.running.tracer.guard import Guard
    from harness.running.tracer.handshake import Handshake
    from harness.running.tracer.injection_policy import InjectionPolicy
    from harness.running.tracer.python_stacks import PythonStacks
    from harness.running.tracer.recorder import EventRecorder
    from harness.running.tracer.task import Task


class TracerState:
    """The tracer's state that its stop handlers read and change, set by ``Tracer.__init__``."""

    _argv: list[str]
    _note: Callable[[str], None] | None
    _handshake: Handshake
    _deferred: list[int]
    """Tasks to resume once the current stop is handled."""
    _guard: Guard
    _guard_noted: set[int]
    _foreign_noted: set[int]
    _install_filter: Callable[[], None] | None
    _traced: dict[int, tuple[str, tuple[str, ...]]]
    _traced_names: frozenset[str]
    _use_syscall_info: bool | None
    _info: ptrace_ext.SyscallInfoReader
    _roles: RoleBook
    _tasks: dict[int, Task]
    _early: dict[int, int]
    _seen: set[int]
    _stacks: PythonStacks | None
    _recorder: EventRecorder
    _ending: Ending
    _pid_namespace: int | None
    _root: int
    _error_pipe: int | None
    _injection: InjectionPolicy | None

    # Resume first, record after.  A stop the tracer needs nothing more from (no decision to take,
    # no memory to read) is restarted as soon as its registers are read, and decoded, numbered and
    # recorded while the task runs on: the task does not wait for the Python side of the work.  The
    # order of the trace is unchanged, since this one thread handles the stops one after another.
    # Where the task must stay stopped is decided in one place, :meth:`_held_at_entry` and
    # :meth:`_held_at_exit` (:mod:`.syscall_stops`) and :meth:`_held_at_signal` (:mod:`.task_stops`);
    # anything that reads the tracee at a recorded stop (its memory, more registers) belongs there.

    def _resume(self, task: Task, signum: int) -> None:
        """Let a task go on: to its next syscall stop, or with the filter, to its next traced call.

        With the filter, a task inside a traced call is resumed with
        PTRACE_SYSCALL, to stop at that call's exit; any other with PTRACE_CONT.
        """
        task.ptrace.resume(signum, to_next_syscall=self._install_filter is None or task.in_syscall)
