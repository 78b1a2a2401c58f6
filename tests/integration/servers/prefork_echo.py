"""A pre-fork echo server: workers forked before the first accept, each accepting on the inherited socket.

The parent serves nothing; after the connections it stops the workers with
SIGTERM and reaps them.  Each worker serves connections until told to stop.
An optional third argument makes the last worker start that many seconds
late, as a real worker loading its application does; a fourth, ``select``,
makes the parent sleep in ``select`` on the workers' status pipe before
each read, as Apache's parent sleeps in ``pselect6``: a waiting call, but
for no client.
"""

import os
import select
import signal
import socket
import sys
import time

port, connections, workers = int(sys.argv[1]), int(sys.argv[2]), 2
late = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
parent_selects = sys.argv[4:] == ["select"]
listener = socket.create_server(("127.0.0.1", port))
served_r, served_w = os.pipe()  # each worker writes a byte per connection served
pids = []
for worker in range(workers):
    pid = os.fork()
    if pid == 0:
        os.close(served_r)
        if worker == workers - 1:
            time.sleep(late)
        while True:
            conn, _peer = listener.accept()
            with conn:
                while data := conn.recv(4096):
                    conn.sendall(data)
            os.write(served_w, b".")
    pids.append(pid)
os.close(served_w)
listener.close()
for _ in range(connections):
    if parent_selects:
        select.select([served_r], [], [])
    os.read(served_r, 1)
for pid in pids:
    os.kill(pid, signal.SIGTERM)
for pid in pids:
    os.waitpid(pid, 0)
