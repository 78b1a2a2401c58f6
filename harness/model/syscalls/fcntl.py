"""fcntl (strace's ``src/fcntl.c``): a descriptor's flags, its duplicates, its locks and its owner.

A server marks its listening socket close-on-exec (F_SETFD), makes it
non-blocking (F_SETFL) or duplicates it (F_DUPFD): those say which numbers
refer to which open file (:mod:`harness.analysis.descriptors`).  The other
commands print as strace prints them, each with the argument it reads,
and the results strace explains: ``= 0x1 (flags FD_CLOEXEC)``.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

from harness.model import kernel, kernel_flags
from harness.model.syscalls.entry import Arg, Syscall
from harness.model.syscalls.structs import MemoryReader, c_hex, pointer, read_struct, s32, signal_arg, u32

#: struct flock on x86_64 (include/uapi/asm-generic/fcntl.h): short l_type, short l_whence, off_t l_start,
#: off_t l_len, pid_t l_pid, 32 bytes with padding; struct flock64 is the same on a 64-bit kernel.
_FLOCK = struct.Struct("<hhxxxxqqi4x")
#: struct f_owner_ex: int type, pid_t pid.
_OWNER = struct.Struct("<ii")
#: struct delegation (include/uapi/linux/fcntl.h): __u32 d_flags, __u16 d_type, __u16 __pad.
_DELEGATION = struct.Struct("<IHH")


def open_modes(flags: int) -> list[str]:
    """An open file's flags as strace prints them: the access mode first, then the flags (``O_RDWR|O_NONBLOCK``)."""
    return [
        kernel_flags.OPEN_ACCESS_MODES[flags & 3],
        *kernel_flags.flag_names(flags & ~3, kernel_flags.OPEN_FILE_FLAGS),
    ]


def _flock(read: MemoryReader, address: int, *, with_pid: bool) -> dict[str, Any] | str | None:
    data = read_struct(read, address, _FLOCK.size)
    if data is None:
        return pointer(address)
    kind, whence, start, length, pid = _FLOCK.unpack(data)
    lock: dict[str, Any] = {
        "l_type": kernel_flags.value_name(kind & 0xFFFF, kernel_flags.LOCK_TYPES, "F_"),
        "l_whence": kernel_flags.value_name(whence & 0xFFFF, kernel_flags.WHENCE, "SEEK_"),
        "l_start": start,
        "l_len": length,
    }
    return {**lock, "l_pid": pid} if with_pid else lock


def _owner(read: MemoryReader, address: int) -> dict[str, Any] | str | None:
    data = read_struct(read, address, _OWNER.size)
    if data is None:
        return pointer(address)
    kind, pid = _OWNER.unpack(data)
    return {"type": kernel_flags.value_name(kind & 0xFFFF_FFFF, kernel_flags.OWNER_TYPES, "F_OWNER_"), "pid": pid}


def _rw_hint(read: MemoryReader, address: int) -> dict[str, Any] | str | None:
    data = read_struct(read, address, 8)
    if data is None:
        return pointer(address)
    (hint,) = struct.unpack("<Q", data)
    return {"hint": kernel_flags.value_name(hint, kernel_flags.RW_HINTS, "RWH_WRITE_LIFE_")}


def _delegation(read: MemoryReader, address: int) -> dict[str, Any] | str | None:
    data = read_struct(read, address, _DELEGATION.size)
    if data is None:
        return pointer(address)
    flags, kind, pad = _DELEGATION.unpack(data)
    return {
        "d_flags": c_hex(flags),
        "d_type": kernel_flags.value_name(kind, kernel_flags.LOCK_TYPES, "F_"),
        "__pad": c_hex(pad),
    }


def _argument(cmd: str | int, value: int, read: MemoryReader) -> Any:
    """What an entry shows of the third argument, by the command (strace's print_fcntl)."""
    match cmd:
        case "F_SETFD":
            return kernel_flags.flag_names(u32(value), kernel_flags.FD_FLAGS, "FD_")
        case "F_SETOWN" | "F_SETPIPE_SZ" | "F_DUPFD" | "F_DUPFD_CLOEXEC" | "F_DUPFD_QUERY":
            return s32(value)
        case "F_SETFL":
            return open_modes(u32(value))
        case "F_SETLK" | "F_SETLKW" | "F_OFD_SETLK" | "F_OFD_SETLKW" | "F_SETLK64" | "F_SETLKW64":
            return _flock(read, value, with_pid=False)
        case "F_SETOWN_EX":
            return _owner(read, value)
        case "F_NOTIFY":
            return kernel_flags.flag_names(value, kernel_flags.NOTIFY_FLAGS, "DN_")
        case "F_SETLEASE":
            return kernel_flags.value_name(value, kernel_flags.LOCK_TYPES, "F_")
        case "F_ADD_SEALS":
            return kernel_flags.flag_names(value, kernel_flags.SEALS, "F_SEAL_")
        case "F_SETSIG":
            return signal_arg(value)
        case "F_SET_RW_HINT" | "F_SET_FILE_RW_HINT":
            return _rw_hint(read, value)
        case "F_SETDELEG":
            return _delegation(read, value)
    return c_hex(value)  # any other command: its argument as a number in hex


