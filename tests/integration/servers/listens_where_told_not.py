"""An echo server that listens where its second argument says, not on the port it is given."""

import socket
import sys

port, where = int(sys.argv[1]), sys.argv[2]
address = {"elsewhere": ("127.0.0.1", 0), "everywhere": ("0.0.0.0", port)}[where]
with socket.create_server(address) as listener:
    conn, _peer = listener.accept()
    with conn:
        while data := conn.recv(4096):
            conn.sendall(data)
