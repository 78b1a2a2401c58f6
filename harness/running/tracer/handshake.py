"""The controller handshake: a controller may keep a task stopped at a chosen syscall entry.

This is how a run is made deterministic through ptrace rather than by
sleeping: a held task stays in its syscall-entry stop until the controller
lets it go (:meth:`Handshake.release`).  A release asked for while the
tracer handles another task's stop is carried out by the loop once that stop
is done: so a held task that vanished meanwhile fails its own resumption,
never the task whose stop was being handled.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from harness.model.events import SyscallEntry
from harness.model.syscalls import syscall_number
from harness.running.tracer.recorder import decode_inputs
from harness.running.tracer.task import Task


class Controller(Protocol):
    """Decides, at chosen syscall entries, whether a task waits there.

    Both methods run in the tracer's thread, between a stop and the task's
    resumption; a held task is let go by ``Tracer.release``.
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


class Handshake:
    """The tracer's side of a :class:`Controller`: which tasks it holds, and which it let go."""

    __slots__ = ("_controller", "_held", "names")

    def __init__(self, controller: Controller | None) -> None:
        self._controller = controller
        self.names = {syscall_number(name): name for name in controller.watched} if controller else {}
        """The watched calls, by number."""
        self._held: set[int] = set()

    @property
    def controlled(self) -> bool:
        """Whether a controller decides at entries (else the run holds nothing)."""
        return self._controller is not None

    def ask(self, task: Task, nr: int, seq: int, raw: tuple[int, ...]) -> bool:
        """At a watched call's entry: note that ``task`` is in it, and whether the controller holds it there.

        The controller sees the call's inputs, decoded as a traced call's are, also where the call is watched
        without being traced (a deterministic run's ``poll``): what it waits on tells rest from a call that
        returns at once (harness.running.readiness).
        """
        assert self._controller is not None
        call = task.call
        name = self.names[nr]
        entry = SyscallEntry(
            seq=call.enter_seq if call else seq,
            pid=task.pid,
            tid=task.tid,
            role=task.role,
            name=name,
            args=call.args if call else decode_inputs(task.tid, name, raw),
        )
        task.watched = entry
        if self._controller.hold(entry):
            self._held.add(task.tid)
            return True
        return False

    def left(self, task: Task) -> None:
        """``task`` returned from (or ended inside) the watched call it was in, if any."""
        if task.watched is not None and self._controller is not None:
            entry, task.watched = task.watched, None
            self._controller.left(entry)

    def release(self, tid: int) -> bool:
        """The controller lets a task go: whether it was held (then the loop resumes it)."""
        if tid in self._held:
            self._held.discard(tid)
            return True
        return False

    def forget(self, tid: int) -> None:
        """The task ended: nothing of it is held."""
        self._held.discard(tid)

    def held(self) -> frozenset[int]:
        """The tasks held now."""
        return frozenset(self._held)
