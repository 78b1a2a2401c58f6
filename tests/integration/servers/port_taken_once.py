"""A server whose first start finds its port taken, as when another run drew the same port at the same moment.

Arguments: PORT CONNECTIONS TAKEN MARKER.  The first start (no file MARKER
yet) makes MARKER and binds TAKEN, a port the test holds: it fails with
EADDRINUSE, as a server does.  A later start serves CONNECTIONS echo
connections on PORT, one after the other.
"""

import socket
import sys
from pathlib import Path

port, connections, taken, marker = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
if not marker.exists():
    marker.touch()
    socket.create_server(("127.0.0.1", taken))  # raises OSError: [Errno 98] Address already in use
with socket.create_server(("127.0.0.1", port)) as listener:
    for _ in range(connections):
        conn, _peer = listener.accept()
        with conn:
            while data := conn.recv(4096):
                conn.sendall(data)
