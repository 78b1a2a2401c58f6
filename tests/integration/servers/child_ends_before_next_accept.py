"""A fork server whose child is at its exit before the parent accepts again; EINTR makes the parent look.

After each fork the parent polls the child's ``/proc/PID/syscall`` (proc(5))
until it shows ``exit_group`` (231 on x86_64): under the deterministic
schedule the child is held there, at that call's entry stop, until the
parent waits.  So the child's exit is ready before the parent's next
``accept4``: a handshake, not a sleep.

``accept4`` is the C library's, through ctypes, which does not retry on
EINTR.  When it fails with EINTR, the parent polls the child's state a
bounded number of times, long enough for a child let go at that moment to
end.  A schedule that took the failed call for a wait and let the child go
would have its SIGCHLD land in this polling instead of in the next accept4.
Each poll is one ``pread`` on one descriptor: the trace gains no call.
"""

import ctypes
import os
import signal
import socket
import sys
from collections.abc import Callable

EXIT_GROUP = 231
#: Polls of the child's state after an EINTR: ample for a child that was let go to end.
POLLS_AFTER_EINTR = 20_000

libc = ctypes.CDLL(None, use_errno=True)
libc.accept4.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int)
libc.accept4.restype = ctypes.c_int


def reap(_signum: int, _frame: object) -> None:
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def poll(path: str, done: Callable[[bytes], bool], limit: int | None = None) -> None:
    """Read a /proc file until ``done`` says so, the process is gone, or ``limit`` reads were made."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return  # reaped already
    try:
        made = 0
        while limit is None or made < limit:
            made += 1
            try:
                shown = os.pread(fd, 512, 0)
            except ProcessLookupError:
                return
            if not shown or done(shown):
                return
            os.sched_yield()
    finally:
        os.close(fd)


def accept(listener: socket.socket, child: int | None) -> socket.socket:
    while True:
        fd = libc.accept4(listener.fileno(), None, None, socket.SOCK_CLOEXEC)
        if fd >= 0:
            return socket.socket(fileno=fd)
        if ctypes.get_errno() != 4 or child is None:  # EINTR
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        # Has the child ended (a zombie, or reaped)?  It must not have, unless it was let go.
        poll(f"/proc/{child}/stat", lambda stat: stat.rsplit(b")", 1)[1].split()[0] == b"Z", POLLS_AFTER_EINTR)


signal.signal(signal.SIGCHLD, reap)
port, connections = int(sys.argv[1]), int(sys.argv[2])
with socket.create_server(("127.0.0.1", port)) as listener:
    child = None
    for _ in range(connections):
        conn = accept(listener, child)
        child = os.fork()
        if child == 0:
            while data := conn.recv(4096):
                conn.sendall(data)
            os._exit(0)
        conn.close()
        poll(f"/proc/{child}/syscall", lambda shown: shown.split()[0] == str(EXIT_GROUP).encode())
