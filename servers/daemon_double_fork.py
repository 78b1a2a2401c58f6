"""The daemon recipe: fork, setsid, fork again; then a fork-per-connection echo server in the grandchild.

A daemon must not belong to the terminal session that started it, and the
command that started it must return at once.  The classic recipe (Stevens,
"Advanced Programming in the UNIX Environment", chapter 13):

1. The launcher binds and listens first, and prints ``listening on
   127.0.0.1:PORT`` while it still has the caller's stdout, so that the
   harness learns the port; the daemon inherits the listening socket.
2. fork: the launcher waits for this first child and exits with its status
   (0), so the shell (or the harness) gets its answer immediately.
3. The first child calls ``setsid``: a new session and process group, with no
   controlling terminal.  It could still acquire one, being a session leader;
4. so it forks again and exits (``os._exit(0)``).  The grandchild, orphaned,
   is re-parented to init (or to the nearest child subreaper: the harness,
   during a run), is not a session leader and can never get a terminal.
5. The grandchild, the daemon, changes directory to ``/`` (so that it keeps no
   file system busy), clears its umask, points stdin, stdout and stderr at
   ``/dev/null``, and writes its pid to the pid file (``--pidfile``, by default
   ``daemon_double_fork.PORT.pid`` in a private directory the launcher makes
   with ``mkdtemp``), which it removes when it ends.  The file is created with
   ``O_EXCL | O_NOFOLLOW``: a name planted in advance (a symlink to a file the
   daemon's user may write) makes the daemon refuse to start instead of
   writing through it.
6. It serves like fork_sigchld.py: one child per connection, reaped from a
   SIGCHLD handler, and the final blocking reap after N connections.

``os._exit`` matters here: the connection children run inside the daemon's
``try``/``finally`` that removes the pid file, and ending them with
``os._exit`` skips that ``finally``: only the daemon itself removes the file.

What the trace shows: ``main`` (the launcher) ``clone``s ``main.1`` and waits
for it (``wait4(main.1, ..., 0)``), then exits 0; ``main.1`` ``clone``s
``main.1.1``, waits until the launcher sleeps in that ``wait4`` (so the
launcher's SIGCHLD always follows ``wait4``'s return) and exits 0 (``setsid`` is not in the default set of traced
calls: add it with ``--syscalls +setsid``); ``main.1.1``, the daemon, installs
its SIGCHLD handler and runs the usual fork-per-connection trace
(``accept4``, ``clone`` of ``main.1.1.1``..., ``ERESTARTSYS``, ``--- SIGCHLD ---``,
``rt_sigreturn = -1 EINTR``, ``wait4`` WNOHANG), ending with the blocking
``wait4`` calls and ``ECHILD``.  The daemon's own exit is reaped by whoever
adopted it.  The launcher's exit does not wait for the daemon to be ready:
a client that connects early is queued on the listening socket, which
already exists, and is served once the daemon accepts.
"""

import argparse
import os
import signal
import socket
import sys
import tempfile
from pathlib import Path

from _common import (
    build_parser,
    connection_slots,
    exit_on_sigterm,
    finish,
    handle_echo,
    listen_and_announce,
    reap_on_sigchld,
    run_and_exit,
)


def parse_daemon_args() -> argparse.Namespace:
    """The shared options, plus ``--pidfile``."""
    parser = build_parser(__doc__)
    parser.add_argument(
        "--pidfile",
        type=Path,
        help="where the daemon writes its pid; it must not exist yet (default: daemon_double_fork.PORT.pid "
        "in a new private directory under $TMPDIR, with the port really bound)",
    )
    return parser.parse_args()


def wait_until_sleeping(pid: int) -> None:
    """Return once ``pid`` sleeps (state S in /proc/PID/stat, proc(5)): the launcher, inside its waitpid.

    The first child exits only then, so its exit always ends the launcher's
    wait4, and the launcher's SIGCHLD always comes after wait4 has returned.
    Exiting at once, it sometimes came before wait4 was entered, and the
    trace told one of two stories.  One descriptor, read with pread and left
    open for ``os._exit`` to close: the polling adds no traced call.  A
    launcher already gone (killed) ends the wait too.
    """
    try:
        stat = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
        while (shown := os.pread(stat, 512, 0)) and shown.rsplit(b")", 1)[1].split()[0] not in (b"S", b"Z"):
            os.sched_yield()
    except OSError:
        return


def redirect_stdio_to_devnull() -> None:
    """Point descriptors 0, 1 and 2 at /dev/null: a daemon has no terminal to read or write."""
    sys.stdout.flush()
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    if devnull > 2:
        os.close(devnull)


def write_pidfile(path: Path) -> None:
    """Write our pid to ``path``, readable by all and writable by us only (umask is 0 by now).

    ``O_EXCL`` refuses a name that exists, and ``O_NOFOLLOW`` a symlink in the
    last component (open(2)): a daemon, often run as root, must never write
    through a link someone else planted.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w") as pidfile:
        pidfile.write(f"{os.getpid()}\n")


def serve(listener: socket.socket, connections: int) -> None:
    """The daemon's work: echo connections, one forked child each, reaped from a SIGCHLD handler."""
    signal.signal(signal.SIGCHLD, reap_on_sigchld)
    for _ in connection_slots(connections):
        conn, _peer = listener.accept()
        if os.fork() == 0:
            listener.close()
            run_and_exit(handle_echo, conn)
        conn.close()
    finish(listener)


def main() -> None:
    """Launch the daemon; return in the launcher once the first child has exited."""
    args = parse_daemon_args()
    exit_on_sigterm()
    listener = listen_and_announce(args.port)
    port = listener.getsockname()[1]
    # Absolute now: the daemon will run in "/".  The default lives in a directory only we can
    # write to, made before the forks so that the daemon removes both file and directory.
    private_dir = None if args.pidfile else Path(tempfile.mkdtemp(prefix="daemon_double_fork."))
    pidfile = (args.pidfile or private_dir / f"daemon_double_fork.{port}.pid").absolute()

    first_child = os.fork()
    if first_child > 0:  # the launcher
        _pid, status = os.waitpid(first_child, 0)
        sys.exit(os.waitstatus_to_exitcode(status))

    # The first child: leave the launcher's session and process group.
    os.setsid()
    if os.fork() > 0:
        wait_until_sleeping(os.getppid())
        os._exit(0)  # the grandchild goes on alone, adopted by init (or a subreaper)

    # The grandchild: the daemon.
    os.chdir("/")
    os.umask(0)
    redirect_stdio_to_devnull()
    try:
        write_pidfile(pidfile)  # refused: the daemon ends here, and removes only what it made
        try:
            serve(listener, args.connections)
        finally:
            pidfile.unlink(missing_ok=True)
    finally:
        if private_dir is not None:
            private_dir.rmdir()


if __name__ == "__main__":
    main()
