"""A length-prefixed JSON RPC server, fork per connection: the lessons' RPC server ported to Python 3.

The protocol.  A message is a 4-byte big-endian length followed by that many
bytes of UTF-8 JSON, always an object.  A request names a method and its
parameters, ``{"in": "ping", "params": X}``; the answer is
``{"out": "pong", "result": X}``.  A method the server does not know is
answered ``{"out": "error", "result": "unknown method NAME"}``, and a
malformed request ``{"out": "error", "result": "malformed request: ..."}``.
One connection carries any number of requests, answered in order; when the
client closes the connection, the child serving it exits.

The length prefix is what makes a byte stream carry messages: TCP keeps no
message boundaries, so one ``recv`` may return half a message or two of
them.  ``recv_message`` reads exactly the 4-byte header, then exactly the
announced number of bytes.

Methods are dispatched through a table, ``HANDLERS``, from method name to a
function of the parameters returning ``(out, result)``: adding a method is
adding an entry.

Processes are handled like fork_sigchld.py: the parent closes its copy of
each connection, the child its copy of the listening socket, and a SIGCHLD
handler reaps the children with ``waitpid(-1, WNOHANG)``.  The trace is that
of fork_sigchld.py (``accept4 = ? ERESTARTSYS``, ``--- SIGCHLD ---``,
``rt_sigreturn() = -1 EINTR``, ``wait4`` WNOHANG, ``accept4`` again); with
``--syscalls +recvfrom,sendto`` each request shows as a 4-byte read of the
header, a read of the body, and one send of the answer.
"""

import json
import os
import signal
import socket
import struct
import sys
from collections.abc import Callable

from _common import (
    connection_slots,
    exit_on_sigterm,
    finish,
    listen_and_announce,
    parse_args,
    reap_on_sigchld,
    run_and_exit,
)

#: The frame header: the length of the JSON body, 4 bytes, big-endian ("network order").
HEADER = struct.Struct(">I")

#: The largest body accepted, so that a bogus length cannot make us allocate gigabytes.
MAX_MESSAGE = 1 << 20

#: A JSON message: always an object.
Message = dict[str, object]


class ProtocolError(ConnectionError):
    """The byte stream does not follow the framing: the connection cannot go on."""


# --- Framing ----------------------------------------------------------------


def send_message(sock: socket.socket, message: Message) -> None:
    """Send one message: its length as 4 bytes, big-endian, then its UTF-8 JSON."""
    body = json.dumps(message).encode("utf-8")
    sock.sendall(HEADER.pack(len(body)) + body)  # one buffer: one send for the whole frame


def _recv_exactly(sock: socket.socket, size: int) -> bytes | None:
    """Read exactly ``size`` bytes; None on EOF before the first byte, ProtocolError on EOF after it."""
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            if not data:
                return None
            raise ProtocolError(f"connection closed after {len(data)} of {size} bytes")
        data += chunk
    return bytes(data)


def recv_message(sock: socket.socket) -> Message | None:
    """Receive one message; None when the peer closed the connection cleanly between two messages.

    Raises ProtocolError when the connection ends in the middle of a message
    or announces one longer than MAX_MESSAGE (the stream cannot be followed
    any more), and ValueError when a complete message is not a UTF-8 JSON
    object (the next message can still be read).
    """
    header = _recv_exactly(sock, HEADER.size)
    if header is None:
        return None
    (length,) = HEADER.unpack(header)
    if length > MAX_MESSAGE:
        raise ProtocolError(f"message of {length} bytes announced, the limit is {MAX_MESSAGE}")
    body = _recv_exactly(sock, length) if length else b""
    if body is None:
        raise ProtocolError(f"connection closed before a message of {length} bytes")
    message = json.loads(body.decode("utf-8"))  # UnicodeDecodeError and JSONDecodeError are ValueErrors
    if not isinstance(message, dict):
        raise ValueError(f"a message must be a JSON object, not {type(message).__name__}")
    return message


# --- Methods ----------------------------------------------------------------


def ping(params: object) -> tuple[str, object]:
    """Answer "pong" with the parameters unchanged."""
    return "pong", params


#: Method name -> handler; a handler takes the request's params and returns (out, result).
HANDLERS: dict[str, Callable[[object], tuple[str, object]]] = {"ping": ping}


def answer(request: Message) -> Message:
    """Compute the answer to one request by dispatching its method through HANDLERS."""
    method = request.get("in")
    if not isinstance(method, str):
        return {"out": "error", "result": 'malformed request: "in" must name a method'}
    handler = HANDLERS.get(method)
    if handler is None:
        return {"out": "error", "result": f"unknown method {method}"}
    out, result = handler(request.get("params"))
    return {"out": out, "result": result}


def handle_rpc(conn: socket.socket) -> None:
    """Answer the requests of one connection, in order, until the client closes it; then close it."""
    try:
        while True:
            try:
                request = recv_message(conn)
            except ProtocolError as error:
                print(f"rpc: {error}", file=sys.stderr, flush=True)
                break
            except ValueError as error:  # the frame was complete: answer, and read the next one
                send_message(conn, {"out": "error", "result": f"malformed request: {error}"})
                continue
            if request is None:  # clean EOF
                break
            send_message(conn, answer(request))
    finally:
        conn.close()


def main() -> None:
    """Answer RPC connections, one forked child each, reaping the children from a SIGCHLD handler."""
    args = parse_args(__doc__)
    exit_on_sigterm()
    signal.signal(signal.SIGCHLD, reap_on_sigchld)
    listener = listen_and_announce(args.port)

    for _ in connection_slots(args.connections):
        conn, _peer = listener.accept()
        if os.fork() == 0:
            listener.close()
            run_and_exit(handle_rpc, conn)
        conn.close()

    finish(listener)


if __name__ == "__main__":
    main()
