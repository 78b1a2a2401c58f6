"""Python 2's interrupted accept, reproduced on purpose: EINTR comes out of accept as an exception.

In the lessons' "multi-process-server-with-signal.py", run by Python 2, a
child ending while the parent blocked in ``accept`` made ``accept`` raise
``socket.error: [Errno 4] Interrupted system call``; the server had to catch
it and call ``accept`` again, exactly as a C server checks for EINTR.
Python 3 retries the call itself (PEP 475; see fork_sigchld.py).

This variant brings the Python 2 behaviour back: it calls the C library's
``accept4`` through ctypes, which does not retry, and turns a failure with
EINTR into an ``InterruptedError`` raised from its own ``accept`` wrapper,
as Python 2's socket module did.  The accept loop catches it, prints
``accept: Interrupted system call`` on stderr (the line C's ``perror("accept")``
prints) and accepts again.  The SIGCHLD handler only reaps, like
fork_sigchld.py's.

Why not make the handler itself raise?  A Python handler runs between two
bytecodes, not inside the system call: an exception it raises can land
anywhere.  A SIGCHLD arriving just after ``accept4`` has *succeeded* would
raise inside ``socket.accept`` before it hands the connection over, and that
connection would be lost (its client hangs, the server waits for a client
that never comes).  EINTR belongs to the failed call's return value, as in
C and Python 2; that is where this server looks for it.

What the trace shows for a child ending while the parent waits in accept:
``accept4 = ? ERESTARTSYS``, ``--- SIGCHLD ---``, ``rt_sigreturn() = -1 EINTR``,
then the Python handler's ``wait4(-1, ..., WNOHANG) = CHILD`` and
``wait4 = -1 ECHILD`` (CPython runs it at the next bytecode, once the ctypes
call has returned), the message written to descriptor 2 (``write``, shown
with ``--syscalls +write``) and ``accept4`` entered again, by the program
this time.
"""

import ctypes
import os
import signal
import socket
import sys

from _common import (
    connection_slots,
    exit_on_sigterm,
    finish,
    handle_echo,
    listen_and_announce,
    parse_args,
    reap_on_sigchld,
    run_and_exit,
)

_libc = ctypes.CDLL(None, use_errno=True)
_libc.accept4.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int)
_libc.accept4.restype = ctypes.c_int


def accept_like_python2(listener: socket.socket) -> socket.socket:
    """Accept one connection; a signal's EINTR is raised as InterruptedError, not retried."""
    fd = _libc.accept4(listener.fileno(), None, None, socket.SOCK_CLOEXEC)
    if fd < 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))  # an InterruptedError for EINTR
    return socket.socket(fileno=fd)


def main() -> None:
    """Serve echo connections, one forked child each; an interrupted accept is reported and retried."""
    args = parse_args(__doc__)
    exit_on_sigterm()
    signal.signal(signal.SIGCHLD, reap_on_sigchld)
    listener = listen_and_announce(args.port)

    for _ in connection_slots(args.connections):
        while True:
            try:
                conn = accept_like_python2(listener)
            except InterruptedError:
                print("accept: Interrupted system call", file=sys.stderr, flush=True)
                continue
            break
        if os.fork() == 0:
            listener.close()
            run_and_exit(handle_echo, conn)
        conn.close()

    finish(listener)


if __name__ == "__main__":
    main()
