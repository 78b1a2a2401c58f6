"""A fork-per-connection echo server whose SIGCHLD handler assumes a child has ended, and raises when none has.

``signal.signal(SIGCHLD, reap_one)``: the handler reaps one child with
``waitpid(-1, WNOHANG)`` and raises RuntimeError when there is none to reap
(or no child at all).  Every SIGCHLD a child's exit sends finds one, so the
server passes every plain run; a SIGCHLD from anyone else, while it waits for
a connection or a child waits for its client, raises in the code the handler
interrupted, and that process dies with the traceback.  Before the final
wait, SIGCHLD goes back to SIG_DFL, so that a child reaped by ``os.wait``
cannot leave its signal to a handler with nothing left to reap.

Usage: handler_expects_a_child.py PORT CONNECTIONS
"""

import os
import signal
import socket
import sys


def reap_one(signum: int, frame: object) -> None:
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        pid = 0
    if pid == 0:
        raise RuntimeError("SIGCHLD, but no child has ended")


def serve(conn: socket.socket) -> None:
    while True:
        data = conn.recv(4096)
        if not data:
            os._exit(0)
        conn.sendall(data)


def main() -> None:
    port, connections = int(sys.argv[1]), int(sys.argv[2])
    signal.signal(signal.SIGCHLD, reap_one)
    listener = socket.create_server(("127.0.0.1", port))
    for _ in range(connections):
        conn, _ = listener.accept()
        if os.fork() == 0:
            listener.close()
            serve(conn)
        conn.close()
    listener.close()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    while True:
        try:
            os.wait()
        except ChildProcessError:
            return


main()
