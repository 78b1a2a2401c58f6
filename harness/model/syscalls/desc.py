"""Descriptor calls: close, the dup family, close_range, pipe2, and the calls that wait on descriptors.

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

import struct
from collections.abc import Mapping, Sequence
from typing import Any

from harness.model import kernel_flags
from harness.model.syscalls.entry import Arg, Syscall, Timeout
from harness.model.syscalls.structs import (
    EPOLL_EVENT,
    MAX_WATCHED,
    POLLFD,
    TIMESPEC_SIZE,
    MemoryReader,
    decode_epoll_events,
    decode_fd_set,
    decode_pollfds,
    decode_timeval,
    fd_set_size,
    pointer,
    read_sigset,
    read_struct,
    read_timespec,
    s32,
    u32,
)


def _close(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"fd": s32(raw[0])}


CLOSE = Syscall(
    name="close",
    family="desc",
    args=(Arg(name="fd", kind="fd"),),
    decode_entry=_close,
    register_only=True,
    traits=frozenset({"closes"}),
    source="close(2); fs/open.c",
)


def _dup(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"oldfd": s32(raw[0])}


def _dup2(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"oldfd": s32(raw[0]), "newfd": s32(raw[1])}


def _dup3(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {
        "oldfd": s32(raw[0]),
        "newfd": s32(raw[1]),
        "flags": kernel_flags.OPEN_FILE_FLAGS_XLAT.flags(u32(raw[2])),
    }


def _close_range(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {
        "fd": raw[0] & 0xFFFF_FFFF,  # unsigned int: ~0U, the last descriptor there can be, prints as 4294967295
        "max_fd": raw[1] & 0xFFFF_FFFF,
        "flags": kernel_flags.CLOSE_RANGE_FLAGS_XLAT.flags(u32(raw[2])),
    }


def _oldfd(args: Mapping[str, Any]) -> str | None:
    """The dup family's result is another number for ``oldfd``'s open file."""
    return "oldfd"


DUP = Syscall(
    name="dup",
    family="desc",
    args=(Arg(name="oldfd", kind="fd"),),
    decode_entry=_dup,
    register_only=True,
    result="fd",
    duplicated=_oldfd,
    source="dup(2); fs/file.c",
)

DUP2 = Syscall(
    name="dup2",
    family="desc",
    args=(Arg(name="oldfd", kind="fd"), Arg(name="newfd", kind="fd")),
    decode_entry=_dup2,
    register_only=True,
    result="fd",
    duplicated=_oldfd,
    source="dup2(2); fs/file.c",
)

DUP3 = Syscall(
    name="dup3",
    family="desc",
    args=(
        Arg(name="oldfd", kind="fd"),
        Arg(name="newfd", kind="fd"),
        Arg(name="flags", kind="flags", xlat=kernel_flags.OPEN_FILE_FLAGS_XLAT),
    ),
    decode_entry=_dup3,
    register_only=True,
    result="fd",
    duplicated=_oldfd,
    source="dup3(2); fs/file.c",
)

CLOSE_RANGE = Syscall(
    name="close_range",
    family="desc",
    args=(
        Arg(name="fd", kind="int"),
        Arg(name="max_fd", kind="int"),
        Arg(name="flags", kind="flags", xlat=kernel_flags.CLOSE_RANGE_FLAGS_XLAT),
    ),
    decode_entry=_close_range,
    register_only=True,
    traits=frozenset({"closes_range"}),
    source="close_range(2); fs/file.c",
)


def _pipe2(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"flags": kernel_flags.OPEN_FILE_FLAGS_XLAT.flags(u32(raw[1]))}


def _pipe2_exit(raw: Sequence[int], ret: int, read: MemoryReader, entered: Mapping[str, Any]) -> dict[str, Any]:
    """The two new descriptors, read end first, written only where the call succeeded."""
    data = read_struct(read, raw[0], 8) if ret >= 0 else None
    return {"pipefd": list(struct.unpack("<ii", data)) if data is not None else pointer(raw[0])}


PIPE2 = Syscall(
    name="pipe2",
    family="desc",
    args=(
        Arg(name="pipefd", kind="fds", output=True),
        Arg(name="flags", kind="flags", xlat=kernel_flags.OPEN_FILE_FLAGS_XLAT),
    ),
    decode_entry=_pipe2,
    decode_exit=_pipe2_exit,
    register_only=True,
    source="pipe2(2); fs/pipe.c",
)


def _readable_pollfds(address: int, count: int, read: MemoryReader) -> bytes:
    """The first ``count`` struct pollfd at ``address``: as many whole ones as can be read, in one read if all can."""
    data = read_struct(read, address, count * POLLFD.size)
    if data is not None:
        return data
    elements = []
    for index in range(count):  # an array that runs into unmapped memory: element by element, as far as it goes
        element = read_struct(read, address + index * POLLFD.size, POLLFD.size)
        if element is None:
            break
        elements.append(element)
    return b"".join(elements)


def _pollfds(address: int, nfds: int, read: MemoryReader) -> list[dict[str, Any]] | str | None:
    """The watched array as strace prints it.

    Each element, up to the first that cannot be read (then its address, ``... /* 0x7f... */``), or the
    pointer when none can.
    """
    count = min(max(nfds, 0), MAX_WATCHED)
    if count == 0:
        return [] if address else None
    data = _readable_pollfds(address, count, read)
    if not data:
        return pointer(address)
    if len(data) < count * POLLFD.size:
        return [*decode_pollfds(data), {"unreadable": hex(address + len(data))}]
    more = [{"more": True}] if nfds > count else []  # strace's "...": elements past its limit
    return decode_pollfds(data) + more


def _poll(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    nfds = u32(raw[1])
    return {"fds": _pollfds(raw[0], nfds, read), "nfds": nfds, "timeout": s32(raw[2])}


def _ready_pollfds(raw: Sequence[int], ret: int, read: MemoryReader) -> list[dict[str, Any]] | None:
    """The descriptors poll found ready, with what happened to each (their revents), read at exit."""
    nfds = min(u32(raw[1]), MAX_WATCHED)
    if ret <= 0 or not raw[0] or not nfds:
        return None
    ready = []
    for fd, _events, revents in POLLFD.iter_unpack(_readable_pollfds(raw[0], nfds, read)):
        if revents:
            ready.append({"fd": fd, "revents": kernel_flags.POLL_EVENTS_XLAT.flags(revents & 0xFFFF)})
    return ready


def _poll_exit(raw: Sequence[int], ret: int, read: MemoryReader, entered: Mapping[str, Any]) -> dict[str, Any]:
    ready = _ready_pollfds(raw, ret, read)
    return {"ready": ready} if ready is not None else {}


def _ppoll(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    nfds = u32(raw[1])
    return {
        "fds": _pollfds(raw[0], nfds, read),
        "nfds": nfds,
        "tsp": read_timespec(read, raw[2]),
        "sigmask": read_sigset(read, raw[3], raw[4]),
        "sigsetsize": raw[4],
    }


def _ppoll_exit(raw: Sequence[int], ret: int, read: MemoryReader, entered: Mapping[str, Any]) -> dict[str, Any]:
    outputs = _poll_exit(raw, ret, read, entered)
    if ret > 0 and raw[2]:  # the time left, which the kernel writes back into tsp
        outputs["left"] = read_timespec(read, raw[2])
    return outputs


#: What poll and ppoll found, shown after the result as strace shows it: ``= 1 ([{fd=3, revents=POLLIN}])``.
_READY = Arg(name="ready", kind="ready_pollfds", output=True, result_note=True, optional=True)

POLL = Syscall(
    name="poll",
    family="desc",
    args=(Arg(name="fds", kind="pollfds"), Arg(name="nfds", kind="int"), Arg(name="timeout", kind="int"), _READY),
    decode_entry=_poll,
    decode_exit=_poll_exit,
    register_only=False,  # reads the pollfd array
    timeout_note=True,
    traits=frozenset({"waits_on_descriptors"}),
    timeout=Timeout(2, forever_is_negative=True),
    source="poll(2); fs/select.c",
)

PPOLL = Syscall(
    name="ppoll",
    family="desc",
    args=(
        Arg(name="fds", kind="pollfds"),
        Arg(name="nfds", kind="int"),
        Arg(name="tsp", kind="timespec"),
        Arg(name="sigmask", kind="sigset"),
        Arg(name="sigsetsize", kind="int"),
        _READY,
        Arg(name="left", kind="timespec", output=True, result_note=True, optional=True),
    ),
    decode_entry=_ppoll,
    decode_exit=_ppoll_exit,
    register_only=False,
    timeout_note=True,
    traits=frozenset({"waits_on_descriptors"}),
    timeout=Timeout(2, forever_is_negative=False),
    source="ppoll(2); fs/select.c",
)


def _fd_set(address: int, nfds: int, read: MemoryReader) -> list[int] | str | None:
    size = fd_set_size(nfds)
    data = read_struct(read, address, size) if size else None
    return decode_fd_set(data, nfds) if data is not None else pointer(address)


def _select(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    nfds = s32(raw[0])
    data = read_struct(read, raw[4], TIMESPEC_SIZE)
    return {
        "nfds": nfds,
        "readfds": _fd_set(raw[1], nfds, read),
        "writefds": _fd_set(raw[2], nfds, read),
        "exceptfds": _fd_set(raw[3], nfds, read),
        "timeout": decode_timeval(data) if data is not None else pointer(raw[4]),
    }


def _ready_sets(raw: Sequence[int], ret: int, read: MemoryReader) -> dict[str, Any]:
    """The sets as the kernel left them (the ready descriptors), at most ``ret`` of them in all (strace's order)."""
    nfds, left, ready = s32(raw[0]), ret, {}
    for name, address in (("in", raw[1]), ("out", raw[2]), ("except", raw[3])):
        size = fd_set_size(nfds)
        data = read_struct(read, address, size) if size and left > 0 else None
        if data is not None:
            fds = decode_fd_set(data, nfds)[:left]
            left -= len(fds)
            if fds:
                ready[name] = fds
    return ready


def _select_exit(raw: Sequence[int], ret: int, read: MemoryReader, entered: Mapping[str, Any]) -> dict[str, Any]:
    if ret <= 0:
        return {}
    outputs: dict[str, Any] = {"ready": _ready_sets(raw, ret, read)}
    if raw[4]:
        data = read_struct(read, raw[4], TIMESPEC_SIZE)
        outputs["left"] = decode_timeval(data) if data is not None else pointer(raw[4])
    return outputs


def _pselect6(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    args = _select(raw, read)
    args["timeout"] = read_timespec(read, raw[4])
    # The sixth argument points to {const sigset_t *ss; size_t ss_len} (fs/select.c, do_pselect's caller).
    data = read_struct(read, raw[5], 16)
    if data is None:
        args["sigmask"] = pointer(raw[5])
    else:
        address, size = struct.unpack("<QQ", data)
        args["sigmask"] = {"sigmask": read_sigset(read, address, size), "sigsetsize": size}
    return args


def _pselect6_exit(raw: Sequence[int], ret: int, read: MemoryReader, entered: Mapping[str, Any]) -> dict[str, Any]:
    if ret <= 0:
        return {}
    outputs: dict[str, Any] = {"ready": _ready_sets(raw, ret, read)}
    if raw[4]:
        outputs["left"] = read_timespec(read, raw[4])
    return outputs


_SELECT_ARGS = (
    Arg(name="nfds", kind="int"),
    Arg(name="readfds", kind="fd_set"),
    Arg(name="writefds", kind="fd_set"),
    Arg(name="exceptfds", kind="fd_set"),
)
#: What select found, after the result: ``= 1 (in [3], left {tv_sec=4, tv_usec=999000})``.
_READY_SETS = Arg(name="ready", kind="ready_fd_sets", output=True, result_note=True, optional=True)

SELECT = Syscall(
    name="select",
    family="desc",
    args=(
        *_SELECT_ARGS,
        Arg(name="timeout", kind="timeval"),
        _READY_SETS,
        Arg(name="left", kind="timeval", output=True, result_note=True, optional=True),
    ),
    decode_entry=_select,
    decode_exit=_select_exit,
    register_only=False,  # reads the three sets
    timeout_note=True,
    traits=frozenset({"waits_on_descriptors"}),
    timeout=Timeout(4, forever_is_negative=False),
    source="select(2); fs/select.c",
)

PSELECT6 = Syscall(
    name="pselect6",
    family="desc",
    args=(
        *_SELECT_ARGS,
        Arg(name="timeout", kind="timespec"),
        Arg(name="sigmask", kind="pselect_sigmask"),
        _READY_SETS,
        Arg(name="left", kind="timespec", output=True, result_note=True, optional=True),
    ),
    decode_entry=_pselect6,
    decode_exit=_pselect6_exit,
    register_only=False,
    timeout_note=True,
    traits=frozenset({"waits_on_descriptors"}),
    timeout=Timeout(4, forever_is_negative=False),
    source="pselect6(2) (select(2)); fs/select.c",
)


def _epoll_wait(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"epfd": s32(raw[0]), "maxevents": s32(raw[2]), "timeout": s32(raw[3])}


def _epoll_pwait(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {**_epoll_wait(raw, read), "sigsetsize": raw[5]}


def _epoll_pwait_exit(raw: Sequence[int], ret: int, read: MemoryReader, entered: Mapping[str, Any]) -> dict[str, Any]:
    """The mask, which strace shows at exit with the arguments after the events: read where the call succeeded."""
    mask = read_sigset(read, raw[4], raw[5]) if ret >= 0 else pointer(raw[4])
    return {**_epoll_wait_exit(raw, ret, read, entered), "sigmask": mask}


def _epoll_wait_exit(raw: Sequence[int], ret: int, read: MemoryReader, entered: Mapping[str, Any]) -> dict[str, Any]:
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
    traits=frozenset({"waits_on_descriptors"}),
    timeout=Timeout(3, forever_is_negative=True),
    source="epoll_wait(2); fs/eventpoll.c",
)

EPOLL_PWAIT = Syscall(
    name="epoll_pwait",
    family="desc",
    args=(*_EPOLL_ARGS, Arg(name="sigmask", kind="sigset", output=True), Arg(name="sigsetsize", kind="int")),
    decode_entry=_epoll_pwait,
    decode_exit=_epoll_pwait_exit,
    register_only=True,
    traits=frozenset({"waits_on_descriptors"}),
    timeout=Timeout(3, forever_is_negative=True),
    source="epoll_pwait(2) (epoll_wait(2)); fs/eventpoll.c",
)

CALLS = (CLOSE, DUP, DUP2, DUP3, CLOSE_RANGE, PIPE2, POLL, PPOLL, SELECT, PSELECT6, EPOLL_WAIT, EPOLL_PWAIT)
