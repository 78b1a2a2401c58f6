"""Decode kernel structs and register values into trace values.

Pure functions of numbers and bytes, shared by the per-call decoders of the
syscall catalogue's entries, which hand in a call's raw argument registers
and a way to read the tracee's memory.  Keeping them
apart from ptrace lets them be tested on bytes built by hand.

Struct layouts are those of x86_64 (LP64, little-endian), from the headers
named at each struct.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from harness.model import kernel, kernel_flags

#: Reads ``size`` bytes at ``address`` of the tracee; None when unreadable.
MemoryReader = Callable[[int, int], "bytes | None"]


def s32(value: int) -> int:
    """Reinterpret the low 32 bits of a register as a C ``int``."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def u32(value: int) -> int:
    """The low 32 bits of a register, as the kernel reads an ``unsigned int`` (or flags) argument."""
    return value & 0xFFFFFFFF


def s64(value: int) -> int:
    """Reinterpret a 64-bit register as a C ``long``."""
    value &= 0xFFFFFFFFFFFFFFFF
    return value - (1 << 64) if value & (1 << 63) else value


def signal_arg(value: int) -> str | int:
    """A signal argument (an ``int``): its name, or the number for 0 and for a number that is no signal."""
    number = s32(value)
    return kernel.SIGNAL_NAMES.get(number, number)


def c_hex(value: int) -> str | int:
    """A number strace prints with C's ``%#x``: in hex, but 0 as ``0`` (kept a number)."""
    return hex(value) if value else 0


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

#: struct __kernel_timespec / timeval on x86_64 (include/uapi/linux/time_types.h): a signed 64-bit
#: seconds field, then nanoseconds or microseconds, which strace prints as unsigned (src/print_timespec.h).
_TIME_PAIR = struct.Struct("<qQ")
TIMESPEC_SIZE = _TIME_PAIR.size


def decode_timespec(data: bytes) -> dict[str, int]:
    """A ``struct timespec``: ``{tv_sec=1, tv_nsec=500}``."""
    seconds, nanoseconds = _TIME_PAIR.unpack_from(data)
    return {"tv_sec": seconds, "tv_nsec": nanoseconds}


def decode_timeval(data: bytes) -> dict[str, int]:
    """A ``struct timeval``: ``{tv_sec=1, tv_usec=500}``."""
    seconds, microseconds = _TIME_PAIR.unpack_from(data)
    return {"tv_sec": seconds, "tv_usec": microseconds}


def read_timespec(read: MemoryReader, address: int) -> dict[str, int] | str | None:
    """A timespec argument: decoded, or its pointer (NULL as None) where it cannot be read, as strace shows it."""
    data = read_struct(read, address, TIMESPEC_SIZE)
    return decode_timespec(data) if data is not None else pointer(address)


#: The bytes of a kernel sigset on x86_64 (_NSIG / 8): what the rt_* calls take as sigsetsize.
SIGSET_SIZE = 8


def read_sigset(read: MemoryReader, address: int, size: int = SIGSET_SIZE) -> list[str] | str | None:
    """A sigset argument of ``size`` bytes: the signals in it, or its pointer where it cannot be read.

    strace reads no set of another size than the kernel's (it prints the pointer), nor does this.
    """
    data = read_struct(read, address, size) if size == SIGSET_SIZE else None
    return decode_sigset(int.from_bytes(data, "little")) if data is not None else pointer(address)


#: struct rusage (include/uapi/linux/resource.h): two timevals, then fourteen longs; strace prints the
#: times only, ``{ru_utime={...}, ru_stime={...}, ...}``, unless -v.
RUSAGE_SIZE = 144


#: The longs after the two times, in order (include/uapi/linux/resource.h), unsigned as strace prints them.
RUSAGE_COUNTERS = (
    "ru_maxrss",
    "ru_ixrss",
    "ru_idrss",
    "ru_isrss",
    "ru_minflt",
    "ru_majflt",
    "ru_nswap",
    "ru_inblock",
    "ru_oublock",
    "ru_msgsnd",
    "ru_msgrcv",
    "ru_nsignals",
    "ru_nvcsw",
    "ru_nivcsw",
)
_RUSAGE_COUNTERS = struct.Struct(f"<{len(RUSAGE_COUNTERS)}Q")


