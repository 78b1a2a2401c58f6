"""A SIGCHLD handler with SA_RESTART: the kernel restarts the interrupted accept itself.

The same reaping handler as fork_sigchld.py, then
``signal.siginterrupt(signal.SIGCHLD, False)``, which installs it again with
SA_RESTART.  A child ending while the parent blocks in ``accept`` still
interrupts the call (a handler must run), but on the way back from the
handler the kernel restarts ``accept`` instead of failing it with EINTR: the
program, in C as in Python, never notices.

The catch, in Python: a Python handler does not run inside the kernel's
signal delivery.  The C-level handler only notes the signal; CPython runs
the Python function later, in the main thread.  With the call restarted
there is no EINTR to make CPython look, so ``reap_on_sigchld`` runs only once
``accept`` returns, when the next client connects: until then the ended
child is a zombie.  (The final blocking reap reaps the last ones.)

What the trace shows:

* ``rt_sigaction(SIGCHLD, ...)`` twice: first a handler without SA_RESTART
  (``signal.signal``), then with SA_RESTART (``siginterrupt``);
* ``accept4(3, ...) = ? ERESTARTSYS`` and ``--- SIGCHLD ---`` as in
  fork_sigchld.py;
* ``rt_sigreturn()`` returning 288, accept4's own syscall number on x86_64
  (the kernel has rewound the call to be entered again), not EINTR;
* ``accept4(3, ...`` entered again by the kernel, with no EINTR and no
  ``wait4`` in between;
* ``wait4(-1, NULL, WNOHANG)`` calls only after that accept4 returns a
  connection.
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
    reap_on_sigchld,
    run_and_exit,
)


def main() -> None:
    """Serve echo connections, one forked child each, with a restarting SIGCHLD handler."""
    args = parse_args(__doc__)
    exit_on_sigterm()
    signal.signal(signal.SIGCHLD, reap_on_sigchld)
    signal.siginterrupt(signal.SIGCHLD, False)  # False: do not interrupt, restart (SA_RESTART)
    listener = listen_and_announce(args.port)

    for _ in connection_slots(args.connections):
        conn, _peer = listener.accept()  # restarted by the kernel when SIGCHLD interrupts it
        if os.fork() == 0:
            listener.close()
            run_and_exit(handle_echo, conn)
        conn.close()

    finish(listener)


if __name__ == "__main__":
    main()
