"""SIGCHLD set to SIG_IGN: the kernel reaps the children itself, and wait finds nobody (ECHILD).

Setting SIGCHLD's disposition to SIG_IGN explicitly (not the same as its
default, SIG_DFL) tells the kernel that this process will never wait for its
children: an ending child is released at once instead of becoming a zombie.
No handler runs, so there is nothing to interrupt in the parent and no
reaping code to write.  The price: the exit statuses are gone, and ``wait``
cannot report on any child.

After N connections the server runs the same final reaping loop as the other
variants.  A blocking ``wait4(-1, ..., 0)`` under SIG_IGN waits until every
child has ended and then fails with ECHILD, never returning a pid: so the
loop still ends only once all the children are gone.

What the trace shows:

* ``rt_sigaction(SIGCHLD, {sa_handler=SIG_IGN, ...})``;
* no ``--- SIGCHLD ---`` at all: with SIG_IGN the kernel does not even send
  the signal, so a child ending while the parent blocks in ``accept4``
  leaves the call undisturbed (no ERESTARTSYS, no EINTR);
* no zombies and no ``wait4`` returning a pid: the only ``wait4`` is the final
  ``wait4(-1, ..., 0) = -1 ECHILD``, which blocks until the last child ends.
"""

import os
import signal

from _common import (
    connection_slots,
    exit_on_sigterm,
    finish,
    handle_echo,
    listen_and_announce,
    parse_args,
    run_and_exit,
)


def main() -> None:
    """Serve echo connections, one forked child each, letting the kernel reap the children."""
    args = parse_args(__doc__)
    exit_on_sigterm()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    listener = listen_and_announce(args.port)

    for _ in connection_slots(args.connections):
        conn, _peer = listener.accept()
        if os.fork() == 0:
            listener.close()
            run_and_exit(handle_echo, conn)
        conn.close()

    finish(listener)  # its blocking wait4 ends with ECHILD once the last child is gone


if __name__ == "__main__":
    main()