def read_rusage(read: MemoryReader, address: int) -> dict[str, Any] | str | None:
    """wait4's and waitid's resource usage, whole (the text abbreviates it to its times), or the pointer."""
    data = read_struct(read, address, RUSAGE_SIZE)
    if data is None:
        return pointer(address)
    counters = dict(zip(RUSAGE_COUNTERS, _RUSAGE_COUNTERS.unpack_from(data, 32), strict=True))
    return {"ru_utime": decode_timeval(data[:16]), "ru_stime": decode_timeval(data[16:32]), **counters}


def decode_sockaddr(data: bytes) -> dict[str, Any]:
    """Decode a socket address (include/uapi/linux/in.h, in6.h, un.h)."""
    if len(data) < 2:
        return {"family": None}
    (family_number,) = struct.unpack_from("<H", data)
    family = kernel_flags.ADDRESS_FAMILIES_XLAT.name(family_number)
    if family == "AF_INET" and len(data) >= 8:
        port = int.from_bytes(data[2:4], "big")
        return {"family": family, "port": port, "address": ".".join(map(str, data[4:8]))}
    if family == "AF_INET6" and len(data) >= 24:
        port = int.from_bytes(data[2:4], "big")
        flowinfo = int.from_bytes(data[4:8], "big")
        # inet_ntop, as strace prints it (::ffff:127.0.0.1 for a mapped IPv4 address); socket is imported
        # only when an IPv6 peer comes, not at every start.
        import socket

        address = socket.inet_ntop(socket.AF_INET6, data[8:24])
        scope_id = struct.unpack_from("<I", data, 24)[0] if len(data) >= 28 else 0
        return {
            "family": family,
            "port": port,
            "address": address,
            "flowinfo": flowinfo,
            "scope_id": scope_id,
        }
    if family == "AF_UNIX":
        if len(data) == 2:  # a buffer of the family alone: no path to show (strace: {sa_family=AF_UNIX})
            return {"family": family}
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
#: Where ``sa_handler`` and ``sa_flags`` sit in it (arch/x86/include/uapi/asm/signal.h, ``struct sigaction``
#: of the kernel's ABI: handler, flags, restorer, mask).
SIGACTION_HANDLER_OFFSET, SIGACTION_FLAGS_OFFSET = 0, 8


def decode_sigset(mask: int) -> list[str]:
    """Name the signals in a sigset bit mask (bit n-1 stands for signal n)."""
    return [kernel.signal_name(bit + 1) for bit in range(64) if mask >> bit & 1]


def decode_sigaction(data: bytes) -> dict[str, Any]:
    """Decode a kernel ``struct sigaction`` into handler kind, flags and mask."""
    handler, flags, restorer, mask = _KERNEL_SIGACTION.unpack_from(data)
    return {
        "handler": kernel.SPECIAL_HANDLERS.get(handler, hex(handler)),
        "flags": kernel_flags.SA_FLAGS_XLAT.flags(flags),
        "mask": decode_sigset(mask),
        "restorer": pointer(restorer) if flags & 0x04000000 else None,
    }


#: struct clone_args (include/uapi/linux/sched.h, CLONE_ARGS_SIZE_VER2): flags, pidfd, child_tid,
#: parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup; 64 bytes up to tls
#: (VER0, the least clone3 takes), 88 in all.
_CLONE_ARGS = struct.Struct("<11Q")
_CLONE_ARGS_FIELDS = (
    "flags",
    "pidfd",
    "child_tid",
    "parent_tid",
    "exit_signal",
    "stack",
    "stack_size",
    "tls",
    "set_tid",
    "set_tid_size",
    "cgroup",
)

#: The bytes of ``struct clone_args`` the decoder reads (clone3's ``size`` may be larger), and the least.
CLONE_ARGS_SIZE = _CLONE_ARGS.size
CLONE_ARGS_MIN_SIZE = 64
#: Where clone_args.cgroup starts: a shorter struct has none.
_CGROUP_OFFSET = 80
#: The most set_tid entries the kernel takes (MAX_PID_NS_LEVEL, include/linux/pid_namespace.h).
MAX_SET_TID = 32


def decode_clone_flags(flags: int) -> list[str]:
    """Name clone flags without the exit-signal byte clone() keeps in them."""
    return kernel_flags.CLONE_FLAGS_XLAT.flags(flags & ~kernel_flags.CLONE_EXIT_SIGNAL_MASK)


