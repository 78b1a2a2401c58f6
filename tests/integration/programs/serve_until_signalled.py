"""A fork-per-connection echo server that serves until a signal, for the stop tests.

serve_until_signalled.py PORT            SIGTERM's default action kills it
serve_until_signalled.py PORT ignore     it ignores SIGTERM: only the harness's SIGKILL ends it
serve_until_signalled.py PORT exit N     on SIGTERM it exits with status N (143: as socat and the JVM do)
"""

import signal
import socketserver
import sys


class Echo(socketserver.StreamRequestHandler):
    """Send every line back until the client closes."""

    def handle(self) -> None:
        """Echo line by line."""
        for line in self.rfile:
            self.wfile.write(line)


if __name__ == "__main__":
    if sys.argv[2:] == ["ignore"]:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    elif sys.argv[2:3] == ["exit"]:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(int(sys.argv[3])))
    with socketserver.ForkingTCPServer(("127.0.0.1", int(sys.argv[1])), Echo) as server:
        server.serve_forever()
