"""Decode kernel structs and register values into trace values.

Pure functions of numbers and bytes, shared by the per-call decoders of the
syscall catalogue's entries, which hand in a call's raw argument registers
and a way to read the tracee's memory.  Keeping them
apart from ptrace lets them be tested on bytes built by hand.

Struct layouts are those of x86_64 (LP64, little-endian), from the headers
named at each struct.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable
from typing import Any

from harness.model import kernel

#: Reads ``size`` bytes at ``address`` of the tracee; None when unreadable.
MemoryReader = Callable[[int, int], "bytes | None"]


def s32(value: int) -> int:
    """Reinterpret the low 32 bits of a register as a C ``int``."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def s64(value: int) -> int:
    """Reinterpret a 64-bit register as a C ``long``."""
    value &= 0xFFFFFFFFFFFFFFFF
    return value - (1 << 64) if value & (1 << 63) else value


def pointer(value: int) -> str | None:
    """Show a pointer argument: None for NULL, else its address in hex."""
    return None if value == 0 else hex(value)


def read_struct(read: MemoryReader, address: int, size: int) -> bytes | None:
    """The ``size`` bytes of a struct at ``address``; None for NULL or memory that cannot be read whole."""
    if address == 0:
        return None
    data = read(address, size)
    return data if data is not None and len(data) == size else None


# -- structs -----------------------------------------------------------------


def decode_sockaddr(data: bytes) -> dict[str, Any]:
    """Decode a socket address (include/uapi/linux/in.h, in6.h, un.h)."""
    if len(data) < 2:
        return {"family": None}
    (family_number,) = struct.unpack_from("<H", data)
    family = kernel.ADDRESS_FAMILIES.get(family_number, family_number)
    if family == "AF_INET" and len(data) >= 8:
        port = int.from_bytes(data[2:4], "big")
        return {"family": family, "port": port, "address": str(ipaddress.IPv4Address(data[4:8]))}
    if family == "AF_INET6" and len(data) >= 24:
        port = int.from_bytes(data[2:4], "big")
        flowinfo = int.from_bytes(data[4:8], "big")
        address = str(ipaddress.IPv6Address(data[8:24]))
        scope_id = struct.unpack_from("<I", data, 24)[0] if len(data) >= 28 else 0
        return {
            "family": family,
            "port": port,
            "address": address,
            "flowinfo": flowinfo,
            "scope_id": scope_id,
        }
    if family == "AF_UNIX":
        path = data[2:]
        if path[:1] == b"\0":  # abstract socket: the name is the whole rest
            return {"family": family, "path": "@" + path[1:].decode("utf-8", "backslashreplace")}
        return {"family": family, "path": path.split(b"\0", 1)[0].decode("utf-8", "backslashreplace")}
    return {"family": family}


#: struct sigaction as the kernel sees it on x86_64 (arch/x86/include/uapi/asm/signal.h):
#: handler, flags, restorer, then the mask (sigsetsize bytes, 8 on x86_64).
_KERNEL_SIGACTION = struct.Struct("<QQQQ")

#: The bytes rt_sigaction reads and writes at ``act`` and ``oldact``.
SIGACTION_SIZE = _KERNEL_SIGACTION.size


def decode_sigset(mask: int) -> list[str]:
    """Name the signals in a sigset bit mask (bit n-1 stands for signal n)."""
    return [kernel.signal_name(bit + 1) for bit in range(64) if mask >> bit & 1]


def decode_sigaction(data: bytes) -> dict[str, Any]:
    """Decode a kernel ``struct sigaction`` into handler kind, flags and mask."""
    handler, flags, restorer, mask = _KERNEL_SIGACTION.unpack_from(data)
    return {
        "handler": kernel.SPECIAL_HANDLERS.get(handler, hex(handler)),
        "flags": kernel.flag_names(flags, kernel.SA_FLAGS),
        "mask": decode_sigset(mask),
        "restorer": pointer(restorer) if flags & 0x04000000 else None,
    }


#: struct clone_args (include/uapi/linux/sched.h): the members up to tls.
_CLONE_ARGS = struct.Struct("<QQQQQQQQ")

#: The bytes of ``struct clone_args`` the decoder reads (clone3's ``size`` may be larger).
CLONE_ARGS_SIZE = _CLONE_ARGS.size


def decode_clone_flags(flags: int) -> list[str]:
    """Name clone flags without the exit-signal byte clone() keeps in them."""
    return kernel.flag_names(flags & ~kernel.CLONE_EXIT_SIGNAL_MASK, kernel.CLONE_FLAGS)


def decode_clone3_args(data: bytes) -> dict[str, Any]:
    """Decode the ``struct clone_args`` that clone3 takes."""
    flags, _pidfd, _child_tid, _parent_tid, exit_signal, *_rest = _CLONE_ARGS.unpack_from(data)
    return {
        "flags": kernel.flag_names(flags, kernel.CLONE_FLAGS),
        "exit_signal": kernel.signal_name(exit_signal) if exit_signal else None,
    }


