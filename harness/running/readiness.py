"""Whether a waiting call, at its entry, returns at once: what it waits on is ready already.

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
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
from collections.abc import Iterator, Mapping
from typing import Any

from harness.model.syscalls import syscall_number

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


def _watched(name: str, args: Mapping[str, Any]) -> Iterator[tuple[int, int]]:
    """The descriptors a waiting call watches, with the poll events that would end it."""
    if name in ("poll", "ppoll") and isinstance(args.get("fds"), list):
        for pollfd in args["fds"]:
            events = sum(_POLL_BITS.get(flag, 0) for flag in pollfd.get("events", ()))
            if pollfd.get("fd", -1) >= 0 and events:
                yield pollfd["fd"], events
    elif name in ("select", "pselect6"):
        for key, events in (("readfds", select.POLLIN), ("writefds", select.POLLOUT), ("exceptfds", select.POLLPRI)):
            if isinstance(args.get(key), list):
                yield from ((fd, events) for fd in args[key])
    elif name in ("epoll_wait", "epoll_pwait") and isinstance(args.get("epfd"), int):
        yield args["epfd"], select.POLLIN  # an epoll descriptor is readable when an event is ready
    elif name in ("accept", "accept4") and isinstance(args.get("fd"), int):
        yield args["fd"], select.POLLIN  # a listening socket is readable when a connection waits


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
