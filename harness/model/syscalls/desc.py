"""Descriptor calls: close, the dup family, fcntl, close_range, and the calls that wait on descriptors.

close, dup, dup2, dup3, fcntl and close_range follow strace's ``src/close.c``,
``src/dup.c`` and ``src/fcntl.c``: they say which numbers refer to which open
file (:mod:`harness.analysis.descriptors`).

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

from harness.model import kernel
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


def _dup(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"oldfd": s32(raw[0])}


def _dup2(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"oldfd": s32(raw[0]), "newfd": s32(raw[1])}


def _dup3(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"oldfd": s32(raw[0]), "newfd": s32(raw[1]), "flags": kernel.flag_names(raw[2], kernel.OPEN_FILE_FLAGS)}


def _close_range(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {
        "fd": raw[0] & 0xFFFF_FFFF,  # unsigned int: ~0U, the last descriptor there can be, prints as 4294967295
        "max_fd": raw[1] & 0xFFFF_FFFF,
        "flags": kernel.flag_names(raw[2] & 0xFFFF_FFFF, kernel.CLOSE_RANGE_FLAGS),
    }


def _fcntl(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    number = raw[1] & 0xFFFF_FFFF
    cmd = kernel.FCNTL_COMMANDS.get(number, number)
    args: dict[str, Any] = {"fd": s32(raw[0]), "cmd": cmd}
    if cmd in kernel.FCNTL_DUPLICATES:
        args["arg"] = s32(raw[2])  # the lowest number the new descriptor may have
    elif cmd == "F_SETFD":
        args["arg"] = kernel.flag_names(raw[2] & 0xFFFF_FFFF, kernel.FD_FLAGS)
    elif cmd == "F_SETFL":
        args["arg"] = kernel.flag_names(raw[2] & 0xFFFF_FFFF, kernel.OPEN_FILE_FLAGS)
    elif cmd not in ("F_GETFD", "F_GETFL"):  # strace prints no third argument for those two
        args["arg"] = raw[2]
    return args


DUP = Syscall(
    name="dup",
    family="desc",
    args=(Arg(name="oldfd", kind="fd"),),
    decode_entry=_dup,
    register_only=True,
    result="fd",
    source="dup(2); fs/file.c",
)

DUP2 = Syscall(
    name="dup2",
    family="desc",
    args=(Arg(name="oldfd", kind="fd"), Arg(name="newfd", kind="fd")),
    decode_entry=_dup2,
    register_only=True,
    result="fd",
    source="dup2(2); fs/file.c",
)

DUP3 = Syscall(
    name="dup3",
    family="desc",
    args=(Arg(name="oldfd", kind="fd"), Arg(name="newfd", kind="fd"), Arg(name="flags", kind="flags")),
    decode_entry=_dup3,
    register_only=True,
    result="fd",
    source="dup3(2); fs/file.c",
)

CLOSE_RANGE = Syscall(
    name="close_range",
    family="desc",
    args=(Arg(name="fd", kind="int"), Arg(name="max_fd", kind="int"), Arg(name="flags", kind="flags")),
    decode_entry=_close_range,
    register_only=True,
    source="close_range(2); fs/file.c",
)

FCNTL = Syscall(
    name="fcntl",
    family="desc",
    args=(
        Arg(name="fd", kind="fd"),
        Arg(name="cmd", kind="name"),
        Arg(
            name="arg",
            kind="int",
            optional=True,
            kind_by=("cmd", (("F_DUPFD", "fd"), ("F_DUPFD_CLOEXEC", "fd"), ("F_SETFD", "flags"), ("F_SETFL", "flags"))),
        ),
    ),
    decode_entry=_fcntl,
    register_only=True,
    source="fcntl(2); fs/fcntl.c",
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

CALLS = (CLOSE, DUP, DUP2, DUP3, CLOSE_RANGE, FCNTL, POLL, PPOLL, SELECT, PSELECT6, EPOLL_WAIT, EPOLL_PWAIT)
