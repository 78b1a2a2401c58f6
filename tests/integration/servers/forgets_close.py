"""A student's fork server: the parent forgets ``conn.close()``, and the child reaps nothing of its own.

    forgets_close.py PORT CONNECTIONS

The parent never closes its copy of the connection, yet its descriptor table
does not grow: ``conn`` is rebound by the next ``accept``, CPython frees the
old socket object, and its descriptor is closed then (fd 4 every time).  What
the forgotten close does is delay each connection's FIN until the next client
comes.  The parent reaps its children with WNOHANG before each accept, and
waits for the rest before it exits.
"""

import os
import socket
import sys

port, connections = int(sys.argv[1]), int(sys.argv[2])
listener = socket.create_server(("127.0.0.1", port))
for _ in range(connections):
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break
    conn, _ = listener.accept()
    if os.fork() == 0:
        listener.close()
        while data := conn.recv(4096):
            conn.sendall(data)
        conn.close()
        os._exit(0)
listener.close()
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
