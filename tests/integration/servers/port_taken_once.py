"""A server whose first start finds its port taken, as when another run drew the same port at the same moment.

Arguments: PORT CONNECTIONS TAKEN MARKER.  The first start (no file MARKER
yet) makes MARKER and binds TAKEN, a port the test holds: it fails with
EADDRINUSE, as a server does.  A later start becomes iterative_echo.py on
PORT.
"""

import os
import socket
import sys
from pathlib import Path

port, connections, taken, marker = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
if not marker.exists():
    marker.touch()
    socket.create_server(("127.0.0.1", taken))  # raises OSError: [Errno 98] Address already in use
echo = Path(__file__).with_name("iterative_echo.py")
os.execv(sys.executable, [sys.executable, str(echo), port, connections])
