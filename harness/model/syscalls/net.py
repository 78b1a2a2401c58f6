"""Socket calls a server's story is told with: listen, accept, accept4 (strace's ``src/net.c``)."""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

from harness.model import kernel_flags
from harness.model.syscalls.entry import Arg, Syscall
from harness.model.syscalls.structs import MemoryReader, decode_sockaddr, pointer, read_struct, s32, u32

#: The most of a peer's address the decoder reads: sizeof(struct sockaddr_storage) (include/uapi/linux/socket.h).
_SOCKADDR_STORAGE = 128


def _listen(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"fd": s32(raw[0]), "backlog": s32(raw[1])}


def _peer_entry(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    """The caller's buffer size, read at entry as strace reads it (``fetch_socklen``, src/net.c).

    It bounds what is read of the peer's address at exit: the kernel may say
    the address is longer than the buffer (it writes the whole length back,
    but only the buffer's worth of address).  Where there is no buffer or no
    size to read, the entry shows both pointers, as strace does.
    """
    size = read_struct(read, raw[2], 4) if raw[1] else None
    if size is None:  # nothing for the kernel to fill: the two pointers are all there is to show
        return {"addr": pointer(raw[1]), "addrlen": pointer(raw[2])}
    return {"addrlen_in": struct.unpack("<i", size)[0]}


def _accept(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"fd": s32(raw[0]), **_peer_entry(raw, read)}


def _accept4(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {**_accept(raw, read), "flags": kernel_flags.SOCK_FLAGS_XLAT.flags(u32(raw[3]))}


def _accept_exit(raw: Sequence[int], ret: int, read: MemoryReader, entered: Mapping[str, Any]) -> dict[str, Any]:
    """The peer's address and its length, written only when the call succeeded.

    The address is read for the smaller of the caller's buffer and the
    length written back, never for more than the buffer (strace's
    ``decode_sockname``).  A failed call leaves the address a pointer and the
    length as the caller gave it.
    """
    size = entered.get("addrlen_in")
    if not isinstance(size, int):  # no buffer, or no size to read: the entry showed both pointers
        return {}
    written = read_struct(read, raw[2], 4) if ret >= 0 else None
    if written is None:  # the length prints as the caller gave it: [24]
        return {"addr": pointer(raw[1]), "addrlen": pointer(raw[2])}
    (length,) = struct.unpack("<i", written)
    shown = min(size, length)
    data = read_struct(read, raw[1], min(shown, _SOCKADDR_STORAGE)) if shown >= 2 else None
    return {"addr": decode_sockaddr(data) if data else pointer(raw[1]), "addrlen": length}


def _pointers_at_entry(args: Mapping[str, Any]) -> tuple[str, ...]:
    """Without a buffer size read at entry, the entry gave the peer's two pointers."""
    return ("addr", "addrlen") if "addrlen_in" not in args and "addr" in args else ()


#: The peer: its address, and its length as the kernel wrote it back (``[16]``), after the caller's buffer
#: size (``addrlen_in``), which the length's text shows when the two differ (``[110 => 16]``).
_PEER = (
    Arg(name="addr", kind="sockaddr", output=True),
    Arg(name="addrlen", kind="socklen", output=True),
    Arg(name="addrlen_in", kind="int", shown_in="addrlen", optional=True),
)

LISTEN = Syscall(
    name="listen",
    family="net",
    args=(Arg(name="fd", kind="fd"), Arg(name="backlog", kind="int")),
    decode_entry=_listen,
    register_only=True,
    traits=frozenset({"listens"}),
    source="listen(2); net/socket.c",
)

ACCEPT = Syscall(
    name="accept",
    family="net",
    args=(Arg(name="fd", kind="fd"), *_PEER),
    decode_entry=_accept,
    decode_exit=_accept_exit,
    register_only=False,  # reads the caller's buffer size
    entry_outputs=_pointers_at_entry,
    result="fd",
    traits=frozenset({"accepts"}),
    source="accept(2); net/socket.c",
)

ACCEPT4 = Syscall(
    name="accept4",
    family="net",
    args=(Arg(name="fd", kind="fd"), *_PEER, Arg(name="flags", kind="flags", xlat=kernel_flags.SOCK_FLAGS_XLAT)),
    decode_entry=_accept4,
    decode_exit=_accept_exit,
    register_only=False,  # reads the caller's buffer size
    entry_outputs=_pointers_at_entry,
    result="fd",
    traits=frozenset({"accepts"}),
    source="accept4(2); net/socket.c",
)

CALLS = (LISTEN, ACCEPT, ACCEPT4)
