"""Descriptor calls: close (strace's ``src/close.c``), and the calls that wait on descriptors.

poll, ppoll, select, pselect6, epoll_wait and epoll_pwait (strace's
``src/poll.c``, ``src/select.c``... all of its ``%desc`` class) are decoded
so that a step can say which descriptors a server waits on
(``poll(fds.fd=$listen)``, ``select(readfds=$listen)``) and what came back
(``poll -> 1``, ``epoll_wait(events.data=$listen)``).  As strace does, the
sets are read at entry (what is watched) and epoll's events at exit, only
when the call succeeded.  Which poll or select descriptors were ready is not
decoded: the result says how many.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.model.syscalls.entry import Arg, Syscall
from harness.model.syscalls.structs import (
    EPOLL_EVENT,
    MAX_WATCHED,
    POLLFD,
    MemoryReader,
    decode_epoll_events,
    decode_fd_set,
    decode_pollfds,
    fd_set_size,
    pointer,
    read_struct,
    s32,
)


def _close(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"fd": s32(raw[0])}


CLOSE = Syscall(
    name="close",
    family="desc",
    args=(Arg(name="fd", kind="fd"),),
    decode_entry=_close,
    register_only=True,
    source="close(2); fs/open.c",
)


def _pollfds(address: int, nfds: int, read: MemoryReader) -> list[dict[str, Any]] | str | None:
    count = min(max(nfds, 0), MAX_WATCHED)
    data = read_struct(read, address, count * POLLFD.size) if count else None
    return decode_pollfds(data) if data is not None else pointer(address)


def _poll(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    nfds = raw[1] & 0xFFFFFFFF
    return {"fds": _pollfds(raw[0], nfds, read), "nfds": nfds, "timeout": s32(raw[2])}


def _ppoll(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    nfds = raw[1] & 0xFFFFFFFF
    return {"fds": _pollfds(raw[0], nfds, read), "nfds": nfds, "tsp": pointer(raw[2]), "sigmask": pointer(raw[3])}


POLL = Syscall(
    name="poll",
    family="desc",
    args=(Arg(name="fds", kind="pollfds"), Arg(name="nfds", kind="int"), Arg(name="timeout", kind="int")),
    decode_entry=_poll,
    register_only=False,  # reads the pollfd array
    source="poll(2); fs/select.c",
)

PPOLL = Syscall(
    name="ppoll",
    family="desc",
    args=(
        Arg(name="fds", kind="pollfds"),
        Arg(name="nfds", kind="int"),
        Arg(name="tsp", kind="pointer"),
        Arg(name="sigmask", kind="pointer"),
    ),
    decode_entry=_ppoll,
    register_only=False,
    source="ppoll(2); fs/select.c",
)


def _fd_set(address: int, nfds: int, read: MemoryReader) -> list[int] | str | None:
    size = fd_set_size(nfds)
    data = read_struct(read, address, size) if size else None
    return decode_fd_set(data, nfds) if data is not None else pointer(address)


def _select(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    nfds = s32(raw[0])
    return {
        "nfds": nfds,
        "readfds": _fd_set(raw[1], nfds, read),
        "writefds": _fd_set(raw[2], nfds, read),
        "exceptfds": _fd_set(raw[3], nfds, read),
        "timeout": pointer(raw[4]),
    }


def _pselect6(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {**_select(raw, read), "sigmask": pointer(raw[5])}


_SELECT_ARGS = (
    Arg(name="nfds", kind="int"),
    Arg(name="readfds", kind="fd_set"),
    Arg(name="writefds", kind="fd_set"),
    Arg(name="exceptfds", kind="fd_set"),
    Arg(name="timeout", kind="pointer"),
)

SELECT = Syscall(
    name="select",
    family="desc",
    args=_SELECT_ARGS,
    decode_entry=_select,
    register_only=False,  # reads the three sets
    source="select(2); fs/select.c",
)

PSELECT6 = Syscall(
    name="pselect6",
    family="desc",
    args=(*_SELECT_ARGS, Arg(name="sigmask", kind="pointer")),
    decode_entry=_pselect6,
    register_only=False,
    source="pselect6(2) (select(2)); fs/select.c",
)


def _epoll_wait(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"epfd": s32(raw[0]), "maxevents": s32(raw[2]), "timeout": s32(raw[3])}


def _epoll_pwait(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {**_epoll_wait(raw, read), "sigmask": pointer(raw[4])}


def _epoll_wait_exit(raw: Sequence[int], ret: int, read: MemoryReader) -> dict[str, Any]:
    """The ready events, which the kernel writes only on success (ret > 0 of them)."""
    count = min(ret, MAX_WATCHED) if ret > 0 else 0
    data = read_struct(read, raw[1], count * EPOLL_EVENT.size) if count else None
    return {"events": decode_epoll_events(data) if data is not None else [] if ret == 0 else pointer(raw[1])}


_EPOLL_ARGS = (
    Arg(name="epfd", kind="fd"),
    Arg(name="events", kind="epoll_events", output=True),
    Arg(name="maxevents", kind="int"),
    Arg(name="timeout", kind="int"),
)

EPOLL_WAIT = Syscall(
    name="epoll_wait",
    family="desc",
    args=_EPOLL_ARGS,
    decode_entry=_epoll_wait,
    decode_exit=_epoll_wait_exit,
    register_only=True,
    source="epoll_wait(2); fs/eventpoll.c",
)

EPOLL_PWAIT = Syscall(
    name="epoll_pwait",
    family="desc",
    args=(*_EPOLL_ARGS, Arg(name="sigmask", kind="pointer")),
    decode_entry=_epoll_pwait,
    decode_exit=_epoll_wait_exit,
    register_only=True,
    source="epoll_pwait(2) (epoll_wait(2)); fs/eventpoll.c",
)

CALLS = (CLOSE, POLL, PPOLL, SELECT, PSELECT6, EPOLL_WAIT, EPOLL_PWAIT)
