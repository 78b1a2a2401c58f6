"""Which port a run's server is given: one nobody listens on, and no client's connection can take first.

Tests and runs go on side by side (pytest-xdist, a sweep's runs), each with
a server of its own: the kernel's own choice of a free port would be an
ephemeral one, which another run's client may take before the server binds it.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import os
import random
import socket
import stat
import tempfile


def port_in_use(port: int, *, lingering_counts: bool = False) -> bool:
    """Whether another process holds the port on 127.0.0.1 (a bind fails with EADDRINUSE).

    ``lingering_counts``: a closed connection of the port that lingers (TIME_WAIT,
    tcp(7)) counts too.  A server that binds with SO_REUSEADDR gets past it; one
    that binds without (socketserver's default, ``allow_reuse_address = False``)
    fails for up to a minute, so a port drawn for any server must have none.
    """
    with socket.socket() as probe:
        if not lingering_counts:
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
    """A port nobody listens on now, for one run, claimed from every other run of the harness on this machine.

    Drawn at random between 20000 and the ephemeral range: the kernel's own
    choice for port 0 is an ephemeral port, which a client connecting
    elsewhere (another run, another test) may take before the server binds
    it.  Two runs drawing the same port between one's draw and its server's
    listen would collide (under a second suite as load, about once in 1500
    runs): so each drawn port is claimed with a lock file
    (:func:`_claim`), which any other harness process skips, until
    :func:`release_port` or this process's end.
    """
    floor = _ephemeral_floor()
    if floor - _PORT_FLOOR < 1000:  # a machine whose ephemeral range starts low: the kernel's choice it is
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])
    draw = random.SystemRandom()
    while True:
        port = draw.randrange(_PORT_FLOOR, floor)
        if port in _claimed or not _claim(port):
            continue
        if not port_in_use(port, lingering_counts=True):
            return port
        release_port(port)


#: The lock of each port this process has drawn and not released: port → the open lock file.
_claimed: dict[int, int] = {}


@functools.cache
def _claims_directory() -> str | None:
    """This user's directory of port claims, made private; None where it cannot be trusted (another's, a link).

    Looked at once a process, not at each draw (a draw may look at many ports).
    """
    path = os.path.join(tempfile.gettempdir(), f"syscall-harness-ports-{os.getuid()}")
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    found = os.lstat(path)
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() or found.st_mode & 0o077:
        return None  # planted by someone else, or open to them: no claims, the draw alone
    return path


def _claim(port: int) -> bool:
    """Lock the port's claim file (held while this process keeps it open); False if another process holds it."""
    directory = _claims_directory()
    if directory is None:
        return True
    flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
    try:
        claim = os.open(os.path.join(directory, str(port)), flags, 0o600)
    except OSError:
        return True  # no claim to be had: the draw alone, as before claims
    try:
        fcntl.flock(claim, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(claim)
        return False
    _claimed[port] = claim
    return True


def release_port(port: int) -> None:
    """Give up this process's claim on a drawn port (its run is over); nothing if it holds none."""
    claim = _claimed.pop(port, None)
    if claim is not None:
        os.close(claim)