def decode_clone3_args(data: bytes, read: MemoryReader) -> dict[str, Any]:
    """Decode the ``struct clone_args`` that clone3 takes, as strace prints it (``SYS_FUNC(clone3)``, src/clone.c).

    The members a flag gives meaning to are kept only with that flag
    (``pidfd`` with CLONE_PIDFD...); ``set_tid`` is read as its array of pids
    where it can be; ``cgroup`` where it was given.  Members past ``data``
    (a caller's older, shorter struct) are zero, as the kernel takes them.
    """
    values = dict(zip(_CLONE_ARGS_FIELDS, _CLONE_ARGS.unpack(data.ljust(CLONE_ARGS_SIZE, b"\0")), strict=True))
    flags = values["flags"]
    exit_signal = values["exit_signal"]
    bit = kernel_flags.CLONE_BITS
    args: dict[str, Any] = {
        "flags": kernel_flags.CLONE3_FLAGS_XLAT.flags(flags),
        # strace names any exit signal below INT_MAX as a signal (printsignal: a number where it is no signal).
        "exit_signal": (kernel.SIGNAL_NAMES.get(exit_signal, exit_signal) if exit_signal else None)
        if exit_signal < 0x7FFFFFFF
        else exit_signal,
    }
    fields: dict[str, Any] = {}
    if flags & bit["CLONE_PIDFD"]:
        fields["pidfd"] = pointer(values["pidfd"])
    if flags & (bit["CLONE_CHILD_SETTID"] | bit["CLONE_CHILD_CLEARTID"]):
        fields["child_tid"] = pointer(values["child_tid"])
    if flags & bit["CLONE_PARENT_SETTID"]:
        fields["parent_tid"] = pointer(values["parent_tid"])
    fields["stack"] = pointer(values["stack"])
    fields["stack_size"] = values["stack_size"]
    if flags & bit["CLONE_SETTLS"]:
        fields["tls"] = pointer(values["tls"])
    set_tid, count = values["set_tid"], values["set_tid_size"]
    if set_tid or count:
        listed = read_struct(read, set_tid, 4 * count) if set_tid and 0 < count <= MAX_SET_TID else None
        fields["set_tid"] = list(struct.unpack(f"<{count}i", listed)) if listed is not None else pointer(set_tid)
        fields["set_tid_size"] = count
    if len(data) > _CGROUP_OFFSET and (values["cgroup"] or flags & bit["CLONE_INTO_CGROUP"]):
        fields["cgroup"] = values["cgroup"]
    return {**args, "cl_args": fields}


#: siginfo_t on 64-bit (include/uapi/asm-generic/siginfo.h): three ints, then
#: the union, 8-aligned at offset 16.
SIGINFO_SIZE = 128
_SIGINFO_HEAD = struct.Struct("<iii")
_SIGINFO_UNION = 16

#: A part of the union: its layout and its members' names, in order.
_UnionPart = tuple[struct.Struct, tuple[str, ...]]

#: The parts of the union the decoder reads; the si_code selects one.
_SIGINFO_KILL: _UnionPart = (struct.Struct("<iI"), ("si_pid", "si_uid"))  # _kill, _rt: the sender
_SIGINFO_CHLD: _UnionPart = (  # _sigchld: then the child's user and system times (clock_t, 8-aligned)
    struct.Struct("<iIixxxxqq"),
    ("si_pid", "si_uid", "si_status", "si_utime", "si_stime"),
)
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
    if signo == 0:  # nothing was written: waitid with WNOHANG and no child ready (waitid(2)); strace prints {}
        return {}
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

#: The most array elements or set bits decoded, strace's default string limit (-s 32): a call
#: watching more still decodes, with the rest left out (an array ends with strace's ``...``).
MAX_WATCHED = 32
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
        # The kernel ignores a negative fd's events (poll(2)), and strace prints none: {fd=-1}.
        fds.append({"fd": fd} if fd < 0 else {"fd": fd, "events": kernel_flags.POLL_EVENTS_XLAT.flags(events & 0xFFFF)})
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
        events.append({"events": kernel_flags.EPOLL_EVENTS_XLAT.flags(bits), "data": value})
    return events
