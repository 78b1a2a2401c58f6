"""Fork per connection and never reap: every finished child stays a zombie until the parent exits.

The lesson: a process that has exited does not vanish.  The kernel keeps its
pid and exit status (a zombie, ``<defunct>`` in ``ps``) until its parent
collects them with ``wait``.  This server leaves SIGCHLD at its default
disposition (SIG_DFL, whose action is "ignore" but which, unlike SIG_IGN,
does not ask the kernel to reap) and never calls ``wait``, so each finished
child stays a zombie for as long as the server runs.  Run forever, it fills
the process table.

Hygiene is otherwise right: the parent closes its copy of the connection
(the child has one), and the child closes its copy of the listening socket.

After N connections the server closes the listening socket and exits 0
*without* reaping.  Its children, zombies or still serving, are then
re-parented to the nearest child subreaper (the harness, during a run) or to
init, which reaps them.

What the trace shows:

* no ``rt_sigaction(SIGCHLD, ...)`` and no ``wait4`` anywhere;
* per connection, in the parent: ``accept4`` returning the connection,
  ``clone(... SIGCHLD)`` creating the child, ``close`` of the connection;
* in each child: ``close`` of the listening socket, ``close`` of the
  connection at EOF, ``exit_group(0)``;
* a ``--- SIGCHLD ---`` for each child's exit.  Under a tracer even a signal
  whose default action is to be ignored is delivered and reported; when it
  lands in a blocking ``accept4`` that call stops with ``ERESTARTSYS`` and the
  kernel enters it again by itself: no handler ran, so there is no
  ``rt_sigreturn`` and no EINTR;
* the children's exits are reaped by someone else (the subreaper) only
  after the server's own ``exit_group(0)``.
"""

import os

from _common import connection_slots, exit_on_sigterm, handle_echo, listen_and_announce, parse_args, run_and_exit


def main() -> None:
    """Serve echo connections, one forked child each, and never wait for the children."""
    args = parse_args(__doc__)
    exit_on_sigterm()
    listener = listen_and_announce(args.port)

    for _ in connection_slots(args.connections):
        conn, _peer = listener.accept()
        if os.fork() == 0:  # the child: it has its own copies of both sockets
            listener.close()
            run_and_exit(handle_echo, conn)
        conn.close()  # the parent: the child serves this connection now

    # No reaping on purpose: the zombies outlive us and are adopted by the reaper.
    listener.close()


if __name__ == "__main__":
    main()
