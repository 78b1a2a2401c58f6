"""An iterative echo server whose SIGCHLD handler writes MARKER and then waits for ever.

No child of its ever sends it SIGCHLD, so a plain run passes; a sweep's run
that delivers SIGCHLD where it sleeps hangs there, with MARKER written.
"""

import os
import signal
import socket
import sys
from pathlib import Path

port, marker, connections = int(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])


def hang(signum: int, frame: object) -> None:
    marker.write_text("signalled\n")
    os.read(os.pipe()[0], 1)  # nobody writes


signal.signal(signal.SIGCHLD, hang)
with socket.create_server(("127.0.0.1", port)) as listener:
    for _ in range(connections):
        conn, _peer = listener.accept()
        with conn:
            while data := conn.recv(4096):
                conn.sendall(data)
