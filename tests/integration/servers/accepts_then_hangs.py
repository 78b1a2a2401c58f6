"""A server that accepts one connection and then waits for ever; it writes MARKER once it listens."""

import os
import socket
import sys
from pathlib import Path

port, marker = int(sys.argv[1]), Path(sys.argv[2])
with socket.create_server(("127.0.0.1", port)) as listener:
    marker.write_text("listening\n")
    conn, _peer = listener.accept()
    os.read(os.pipe()[0], 1)  # nobody writes: the client waits for an echo that never comes
