"""A server that listens and then waits for a line on a pipe nobody writes: it never accepts."""

import os
import socket
import sys

listener = socket.create_server(("127.0.0.1", int(sys.argv[1])))
reader, writer = os.pipe()
os.read(reader, 1)