#: The commands whose third argument the kernel writes: shown at exit.
_WRITTEN = frozenset(
    {"F_GETLK", "F_OFD_GETLK", "F_GETLK64", "F_GETOWN_EX", "F_GET_RW_HINT", "F_GET_FILE_RW_HINT", "F_GETDELEG"}
)
#: The commands that take no third argument.
_NO_ARGUMENT = frozenset({"F_GETFD", "F_GETFL", "F_GETOWN", "F_GETSIG", "F_GETLEASE", "F_GETPIPE_SZ", "F_GET_SEALS"})


def _fcntl(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    number = u32(raw[1])
    cmd = kernel_flags.FCNTL_COMMANDS_XLAT.name(number)
    args: dict[str, Any] = {"fd": s32(raw[0]), "cmd": cmd}
    if cmd not in _NO_ARGUMENT and cmd not in _WRITTEN:
        args["arg"] = _argument(cmd, raw[2], read)
    return args


def _returned(cmd: Any, ret: int) -> dict[str, Any] | None:
    """How strace shows a command's result: in hex with what it means (F_GETFD's ``= 0x1 (flags FD_CLOEXEC)``)."""
    match cmd:
        case "F_GETFD" if ret:
            return {"hex": True, "note": "flags " + "|".join(kernel_flags.flag_names(ret, kernel_flags.FD_FLAGS))}
        case "F_GETFL":
            return {"hex": True, "note": "flags " + "|".join(open_modes(ret))}
        case "F_GETLEASE":
            return {"hex": True, "note": kernel_flags.LOCK_TYPES.get(ret)}
        case "F_GET_SEALS" if ret:
            return {"hex": True, "note": "seals " + "|".join(kernel_flags.flag_names(ret, kernel_flags.SEALS))}
        case "F_GETSIG" if ret:
            return {"hex": False, "note": kernel.SIGNAL_NAMES.get(ret)}
    return None


def _fcntl_exit(raw: Sequence[int], ret: int, read: MemoryReader, entered: Mapping[str, Any]) -> dict[str, Any]:
    cmd = entered.get("cmd")
    outputs: dict[str, Any] = {}
    if cmd in _WRITTEN and ret < 0:  # the kernel wrote nothing: its pointer
        outputs["written"] = pointer(raw[2])
    elif cmd in _WRITTEN:
        if cmd in ("F_GETLK", "F_OFD_GETLK", "F_GETLK64"):
            outputs["written"] = _flock(read, raw[2], with_pid=True)
        elif cmd == "F_GETOWN_EX":
            outputs["written"] = _owner(read, raw[2])
        elif cmd == "F_GETDELEG":
            outputs["written"] = _delegation(read, raw[2])
        else:
            outputs["written"] = _rw_hint(read, raw[2])
    returned = _returned(cmd, ret) if ret >= 0 else None
    if returned is not None:
        outputs["returned"] = returned
    return outputs


def _duplicated(args: Mapping[str, Any]) -> str | None:
    """F_DUPFD and F_DUPFD_CLOEXEC make another number for ``fd``'s open file, as dup(2) does."""
    return "fd" if args.get("cmd") in kernel_flags.FCNTL_DUPLICATES else None


FCNTL = Syscall(
    name="fcntl",
    family="desc",
    args=(
        Arg(name="fd", kind="fd"),
        Arg(name="cmd", kind="name", xlat=kernel_flags.FCNTL_COMMANDS_XLAT),
        Arg(
            name="arg",
            kind="fcntl_arg",
            optional=True,
            kind_by=("cmd", (("F_DUPFD", "fd"), ("F_DUPFD_CLOEXEC", "fd"), ("F_SETFD", "flags"), ("F_SETFL", "flags"))),
        ),
        # The struct the kernel fills (F_GETLK's lock, F_GETOWN_EX's owner), shown where arg would be.
        Arg(name="written", kind="fcntl_arg", output=True, optional=True),
        Arg(name="returned", kind="returned", output=True, result_note=True, optional=True),
    ),
    decode_entry=_fcntl,
    decode_exit=_fcntl_exit,
    register_only=False,  # reads the struct some commands take
    duplicated=_duplicated,
    source="fcntl(2); fs/fcntl.c",
)

CALLS = (FCNTL,)
