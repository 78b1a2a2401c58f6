"""An iterative echo server: one process accepts and serves each connection itself, no fork."""

import socket
import sys

port, connections = int(sys.argv[1]), int(sys.argv[2])
with socket.create_server(("127.0.0.1", port)) as listener:
    for _ in range(connections):
        conn, _peer = listener.accept()
        with conn:
            while data := conn.recv(4096):
                conn.sendall(data)
