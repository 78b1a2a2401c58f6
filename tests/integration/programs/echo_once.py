"""A client of the user's own: one echo exchange with the server, then exit with the status asked for.

    echo_once.py HOST PORT INDEX FAIL_ON
Connection INDEX exits 3 when it is in the comma-separated FAIL_ON list, after a real exchange.
"""

import socket
import sys

host, port, index, fail_on = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].split(",")
with socket.create_connection((host, port), timeout=30) as sock:
    line = f"client {index}\n".encode()
    sock.sendall(line)
    answer = b""
    while len(answer) < len(line):
        chunk = sock.recv(len(line) - len(answer))
        if not chunk:
            break
        answer += chunk
if answer != line:
    sys.exit(f"echo of {line!r} came back as {answer!r}")
sys.exit(3 if index in fail_on else 0)
