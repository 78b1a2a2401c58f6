"""Reap children from a SIGCHLD handler; CPython retries the interrupted accept by itself (PEP 475).

The Python 3 port of the lessons' "multi-process-server-with-signal.py".  The
server installs a SIGCHLD handler (``reap_on_sigchld`` in ``_common.py``)
that reaps every ended child with ``os.waitpid(-1, os.WNOHANG)`` until it
returns ``(0, 0)`` (children remain, none ended) or raises ChildProcessError
(ECHILD: no children left).  ``signal.signal`` installs the handler without
SA_RESTART, so a child ending while the parent blocks in ``accept`` makes
the call fail with EINTR.

In Python 2, ``accept`` then raised ``socket.error: [Errno 4] Interrupted
system call`` and the lesson's server died of it (see fork_sigchld_raises.py
for that behaviour reproduced on purpose).  Since Python 3.5 (PEP 475) the
interpreter runs the handler and, as it returned normally, enters the call
again: the program never sees the EINTR.

What the trace shows for a child ending while the parent waits in accept:

* ``rt_sigaction(SIGCHLD, {sa_handler=0x..., sa_flags=SA_RESTORER|SA_ONSTACK})``:
  a handler, no SA_RESTART;
* ``accept4(3, ...) = ? ERESTARTSYS``: the kernel's internal "interrupted by a
  signal" code, seen only by a tracer;
* ``--- SIGCHLD {si_code=CLD_EXITED, si_pid=CHILD, ...} ---``;
* ``rt_sigreturn() = -1 EINTR``: returning from the C-level handler (which only
  noted the signal), the kernel turns ERESTARTSYS into EINTR because the
  handler lacks SA_RESTART;
* ``wait4(-1, NULL, WNOHANG) = CHILD`` then ``wait4(-1, NULL, WNOHANG) = -1
  ECHILD`` (or ``= 0`` while other children still run): the Python handler,
  run by CPython on seeing EINTR;
* ``accept4(3, ...`` again: the retry of PEP 475.

A child that ends while the parent is elsewhere (in ``fork``, in ``close``)
interrupts nothing: the handler simply runs between two bytecodes.
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
    """Serve echo connections, one forked child each, reaping them from a SIGCHLD handler."""
    args = parse_args(__doc__)
    exit_on_sigterm()
    signal.signal(signal.SIGCHLD, reap_on_sigchld)
    listener = listen_and_announce(args.port)

    for _ in connection_slots(args.connections):
        conn, _peer = listener.accept()  # EINTR is retried by CPython after the handler ran
        if os.fork() == 0:
            listener.close()
            run_and_exit(handle_echo, conn)
        conn.close()

    finish(listener)


if __name__ == "__main__":
    main()
