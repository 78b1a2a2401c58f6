"""What every fork-per-connection server variant shares, so that each variant shows only its lesson.

Every variant is run as ``python3 servers/NAME.py [--port PORT] [--connections N]``
and follows one contract:

* it listens on 127.0.0.1 (``SO_REUSEADDR``, ``listen(128)``) and then prints
  exactly ``listening on 127.0.0.1:PORT`` with the port really bound: that
  line is how the harness learns the port when it asked for port 0;
* it forks one child per accepted connection (``os.fork()``: a ``clone`` with
  exit signal SIGCHLD in the trace), and the child speaks the protocol on the
  connection and ends with ``os._exit``;
* after N connections (N > 0) the parent stops accepting, closes the
  listening socket, blocks SIGCHLD and reaps every child that is left with
  blocking ``wait4`` calls until ``ECHILD``, then exits 0 (except
  fork_no_reap.py, which on purpose exits without reaping);
* SIGTERM makes it exit with status 0.

Nothing sleeps, and nothing depends on timing but fork_poll_reaper.py's
accept timeout: what a run does is decided by the order in which its
clients connect and close.
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import socket
import sys
import traceback
from collections.abc import Callable, Iterator
from types import FrameType
from typing import NoReturn, ParamSpec

#: The only address the variants listen on.
HOST = "127.0.0.1"

#: The size of one read from a connection.
CHUNK = 4096

P = ParamSpec("P")


def _non_negative(text: str) -> int:
    """Argparse type: an integer >= 0 (the defaults from the environment go through it too)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _port(text: str) -> int:
    """Argparse type: a TCP port number, 0 meaning "let the kernel choose"."""
    value = _non_negative(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port: {value}")
    return value


def build_parser(doc: str | None) -> argparse.ArgumentParser:
    """The command line shared by every variant; a variant may add its own options before parsing.

    ``doc`` is the variant's module docstring: its first line becomes the
    description shown by ``--help``.
    """
    description = doc.strip().splitlines()[0] if doc and doc.strip() else None
    parser = argparse.ArgumentParser(description=description)
    # A string default goes through ``type`` like a command-line value, so a
    # malformed environment variable is reported like a malformed option.
    parser.add_argument(
        "--port",
        type=_port,
        default=os.environ.get("HARNESS_PORT", "0"),
        help="TCP port to listen on (default: $HARNESS_PORT, else 0: the kernel picks a free port)",
    )
    parser.add_argument(
        "--connections",
        type=_non_negative,
        default=os.environ.get("HARNESS_CONNECTIONS", "0"),
        metavar="N",
        help="serve N connections, reap the children and exit 0 (default: $HARNESS_CONNECTIONS, else 0: serve forever)",
    )
    return parser


def parse_args(doc: str | None) -> argparse.Namespace:
    """Parse the shared command line: ``.port`` and ``.connections``."""
    return build_parser(doc).parse_args()


def exit_on_sigterm() -> None:
    """Make SIGTERM end the process with status 0.

    The handler raises SystemExit(0) in the main thread, so ``finally``
    blocks run on the way out.  A blocking call interrupted by SIGTERM ends
    with EINTR and CPython, having run the handler, propagates its exception
    instead of retrying the call (PEP 475 retries only when the handler
    returns normally).  Forked children inherit the handler; ``run_and_exit``
    turns the SystemExit into ``os._exit(0)`` there.
    """

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_sigterm)


def listen_and_announce(port: int) -> socket.socket:
    """Listen on 127.0.0.1:port and print ``listening on 127.0.0.1:PORT`` with the port really bound."""
    listener = socket.socket()  # AF_INET, SOCK_STREAM
    # Let a new server bind the port at once although connections of an
    # earlier one are still in TIME_WAIT.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, port))
    listener.listen(128)
    bound_port = listener.getsockname()[1]
    # Flushed now: a pipe makes stdout block-buffered, and the harness waits for this line.
    print(f"listening on {HOST}:{bound_port}", flush=True)
    return listener


def connection_slots(limit: int) -> Iterator[int]:
    """Count the connections to serve: ``limit`` of them, or forever when ``limit`` is 0."""
    return itertools.count() if limit == 0 else iter(range(limit))


def handle_echo(conn: socket.socket) -> None:
    """Send back everything that arrives on ``conn`` until the client closes its side, then close it.

    ``recv`` returning ``b""`` is EOF: the client has shut down or closed its
    end of the connection.  ``sendall`` loops over ``send`` until every byte
    is written.
    """
    while data := conn.recv(CHUNK):
        conn.sendall(data)
    conn.close()


def run_and_exit(func: Callable[P, object], *args: P.args, **kwargs: P.kwargs) -> NoReturn:
    """In a forked child: run ``func(*args, **kwargs)``, then end the process with ``os._exit``.

    A forked child is a copy of its parent down to the Python call stack: if
    it returned, or let an exception escape, it would go on running the
    parent's accept loop.  ``os._exit`` ends the process at once (``exit_group``
    in the trace) without running what belongs to the parent a second time:
    ``finally`` blocks, ``atexit`` handlers, the flushing of inherited buffers.
    Exit status: 0 when ``func`` returns, the code of a SystemExit (such as the
    one SIGTERM's inherited handler raises), 1 for any other exception, whose
    traceback is printed first.
    """
    try:
        func(*args, **kwargs)
    except SystemExit as stop:
        os._exit(stop.code if isinstance(stop.code, int) else 1)
    except BaseException:  # noqa: BLE001 - anything else is reported, and still ends the child
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    os._exit(0)


def reap_exited_children() -> list[int]:
    """Reap every child that has already ended, without waiting; return their pids.

    ``waitpid(-1, WNOHANG)`` (``wait4(-1, ..., WNOHANG)`` in the trace)
    returns the pid of one ended child, ``(0, 0)`` when children remain but
    none has ended, and fails with ECHILD (ChildProcessError) when there are
    no children at all.  One SIGCHLD may stand for several ended children
    (signals of one kind do not queue), hence the loop.
    """
    reaped: list[int] = []
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:  # ECHILD: no children left
            return reaped
        if pid == 0:  # children remain, all still running
            return reaped
        reaped.append(pid)


def reap_on_sigchld(signum: int, frame: FrameType | None) -> None:
    """The SIGCHLD handler of the reaping variants: reap whatever has ended, then return.

    Install it with ``signal.signal(signal.SIGCHLD, reap_on_sigchld)``.  As
    with every Python handler, the kernel-level handler only notes the signal;
    this function runs later, in the main thread, between two bytecodes or
    when a blocking call fails with EINTR.
    """
    reap_exited_children()


def reap_remaining_children() -> None:
    """Wait for every child that is left, blocking, until there are none (ECHILD).

    SIGCHLD is blocked first so that no handler reaps behind our back: each
    child is then reaped by exactly one blocking ``wait4(-1, ..., 0)`` here,
    and the end of a run is the same whatever order the children end in.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:  # ECHILD: every child has been reaped
            return


def finish(listener: socket.socket) -> None:
    """End a run after its N connections: stop listening, then reap the children that are left."""
    listener.close()
    reap_remaining_children()
