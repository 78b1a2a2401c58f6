"""A fork-per-connection server whose parent reads its child's report to the end before accepting again.

The parent's read ends only when the child exits (its end of the pipe closes
then): a deterministic schedule that held the child at its exit would wait for
ever, so the stall watch lets that hold go once the run stands still.
"""

import os
import socket
import sys

port, connections = int(sys.argv[1]), int(sys.argv[2])
with socket.create_server(("127.0.0.1", port)) as listener:
    for _ in range(connections):
        conn, _peer = listener.accept()
        reader, writer = os.pipe()
        if os.fork() == 0:
            os.close(reader)
            while data := conn.recv(4096):
                conn.sendall(data)
            os.write(writer, b"served\n")
            os._exit(0)
        os.close(writer)
        conn.close()
        while os.read(reader, 4096):
            pass
        os.close(reader)
        os.wait()
