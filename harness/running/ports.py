"""Which port a run's server is given: one nobody listens on, and no client's connection can take first.

Tests and runs go on side by side (pytest-xdist, a sweep's runs), each with
a server of its own: the kernel's own choice of a free port would be an
ephemeral one, which another run's client may take before the server binds it.
"""

from __future__ import annotations

import errno
import random
import socket


def port_in_use(port: int) -> bool:
    """Whether another process holds the port on 127.0.0.1 (a bind fails with EADDRINUSE)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise
    return False


#: Where a run's port is drawn from: below the kernel's ephemeral range, so that no client's outgoing
#: connection (which takes an ephemeral port) can take a chosen port before the server binds it.
_PORT_FLOOR = 20000


def _ephemeral_floor() -> int:
    """The lowest port the kernel hands out for outgoing connections (ip(7): ip_local_port_range)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as ports:
            return int(ports.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A port nobody listens on now, for one run.

    Drawn at random between 20000 and the ephemeral range: the kernel's own
    choice for port 0 is an ephemeral port, which a client connecting
    elsewhere (another run, another test) may take before the server binds
    it.  Two runs drawing at the same moment collide once in thousands.
    """
    floor = _ephemeral_floor()
    if floor - _PORT_FLOOR < 1000:  # a machine whose ephemeral range starts low: the kernel's choice it is
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])
    draw = random.SystemRandom()
    while True:
        port = draw.randrange(_PORT_FLOOR, floor)
        if not port_in_use(port):
            return port
