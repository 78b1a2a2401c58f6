"""Where a server listens, read from /proc: its port and address, as the kernel has them.

The trace shows ``listen(3, 128)`` but not the address (``bind`` is not in
the default traced set), and the clients only know the port they were given.
When the server waits for connections, the kernel's socket tables
(``/proc/net/tcp``, ``/proc/net/tcp6``, proc(5)) say which ports and
addresses its tree listens on: enough to say at once that a server listens
on another port than ``{port}``, or on every address rather than loopback.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass

#: ``st`` of a listening socket in /proc/net/tcp (include/net/tcp_states.h: TCP_LISTEN).
_LISTEN = "0A"


@dataclass(frozen=True, slots=True)
class ListeningSocket:
    """A listening TCP socket: its local address and port."""

    address: str
    port: int

    @property
    def every_address(self) -> bool:
        """Bound to 0.0.0.0 or ::, so reachable from the network, not only from this machine."""
        return ipaddress.ip_address(self.address).is_unspecified

    def __str__(self) -> str:
        return f"[{self.address}]:{self.port}" if ":" in self.address else f"{self.address}:{self.port}"


def _address(hex_address: str) -> str:
    """A /proc/net/tcp address: 32-bit words in the kernel's (little-endian) byte order."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(words))


def _sockets_of(pids: Iterable[int]) -> set[str]:
    """The socket inodes the processes hold (``socket:[INODE]`` links in /proc/PID/fd)."""
    inodes = set()
    for pid in pids:
        try:
            names = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for name in names:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{name}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def listening_sockets(pids: Iterable[int]) -> list[ListeningSocket]:
    """The TCP sockets the processes listen on, IPv4 and IPv6, in the kernel's order."""
    inodes = _sockets_of(pids)
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as lines:
                rows = lines.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 9 and fields[3] == _LISTEN and fields[9] in inodes:
                address, port = fields[1].split(":")
                found.append(ListeningSocket(_address(address), int(port, 16)))
    return found
