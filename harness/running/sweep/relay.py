"""Hold the clients' bytes until the server stands still: a relay between the clients and the server.

A child that reads its client's request only blocks in ``read`` when the
bytes are not there yet; in a plain run they often are, so the call returns
at once and no signal could ever land in it.  In a sweep, the clients
connect to this relay instead of the server, and every connection, every
chunk of bytes and every end of stream from a client is passed on only once
``settle()`` returns: once every task of the server sleeps in a call or is
held by the harness (:class:`~harness.running.sweep.probe.SweepProbe`).  So
each read that waits for a client is entered, and sleeps, before its bytes
come; on every run alike.  What the server sends goes back at once.

The relay works for any client, the protocols' and a ``--client-command``
alike: they are given the relay's port.  The server sees connections from
127.0.0.1, as it would.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time
from collections.abc import Callable

#: The most a read of either side takes at once.
_CHUNK = 65536
#: How long a client told its stream ended has to close its side: a safety net, never a verdict.
_CLOSE_WAIT = 30.0


class Relay:
    """Listens on a port of its own and relays each connection to the server, holding what clients send."""

    def __init__(self, server: tuple[str, int], settle: Callable[[], None]) -> None:
        self._server = server
        self._settle = settle
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="sweep-relay", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        """Where the clients connect."""
        host, port = self._listener.getsockname()[:2]
        return str(host), int(port)

    def start(self) -> None:
        """Start taking connections."""
        self._thread.start()

    def close(self) -> None:
        """Take no more connections (the run is over); connections in flight end with their sockets."""
        self._closed.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), name="sweep-relay-connection", daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        """One connection: the server's side opened once the server stands still, then both ways until both end."""
        with client:
            self._settle()
            if self._closed.is_set():  # the run is over: its server's port may be another run's now
                _end_stream(client)
                return
            try:
                upstream = socket.create_connection(self._server)
            except OSError:  # the server is gone: the client sees its stream end, as if the server had closed it
                _end_stream(client)
                return
            with upstream:
                self._pump(client, upstream)

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        """Both ways until both sides have ended; a server that went away is an end of stream to the client.

        Whatever the server did (closed, reset, died), the client sees the
        same thing: an end of stream after what the server sent, never a
        reset that depends on whether its bytes were still in flight.
        """
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ, upstream)
            selector.register(upstream, selectors.EVENT_READ, client)
            # What is in flight when the run ends (a server's last answer, written just before it exited) is still
            # passed on: the run's end closes the relay to new connections, not to the bytes of this one, which
            # end with the server's side (its process is gone) within _CLOSE_WAIT.
            ends_by: float | None = None
            while selector.get_map():
                if self._closed.is_set():
                    ends_by = ends_by or time.monotonic() + _CLOSE_WAIT
                    if time.monotonic() > ends_by:
                        return
                for key, _ in selector.select(timeout=0.5):
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    target: socket.socket = key.data
                    data = _received(source)
                    if source is client and data is not None:
                        self._settle()  # the server takes what a client sends only when it stands still
                    if data and _sent(target, data):
                        continue
                    if data:  # the server is gone: the client is told so as by its end of stream
                        target, source = client, upstream
                        with contextlib.suppress(KeyError):
                            selector.unregister(upstream)
                    with contextlib.suppress(OSError):
                        target.shutdown(socket.SHUT_WR)
                    with contextlib.suppress(KeyError):
                        selector.unregister(source)


def _end_stream(client: socket.socket) -> None:
    """End the client's stream and take what it sent, until it closes: closed unread, its socket would reset.

    A reset or an end of stream would then depend on whether the client's
    bytes had arrived yet; an end of stream after its bytes are read does not.
    """
    with contextlib.suppress(OSError):
        client.shutdown(socket.SHUT_WR)
        client.settimeout(_CLOSE_WAIT)
        while client.recv(_CHUNK):
            pass


def _received(source: socket.socket) -> bytes | None:
    """What one read brings: bytes, or b"" at the end of the stream (a reset is an end too)."""
    try:
        return source.recv(_CHUNK)
    except OSError:
        return b""


def _sent(target: socket.socket, data: bytes) -> bool:
    """Whether all of ``data`` went out."""
    try:
        target.sendall(data)
    except OSError:
        return False
    return True
