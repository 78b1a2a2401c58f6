"""A fork server whose SIGCHLD handler only wakes its select loop, through a pipe; the loop reaps.

self_pipe_fork.py PORT CONNECTIONS   serves CONNECTIONS, reaps them all, exits 0
self_pipe_fork.py PORT forever       serves until SIGTERM, which the loop takes as a request to stop

signal.set_wakeup_fd makes CPython write the signal's number to the pipe
when it arrives (the C-level handler does it); the Python-level handler
does nothing.  The loop waits in poll on the listening socket and the pipe:
a byte on the pipe means "reap now".  So after a child's exit the server
enters poll again at once (PEP 475 retries the interrupted poll), finds the
pipe readable, and reaps: only the poll after that one is rest.
"""

import os
import selectors
import signal
import socket
import sys


def echo(conn: socket.socket) -> None:
    """Send every chunk back until the client closes."""
    while data := conn.recv(4096):
        conn.sendall(data)


def main() -> None:
    """Serve, fork per connection, reap when the pipe says so."""
    port, limit = int(sys.argv[1]), sys.argv[2]
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    stopping = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    listener = socket.create_server(("127.0.0.1", port))
    selector = selectors.PollSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(wake_read, selectors.EVENT_READ)
    served, children = 0, 0
    while not stopping and (limit == "forever" or served < int(limit) or children):
        for key, _ in selector.select():
            if key.fileobj is listener:
                conn, _ = listener.accept()
                if os.fork() == 0:
                    listener.close()
                    echo(conn)
                    os._exit(0)
                conn.close()
                served, children = served + 1, children + 1
            else:
                os.read(wake_read, 512)
                while children and os.waitpid(-1, os.WNOHANG)[0]:
                    children -= 1
    listener.close()
    while children:
        os.waitpid(-1, 0)
        children -= 1


if __name__ == "__main__":
    main()
