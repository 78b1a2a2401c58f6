"""Socket calls a server's story is told with: listen, accept, accept4 (strace's ``src/net.c``)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from harness.model import kernel
from harness.model.syscalls.entry import Arg, Syscall
from harness.model.syscalls.structs import MemoryReader, decode_sockaddr, pointer, read_struct, s32

#: The most of a peer's address the decoder reads: sizeof(struct sockaddr_storage) (include/uapi/linux/socket.h).
_SOCKADDR_STORAGE = 128


def _listen(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"fd": s32(raw[0]), "backlog": s32(raw[1])}


def _accept(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"fd": s32(raw[0])}


def _accept4(raw: Sequence[int], read: MemoryReader) -> dict[str, Any]:
    return {"fd": s32(raw[0]), "flags": kernel.flag_names(raw[3], kernel.SOCK_FLAGS)}


def _accept_exit(raw: Sequence[int], ret: int, read: MemoryReader) -> dict[str, Any]:
    """The peer's address, written with its length (value-result ``addrlen``) only when the call succeeded."""
    length_data = read_struct(read, raw[2], 4) if ret >= 0 else None
    if length_data is None:
        return {"addr": pointer(raw[1]), "addrlen": pointer(raw[2])}
    (length,) = struct.unpack("<i", length_data)
    data = read_struct(read, raw[1], min(max(length, 0), _SOCKADDR_STORAGE))
    return {"addr": decode_sockaddr(data) if data else pointer(raw[1]), "addrlen": length}


_PEER = (Arg(name="addr", kind="sockaddr", output=True), Arg(name="addrlen", kind="socklen", output=True))

LISTEN = Syscall(
    name="listen",
    family="net",
    args=(Arg(name="fd", kind="fd"), Arg(name="backlog", kind="int")),
    decode_entry=_listen,
    register_only=True,
    source="listen(2); net/socket.c",
)

ACCEPT = Syscall(
    name="accept",
    family="net",
    args=(Arg(name="fd", kind="fd"), *_PEER),
    decode_entry=_accept,
    decode_exit=_accept_exit,
    register_only=True,
    result="fd",
    source="accept(2); net/socket.c",
)

ACCEPT4 = Syscall(
    name="accept4",
    family="net",
    args=(Arg(name="fd", kind="fd"), *_PEER, Arg(name="flags", kind="flags")),
    decode_entry=_accept4,
    decode_exit=_accept_exit,
    register_only=True,
    result="fd",
    source="accept4(2); net/socket.c",
)

CALLS = (LISTEN, ACCEPT, ACCEPT4)
