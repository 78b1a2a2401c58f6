"""Symbolic roles: names for tasks that do not change from one run to the next.

Pids differ on every run, so nothing downstream of the tracer should depend
on them.  A role names a task by its place in the process tree, in the order
in which its creator made it:

* ``main`` is the traced command;
* ``main.1``, ``main.2`` are the first and second processes that ``main``
  created (by fork, vfork or clone without CLONE_THREAD), whichever of its
  threads created them; ``main.1.1`` is the first process of ``main.1``;
* ``main/t1`` is the first thread (CLONE_THREAD) created in ``main``'s
  thread group; ``main.1/t2`` the second thread of ``main.1``.

The numbering follows the order in which the kernel reports the creations to
the tracer, which is the order of the creator's fork calls.  It is therefore
the same on every run of a program whose processes each create their
children from one thread at a time, which is what fork-per-connection
servers do; two threads of one process that fork at the same moment may swap
numbers between runs.
"""

from __future__ import annotations

from collections import Counter

ROOT_ROLE = "main"


class RoleBook:
    """Hands out roles as tasks are created."""

    def __init__(self) -> None:
        self._processes: Counter[str] = Counter()
        self._threads: Counter[str] = Counter()

    def child(self, creator_process_role: str, *, thread: bool) -> str:
        """Name the next task that the process ``creator_process_role`` creates."""
        if thread:
            self._threads[creator_process_role] += 1
            return f"{creator_process_role}/t{self._threads[creator_process_role]}"
        self._processes[creator_process_role] += 1
        return f"{creator_process_role}.{self._processes[creator_process_role]}"


def process_role(role: str) -> str:
    """The role of the process (thread group) a task belongs to."""
    return role.split("/", 1)[0]


def parent_role(role: str) -> str | None:
    """The role of the process that created a process role, None for the root."""
    process = process_role(role)
    if role != process:
        return process
    head, dot, _ = process.rpartition(".")
    return head if dot else None
