"""Python 2's interrupted accept, reproduced on purpose: the SIGCHLD handler raises after reaping.

In the lessons' "multi-process-server-with-signal.py", run by Python 2, a
child ending while the parent blocked in ``accept`` made ``accept`` raise
``socket.error: [Errno 4] Interrupted system call``; the server had to catch
it and call ``accept`` again, exactly as a C server checks for EINTR.
Python 3 retries the call itself (PEP 475; see fork_sigchld.py), unless the
handler raises: then the exception comes out of ``accept`` instead.  This
variant's handler reaps like fork_sigchld.py and then raises ``Interrupted``;
the accept loop catches it, prints ``accept: Interrupted system call`` on
stderr (the line C's ``perror("accept")`` prints) and accepts again.

Why raising from a handler is a bad idea, and PEP 475 a good one: a Python
handler runs between two bytecodes, not inside the system call, so the
exception it raises can land anywhere in the main thread, not only in a
failed ``accept``.  Here the handler raises only while the ``accepting`` flag
is set, so that a child ending while the parent forks or closes is merely
reaped.  A window remains, and no flag can close it: a SIGCHLD arriving just
after ``accept4`` has *succeeded* raises inside ``socket.accept`` before it
hands the connection over.  That connection is lost: closed as the half-built
socket object is freed (the client sees a reset), or its descriptor leaked
(the client hangs).  Served one connection at a time, as the harness's
deterministic mode does, the window is never hit; under concurrent load
(``harness run fork_sigchld_raises --mode free --concurrency 8 --connections
40``) it is, and the server, still counting connections, then waits for
clients that never come.  C and Python 2 did not have this problem: there
EINTR was a failed call's return value, not an exception thrown in from
outside.

What the trace shows for a child ending while the parent waits in accept:
``accept4 = ? ERESTARTSYS``, ``--- SIGCHLD ---``, ``rt_sigreturn() = -1 EINTR``,
``wait4(-1, ..., WNOHANG) = CHILD``, ``wait4 = -1 ECHILD`` (or 0), then the
message written to descriptor 2 (``write``, shown with ``--syscalls +write``)
and ``accept4`` entered again, by the program this time.
"""

import os
import signal
import socket
import sys
from types import FrameType

from _common import (
    connection_slots,
    exit_on_sigterm,
    finish,
    handle_echo,
    listen_and_announce,
    parse_args,
    reap_exited_children,
    run_and_exit,
)


class Interrupted(Exception):
    """What Python 2's accept raised when a signal interrupted it: socket.error(EINTR)."""


#: Set only while the parent waits in accept: the one place where the handler may raise.
accepting = False


def reap_then_raise(signum: int, frame: FrameType | None) -> None:
    """SIGCHLD handler: reap every ended child, then interrupt the accept in progress, if any."""
    global accepting
    reap_exited_children()
    if accepting:
        accepting = False  # one interruption per accept: the next SIGCHLD cannot hit the except clause
        raise Interrupted


def accept_like_python2(listener: socket.socket) -> socket.socket:
    """Accept a connection, reporting and retrying each interruption as a Python 2 server had to."""
    global accepting
    while True:
        try:
            accepting = True
            conn, _peer = listener.accept()
        except Interrupted:
            print("accept: Interrupted system call", file=sys.stderr, flush=True)
            continue
        finally:
            accepting = False
        return conn


def main() -> None:
    """Serve echo connections, one forked child each; an interrupted accept is reported and retried."""
    args = parse_args(__doc__)
    exit_on_sigterm()
    signal.signal(signal.SIGCHLD, reap_then_raise)
    listener = listen_and_announce(args.port)

    for _ in connection_slots(args.connections):
        conn = accept_like_python2(listener)
        if os.fork() == 0:
            listener.close()
            run_and_exit(handle_echo, conn)
        conn.close()

    finish(listener)


if __name__ == "__main__":
    main()
