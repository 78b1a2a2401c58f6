"""Reap by polling, no signal handler: accept with a timeout, and reap with WNOHANG between waits.

Signals are not the only way to learn that children have ended.  This server
installs no SIGCHLD handler at all (the disposition stays SIG_DFL) and
instead gives its listening socket a timeout.  Its loop is: reap every
ended child with ``waitpid(-1, WNOHANG)`` until none is ready, then wait for
a connection for at most a second; when the second passes with no client
(``socket.timeout``, which is TimeoutError), go round again.

The cost is latency and wake-ups: a child that ends stays a zombie until the
next turn of the loop, up to a second later on an idle server, and an idle
server still wakes up once a second.  The gain is simplicity: no code runs
asynchronously, and no system call is ever failed with EINTR.  This is the
only variant whose behaviour depends on time, and only through the timeout.

What the trace shows (``--syscalls +poll`` to see the waits):

* no ``rt_sigaction(SIGCHLD, ...)``;
* ``wait4(-1, ..., WNOHANG)`` returning the pids of ended children, then 0
  (children still running) or -1 ECHILD (none left), before every wait;
* ``poll([{fd=3, events=POLLIN}], 1, 1000)``: a socket with a timeout is
  non-blocking underneath, so CPython waits with ``poll`` and only then calls
  ``accept4``, which finds the connection at once; a ``poll`` that times out
  returns 0 and the loop reaps again;
* a ``--- SIGCHLD ---`` for each child's exit all the same: under a tracer
  even a signal whose default action is to be ignored is reported.  When it
  lands in the waiting ``poll``, that call stops with
  ``ERESTART_RESTARTBLOCK`` and the kernel resumes it by itself with
  ``restart_syscall()`` for the time that was left: no handler, no
  ``rt_sigreturn``, no EINTR.
"""

import os
import socket

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

#: How long to wait for a connection before reaping again, in seconds.
REAP_INTERVAL = 1.0


def accept_while_reaping(listener: socket.socket) -> socket.socket:
    """Wait for a connection, reaping the ended children before each wait of at most REAP_INTERVAL."""
    while True:
        reap_exited_children()
        try:
            conn, _peer = listener.accept()
        except TimeoutError:  # socket.timeout: nobody connected within the interval
            continue
        return conn


def main() -> None:
    """Serve echo connections, one forked child each, reaping between timed waits for connections."""
    args = parse_args(__doc__)
    exit_on_sigterm()
    listener = listen_and_announce(args.port)
    listener.settimeout(REAP_INTERVAL)  # accepted sockets do not inherit it: they stay blocking

    for _ in connection_slots(args.connections):
        conn = accept_while_reaping(listener)
        if os.fork() == 0:
            listener.close()
            run_and_exit(handle_echo, conn)
        conn.close()

    finish(listener)


if __name__ == "__main__":
    main()
