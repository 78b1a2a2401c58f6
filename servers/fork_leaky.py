"""The descriptor leak: the parent keeps every connection open, every child keeps the listening socket.

``fork`` gives the child a copy of every descriptor, and a copy is one more
reference to the same open socket.  The kernel closes a TCP connection (sends
FIN) only when its *last* reference is closed, so each process must close
the sockets it does not use: the parent its copy of the connection, the
child its copy of the listening socket.  This variant forgets both;
otherwise it is fork_sigchld.py, reaping its children from a SIGCHLD handler.

* The parent never closes an accepted connection, so each connection is
  held by two descriptors: the parent's and the child's.  When the child has
  echoed everything and closes its copy, the count drops from 2 to 1, not 0:
  no FIN is sent, and a client waiting for the server to close first waits
  until the parent lets go of its copy, at its very end.  Later children inherit the leaked descriptors
  too, so each connection also stays referenced until those children end.
  A client that closes first, as echo clients do, is served normally; the
  child sees EOF, closes its copy and exits.  Meanwhile the parent's
  descriptor table only grows (accept4 returns 4, 5, 6, ...) until it hits
  the open-files limit (EMFILE).
* Each child keeps a copy of the listening socket.  The port stays in
  LISTEN as long as any child lives, even after the parent has closed it
  or died: new clients are then queued by the kernel on a socket nobody
  accepts from, and a restarted server cannot bind the port.

The leaked connection objects are kept in a list on purpose: Python closes a
socket object's descriptor when the object is freed, so merely dropping the
reference (``conn`` rebound to the next connection) would close it and hide
the leak.  (A forked child frees nothing of its parent's: it ends with
``os._exit``.)  After N connections the
server closes the listening socket and reaps as usual; the leaked
connections are closed only when ``main`` returns and the list is freed.

What the trace shows: in the parent, ``accept4`` returning a new descriptor
number each time (4, 5, 6) and no ``close`` of it until the very end, after
the last ``wait4``; in each child, no ``close`` of the listening socket (3),
only of its connection, then ``exit_group(0)``.
"""

import os
import signal
import socket

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


def main() -> None:
    """Serve echo connections, one forked child each, closing neither unused copy."""
    args = parse_args(__doc__)
    exit_on_sigterm()
    signal.signal(signal.SIGCHLD, reap_on_sigchld)
    listener = listen_and_announce(args.port)
    leaked: list[socket.socket] = []  # still referenced, so Python does not close them for us

    for _ in connection_slots(args.connections):
        conn, _peer = listener.accept()
        if os.fork() == 0:
            # BUG, on purpose: the child does not close its copy of the listening socket.
            run_and_exit(handle_echo, conn)
        # BUG, on purpose: the parent does not close its copy of the connection.
        leaked.append(conn)

    finish(listener)


if __name__ == "__main__":
    main()
