"""Decode raw system-call arguments and kernel structs into trace values.

Pure functions of numbers and bytes: the tracer hands in the six raw argument
registers and a way to read the tracee's memory, and gets JSON-like values
back.  Keeping them apart from ptrace lets them be tested on bytes built by
hand.

Like strace, input arguments are decoded at syscall entry and output
arguments only at exit and only when the call succeeded; an output argument
the kernel did not write is shown as its pointer, never invented.

Struct layouts are those of x86_64 (LP64, little-endian), from the headers
named at each struct.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from harness.model import kernel

#: Reads ``size`` bytes at ``address`` of the tracee; None when unreadable.
MemoryReader = Callable[[int, int], "bytes | None"]

#: The output arguments of each decoded call, written by the kernel at exit.
#: Also what the text renderer leaves out of an ``<unfinished ...>`` line.
OUTPUT_ARGS: Mapping[str, tuple[str, ...]] = {
    "accept": ("addr", "addrlen"),
    "accept4": ("addr", "addrlen"),
    "wait4": ("status",),
    "waitid": ("infop",),
    "rt_sigaction": ("oldact",),
}


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
_SIGINFO_HEAD = struct.Struct("<iii")
_SIGINFO_KILL = struct.Struct("<iI")  # si_pid, si_uid
_SIGINFO_CHLD = struct.Struct("<iIi")  # si_pid, si_uid, si_status
_SIGINFO_FAULT = struct.Struct("<Q")  # si_addr


def decode_siginfo(data: bytes) -> dict[str, Any]:
    """Decode the siginfo of a signal: who sent it and why, by its si_code."""
    signo, _errno, code = _SIGINFO_HEAD.unpack_from(data)
    name = kernel.signal_name(signo)
    code_name = kernel.si_code_name(name, code)
    info: dict[str, Any] = {"si_signo": name, "si_code": code_name}
    if name == "SIGCHLD" and code_name.startswith("CLD_"):
        pid, uid, status = _SIGINFO_CHLD.unpack_from(data, 16)
        info.update(si_pid=pid, si_uid=uid)
        info["si_status"] = kernel.signal_name(status) if code_name in kernel.CLD_STATUS_IS_SIGNAL else status
    elif code_name in kernel.SI_CODES_WITH_SENDER:
        pid, uid = _SIGINFO_KILL.unpack_from(data, 16)
        info.update(si_pid=pid, si_uid=uid)
    elif name in ("SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGTRAP") and code > 0:
        info["si_addr"] = hex(_SIGINFO_FAULT.unpack_from(data, 16)[0])
    return info


# -- per-call decoders --------------------------------------------------------


def _read_struct(read: MemoryReader, address: int, size: int) -> bytes | None:
    if address == 0:
        return None
    data = read(address, size)
    return data if data is not None and len(data) == size else None


#: Calls whose input arguments decode from the registers alone (no tracee memory read):
#: the same registers always give the same arguments, so one decoded value can serve many events.
REGISTER_ONLY = frozenset(
    {"listen", "accept", "accept4", "clone", "close", "wait4", "waitid", "kill", "tkill", "exit", "exit_group"}
)


def decode_entry(
    name: str,
    raw: Sequence[int],
    read: MemoryReader,
    arg_names: Sequence[str] = (),
) -> dict[str, Any]:
    """Decode the input arguments of a call at its entry.

    ``arg_names`` names the arguments of calls without a decoder of their
    own (from the syscall prototype table); their values are kept raw.
    """
    match name:
        case "listen":
            return {"fd": s32(raw[0]), "backlog": s32(raw[1])}
        case "accept":
            return {"fd": s32(raw[0])}
        case "accept4":
            return {"fd": s32(raw[0]), "flags": kernel.flag_names(raw[3], kernel.SOCK_FLAGS)}
        case "clone":
            return {
                "flags": decode_clone_flags(raw[0]),
                "exit_signal": kernel.signal_name(raw[0] & 0xFF) if raw[0] & 0xFF else None,
            }
        case "clone3":
            data = _read_struct(read, raw[0], _CLONE_ARGS.size)
            args = decode_clone3_args(data) if data else {"flags": pointer(raw[0]), "exit_signal": None}
            return {**args, "size": raw[1]}
        case "close":
            return {"fd": s32(raw[0])}
        case "wait4":
            return {"pid": s32(raw[0]), "options": kernel.flag_names(raw[2], kernel.WAIT_OPTIONS)}
        case "waitid":
            return {
                "idtype": kernel.WAITID_IDTYPES.get(raw[0], raw[0]),
                "id": s32(raw[1]),
                "options": kernel.flag_names(raw[3], kernel.WAIT_OPTIONS),
            }
        case "kill" | "tkill":
            return {"pid": s32(raw[0]), "signal": kernel.signal_name(raw[1]) if raw[1] else 0}
        case "rt_sigaction":
            act = _read_struct(read, raw[1], _KERNEL_SIGACTION.size)
            return {
                "signal": kernel.signal_name(raw[0]),
                "act": decode_sigaction(act) if act else pointer(raw[1]),
                "sigsetsize": raw[3],
            }
        case "exit" | "exit_group":
            return {"status": s32(raw[0])}
        case "fork" | "vfork" | "rt_sigreturn" | "restart_syscall":
            return {}
    return {arg: s64(value) for arg, value in zip(arg_names, raw, strict=False)}


def decode_exit(name: str, raw: Sequence[int], ret: int, read: MemoryReader) -> dict[str, Any]:
    """Decode the output arguments of a call at its exit, given its return value."""
    ok = ret >= 0
    match name:
        case "accept" | "accept4":
            length_data = _read_struct(read, raw[2], 4) if ok else None
            if not ok or length_data is None:
                return {"addr": pointer(raw[1]), "addrlen": pointer(raw[2])}
            (length,) = struct.unpack("<i", length_data)
            data = _read_struct(read, raw[1], min(max(length, 0), 128))
            return {
                "addr": decode_sockaddr(data) if data else pointer(raw[1]),
                "addrlen": length,
            }
        case "wait4":
            data = _read_struct(read, raw[1], 4) if ret > 0 else None
            status = kernel.decode_wait_status(struct.unpack("<i", data)[0]) if data else pointer(raw[1])
            return {"status": status}
        case "waitid":
            data = _read_struct(read, raw[2], 128) if ok else None
            # waitid with WNOHANG and no child ready leaves si_pid == 0.
            infop = decode_siginfo(data) if data and any(data[:4]) else pointer(raw[2])
            return {"infop": infop}
        case "rt_sigaction":
            data = _read_struct(read, raw[2], _KERNEL_SIGACTION.size) if ok else None
            return {"oldact": decode_sigaction(data) if data else pointer(raw[2])}
    return {}
