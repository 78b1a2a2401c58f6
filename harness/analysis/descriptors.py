"""Descriptors as the kernel sees them: numbers in a process's table that refer to open files.

A number is not a socket.  ``dup``, ``dup2``, ``dup3`` and ``fcntl(F_DUPFD)``
give one open file a second number; ``close`` and ``close_range`` free
numbers; an ``execve`` frees the close-on-exec ones (the exec event lists the
numbers left, read from ``/proc`` once the kernel has closed them); a fork
copies the table (fork(2), dup(2), close_range(2), open(2) "open file
description").  So a child that dup'd the listening socket and closed the
first number still holds the listener, and a ``close(3)`` after an exec that
freed 3 is some other file's.

The harness sees the traced calls only: a number an untraced call made
(``open``, ``socket``) is unknown until a traced one names it, and a number
some untraced call freed is forgotten when a traced call hands it out again
(the kernel gives out free numbers only).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import TypeVar

from harness.model.events import Event, ExecEvent, SyscallEvent
from harness.model.syscalls import calls_that, catalogued

T = TypeVar("T")

#: The calls that free one number, and those that free a range of them (the catalogue's traits).
_CLOSES, _CLOSES_RANGE = calls_that("closes"), calls_that("closes_range")


def follow(table: MutableMapping[int, T], event: Event) -> list[tuple[int, T]]:
    """Apply one event of the table's process to ``table`` (number -> what it refers to); return what it freed.

    Only numbers already in the table are followed: a duplicate of one of
    them joins it, a number freed leaves it.  Each freed number comes back
    with what it held, so that a caller can tell a close from a number that
    still refers to the same file under another.
    """
    if isinstance(event, ExecEvent):
        if event.fds is None:
            return []
        left = set(event.fds)
        return [(fd, table.pop(fd)) for fd in [fd for fd in table if fd not in left]]
    if not isinstance(event, SyscallEvent):
        return []
    args, name = event.args, event.name
    freed: list[tuple[int, T]] = []
    if name in _CLOSES:
        if event.errno != "EBADF":  # Linux frees the number even when close fails otherwise (close(2), EINTR)
            _free(table, args.get("fd"), freed)
        return freed
    if event.errno is not None or event.ret is None:
        return freed
    if name in _CLOSES_RANGE and "CLOSE_RANGE_CLOEXEC" not in (args.get("flags") or ()):
        low, high = args.get("fd"), args.get("max_fd")
        if isinstance(low, int) and isinstance(high, int):
            for fd in [fd for fd in table if low <= fd <= high]:
                _free(table, fd, freed)
        return freed
    entry = catalogued(name)
    duplicated = entry.duplicated(args) if entry is not None else None  # the argument it gives a second number
    if entry is None or (entry.result != "fd" and duplicated is None):
        return freed
    new = event.ret
    source = args.get(duplicated) if duplicated is not None else None
    if source == new:
        return freed  # dup2(fd, fd): nothing changes
    _free(table, new, freed)  # handed out again: whatever it was, it is free no more (or was freed unseen)
    if isinstance(source, int) and source in table:
        table[new] = table[source]
    return freed


def _free(table: MutableMapping[int, T], fd: object, freed: list[tuple[int, T]]) -> None:
    if isinstance(fd, int) and fd in table:
        freed.append((fd, table.pop(fd)))
