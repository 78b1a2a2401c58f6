"""An echo server built on the standard library's socketserver.ForkingTCPServer, served until SIGTERM.

Nothing here is written for the harness: it is the stdlib's fork-per-connection
server as its documentation shows it.  The one addition is the SIGTERM
handler, the usual way to make ``serve_forever()`` stop cleanly: it raises
SystemExit out of the server's wait, and leaving the ``with`` block calls
``server_close()``, which in ForkingMixIn waits for every child still
running (``block_on_close``, Python 3.7 and later).

    python3 echo_server.py PORT
"""

import signal
import socketserver
import sys


class Echo(socketserver.StreamRequestHandler):
    """Send every line back until the client closes the connection."""

    def handle(self) -> None:
        """Echo line by line: the harness's echo client sends lines and waits for each."""
        for line in self.rfile:
            self.wfile.write(line)


def stop(signum: int, frame: object) -> None:
    """Leave serve_forever(); the with block then closes the server and reaps its children."""
    raise SystemExit(0)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, stop)
    with socketserver.ForkingTCPServer(("127.0.0.1", int(sys.argv[1])), Echo) as server:
        server.serve_forever()
