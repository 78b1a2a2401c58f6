"""What a waiting call waits on, read at its entry: whether it returns at once, and whether it waits for a client.

The deterministic schedule lets a child exit, lets the next client in and
sends the stop signal only while the server is at rest: waiting for
something that has not come.  A server whose SIGCHLD handler writes to a
pipe its loop polls (``signal.set_wakeup_fd``, a C self-pipe, a signalfd)
enters ``poll`` again right after the signal, the pipe already readable:
that poll returns at once, and the loop goes on to reap.  Taken for rest, it
would let the next client or the stop signal race the reap, and the story
would change from run to run.

So at the entry of a ``poll``, ``select`` or epoll wait (or an ``accept``),
the descriptors it watches are copied into the harness with pidfd_getfd(2)
(Linux 5.6; it needs the ptrace access the tracer has) and polled with a
zero timeout: one ready descriptor, and the call is no rest.  The tracee is
stopped at the entry meanwhile, so what it watches cannot change under the
look, except by another process's doing.  Where the copy cannot be made (an
older kernel, a descriptor gone), the call counts as rest, as it did before.

Free mode's ``ready`` counts the processes that wait for a connection: a
call waits for one when it watches a listening socket (``SO_ACCEPTCONN``, on
the same copies).  A pre-fork parent asleep in ``pselect6`` on a status pipe
(Apache's, gunicorn's arbiter) waits in the same call as its workers, but
for something else, and is no ready worker.  An epoll wait watches what was
added to its epoll descriptor, listed in ``/proc/PID/fdinfo/EPFD`` (proc(5),
``tfd:`` lines).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import select
import socket
from collections.abc import Iterator, Mapping
from typing import Any

from harness.model.syscalls import calls_that, catalogued, syscall_number

#: poll(2) event names as the catalogue decodes them, and their bits.
_POLL_BITS: Mapping[str, int] = {
    "POLLIN": select.POLLIN,
    "POLLPRI": select.POLLPRI,
    "POLLOUT": select.POLLOUT,
    "POLLRDNORM": select.POLLRDNORM,
    "POLLRDBAND": select.POLLRDBAND,
    "POLLWRNORM": select.POLLWRNORM,
    "POLLWRBAND": select.POLLWRBAND,
}
_PIDFD_GETFD = syscall_number("pidfd_getfd")
_ACCEPTS, _WAITS_ON_DESCRIPTORS = calls_that("accepts"), calls_that("waits_on_descriptors")
_libc = ctypes.CDLL(None, use_errno=True)


def returns_at_once(pid: int, name: str, args: Mapping[str, Any]) -> bool:
    """Whether the call ``name`` with these decoded inputs, entered by ``pid``, would return without waiting."""
    watched = dict(_watched(name, args))
    if not watched:
        return False
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return False
    try:
        with _copies(pidfd, watched) as copies:
            if not copies:
                return False
            poller = select.poll()
            for copy, events in copies.items():
                poller.register(copy, events)
            return bool(poller.poll(0))
    finally:
        os.close(pidfd)


def waits_for_a_client(pid: int, name: str, args: Mapping[str, Any]) -> bool:
    """Whether the call ``name`` entered by ``pid`` waits on a listening socket (an accept always does).

    Where what it watches cannot be read (a set the decoder could not read, no pidfd), it is taken to wait
    for one: so it was counted before this look existed, and a server is never kept from being ready by it.
    """
    if name in _ACCEPTS:
        return True
    if not _decoded(name, args):
        return True
    fds = [fd for fd, _ in _watched(name, args)]
    if isinstance(args.get("epfd"), int):  # epoll: what it watches was added to it with epoll_ctl
        targets = _epoll_targets(pid, fds[0])
        if targets is None:
            return True
        fds = targets
    if not fds:
        return False
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return True
    try:
        with _copies(pidfd, dict.fromkeys(fds, select.POLLIN)) as copies:
            return any(_listens(copy) for copy in copies)
    finally:
        os.close(pidfd)


def _decoded(name: str, args: Mapping[str, Any]) -> bool:
    """Whether the decoder read what the call watches (a set it could not read is left as its pointer)."""
    kinds = _watching_kinds(name)
    if "pollfds" in kinds:
        return isinstance(args.get(kinds["pollfds"][0]), list)
    if "fd_set" in kinds:
        return all(isinstance(args.get(key), list | None) for key in kinds["fd_set"])
    return isinstance(args.get("epfd"), int)


@functools.cache
def _watching_kinds(name: str) -> Mapping[str, tuple[str, ...]]:
    """The arguments of a call that say what it watches, by their kind in the catalogue (kind -> names).

    Read once per call name: the schedule asks at every wait a task enters.
    """
    entry = catalogued(name)
    kinds: dict[str, tuple[str, ...]] = {}
    for arg in entry.args if entry is not None else ():
        if not arg.output:
            kinds[arg.kind] = (*kinds.get(arg.kind, ()), arg.name)
    return kinds


def _listens(fd: int) -> bool:
    """Whether a descriptor of this process is a listening socket (socket(7): SO_ACCEPTCONN)."""
    try:
        with socket.socket(fileno=os.dup(fd)) as copy:
            return bool(copy.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
    except OSError:
        return False  # not a socket


def _epoll_targets(pid: int, epfd: int) -> list[int] | None:
    """The descriptors added to an epoll descriptor (``tfd:`` in its fdinfo, fs/eventpoll.c); None where unread."""
    try:
        with open(f"/proc/{pid}/fdinfo/{epfd}", encoding="ascii") as info:
            return [int(line.split()[1]) for line in info if line.startswith("tfd:")]
    except (OSError, ValueError, IndexError):
        return None


#: What ends a select(2) for a descriptor in each of its sets (its arguments' names in the catalogue).
_SET_EVENTS: Mapping[str, int] = {"readfds": select.POLLIN, "writefds": select.POLLOUT, "exceptfds": select.POLLPRI}


def _watched(name: str, args: Mapping[str, Any]) -> Iterator[tuple[int, int]]:
    """The descriptors a waiting call watches, with the poll events that would end it."""
    if name in _ACCEPTS:
        if isinstance(args.get("fd"), int):
            yield args["fd"], select.POLLIN  # a listening socket is readable when a connection waits
        return
    if name not in _WAITS_ON_DESCRIPTORS:
        return
    kinds = _watching_kinds(name)
    for key in kinds.get("pollfds", ()):
        pollfds = args.get(key)
        for pollfd in pollfds if isinstance(pollfds, list) else ():
            events = sum(_POLL_BITS.get(flag, 0) for flag in pollfd.get("events", ()))
            if pollfd.get("fd", -1) >= 0 and events:
                yield pollfd["fd"], events
    for key in kinds.get("fd_set", ()):
        if isinstance(args.get(key), list):
            yield from ((fd, _SET_EVENTS[key]) for fd in args[key])
    if isinstance(args.get("epfd"), int):
        yield args["epfd"], select.POLLIN  # an epoll descriptor is readable when an event is ready


@contextlib.contextmanager
def _copies(pidfd: int, watched: Mapping[int, int]) -> Iterator[dict[int, int]]:
    """The watched descriptors copied into this process (copy -> events); closed on leaving."""
    copies: dict[int, int] = {}
    try:
        for fd, events in watched.items():
            copy = _libc.syscall(_PIDFD_GETFD, pidfd, fd, 0)
            if copy >= 0:
                copies[copy] = copies.get(copy, 0) | events
        yield copies
    finally:
        for copy in copies:
            os.close(copy)