#: siginfo_t on 64-bit (include/uapi/asm-generic/siginfo.h): three ints, then
#: the union, 8-aligned at offset 16.
SIGINFO_SIZE = 128
_SIGINFO_HEAD = struct.Struct("<iii")
_SIGINFO_UNION = 16

#: A part of the union: its layout and its members' names, in order.
_UnionPart = tuple[struct.Struct, tuple[str, ...]]

#: The parts of the union the decoder reads; the si_code selects one.
_SIGINFO_KILL: _UnionPart = (struct.Struct("<iI"), ("si_pid", "si_uid"))  # _kill, _rt: the sender
_SIGINFO_CHLD: _UnionPart = (struct.Struct("<iIi"), ("si_pid", "si_uid", "si_status"))  # _sigchld
_SIGINFO_FAULT: _UnionPart = (struct.Struct("<Q"), ("si_addr",))  # _sigfault

#: Every siginfo member the decoder records, in the order it records them: the
#: fields a step may name (``--- SIGCHLD {si_pid=$child} ---``).
SIGINFO_FIELDS: tuple[str, ...] = (
    "si_signo",
    "si_code",
    *dict.fromkeys(name for _, names in (_SIGINFO_KILL, _SIGINFO_CHLD, _SIGINFO_FAULT) for name in names),
)

#: Signals whose si_code > 0 reports a fault at an address (sigaction(2)).
_FAULT_SIGNALS = frozenset({"SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGTRAP"})


def decode_siginfo(data: bytes) -> dict[str, Any]:
    """Decode the siginfo of a signal: who sent it and why, by its si_code."""
    signo, _errno, code = _SIGINFO_HEAD.unpack_from(data)
    name = kernel.signal_name(signo)
    code_name = kernel.si_code_name(name, code)
    info: dict[str, Any] = {"si_signo": name, "si_code": code_name}
    if name == "SIGCHLD" and code_name.startswith("CLD_"):
        layout, names = _SIGINFO_CHLD
        info.update(zip(names, layout.unpack_from(data, _SIGINFO_UNION), strict=True))
        if code_name in kernel.CLD_STATUS_IS_SIGNAL:
            info["si_status"] = kernel.signal_name(info["si_status"])
    elif code_name in kernel.SI_CODES_WITH_SENDER:
        layout, names = _SIGINFO_KILL
        info.update(zip(names, layout.unpack_from(data, _SIGINFO_UNION), strict=True))
    elif name in _FAULT_SIGNALS and code > 0:
        layout, names = _SIGINFO_FAULT
        info.update(
            (key, hex(value)) for key, value in zip(names, layout.unpack_from(data, _SIGINFO_UNION), strict=True)
        )
    return info


# -- descriptor sets and arrays of the waiting calls ------------------------------

#: The most array elements or set bits decoded (strace stops at its string limit too): a call
#: watching more still decodes, with the rest left out.
MAX_WATCHED = 64
#: struct pollfd: int fd; short events; short revents (include/uapi/asm-generic/poll.h).
POLLFD = struct.Struct("<ihh")
#: struct epoll_event: __u32 events; __u64 data, packed on x86_64 (include/uapi/linux/eventpoll.h, EPOLL_PACKED).
EPOLL_EVENT = struct.Struct("<IQ")
#: The largest descriptor a select(2) set holds (FD_SETSIZE, include/uapi/linux/posix_types.h).
FD_SETSIZE = 1024


def decode_pollfds(data: bytes) -> list[dict[str, Any]]:
    """An array of struct pollfd as the descriptors watched and the events asked for."""
    fds = []
    for offset in range(0, len(data) - POLLFD.size + 1, POLLFD.size):
        fd, events, _revents = POLLFD.unpack_from(data, offset)
        fds.append({"fd": fd, "events": kernel.flag_names(events & 0xFFFF, kernel.POLL_EVENTS)})
    return fds


def decode_fd_set(data: bytes, nfds: int) -> list[int]:
    """A select(2) fd_set as the descriptors in it, below ``nfds`` (bits of little-endian longs)."""
    bits = int.from_bytes(data, "little")
    return [fd for fd in range(min(nfds, len(data) * 8)) if bits >> fd & 1][:MAX_WATCHED]


def fd_set_size(nfds: int) -> int:
    """The bytes of an fd_set that hold ``nfds`` descriptors: whole longs, as the kernel reads them (fs/select.c)."""
    nfds = max(0, min(nfds, FD_SETSIZE))
    return (nfds + 63) // 64 * 8


def decode_epoll_events(data: bytes) -> list[dict[str, Any]]:
    """An array of struct epoll_event: the ready events and each one's data (often the descriptor)."""
    events = []
    for offset in range(0, len(data) - EPOLL_EVENT.size + 1, EPOLL_EVENT.size):
        bits, value = EPOLL_EVENT.unpack_from(data, offset)
        events.append({"events": kernel.flag_names(bits, kernel.EPOLL_EVENTS), "data": value})
    return events
