"""Clients that exercise a server, and a driver that runs them sequentially or k at a time.

Each client checks the answers it gets, so that a run proves the server
works as well as showing what it did in the kernel.  Clients are not traced:
they run in threads of the harness, on the loopback address only.
"""

from __future__ import annotations

import http.client
import json
import os
import shlex
import signal
import socket
import struct
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol as TypingProtocol

from harness.model.scenario import Protocol

#: A client talks to (host, port) over one connection, sending ``messages`` messages.
Client = Callable[[tuple[str, int], int, int], None]

#: Called by a protocol's client once it has had every answer, before it closes its connection.
BeforeClose = Callable[[], None]


class ProtocolClient(TypingProtocol):
    """A protocol's client: a :data:`Client` that can also wait before it closes.

    ``before_close`` is a handshake for a run nothing holds by ptrace (a
    server under strace, in the tests): a fork server's child often exits
    when its client closes, and a client that closes only once the server
    is at rest makes that exit come while the parent waits in ``accept``,
    as the harness's deterministic schedule orders it.
    """

    def __call__(
        self, address: tuple[str, int], index: int, messages: int, *, before_close: BeforeClose | None = None
    ) -> None:
        """Talk to the server at ``address`` as client ``index``, sending ``messages`` messages."""


#: How long one client waits for the server before giving up: a safety net, never a verdict.
CLIENT_TIMEOUT = 30.0


class ClientError(Exception):
    """A server answered wrongly, or not at all."""


def _connect(address: tuple[str, int]) -> socket.socket:
    return socket.create_connection(address, timeout=CLIENT_TIMEOUT)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ClientError(f"connection closed after {len(data)} of {size} bytes")
        data += chunk
    return data


def echo_client(
    address: tuple[str, int], index: int, messages: int, *, before_close: BeforeClose | None = None
) -> None:
    """Send each message and expect it back byte for byte, then close."""
    with _connect(address) as sock:
        for number in range(messages):
            payload = f"client {index} message {number}\n".encode()
            sock.sendall(payload)
            answer = _recv_exactly(sock, len(payload))
            if answer != payload:
                raise ClientError(f"echo of {payload!r} came back as {answer!r}")
        if before_close is not None:
            before_close()


def send_message(sock: socket.socket, message: object) -> None:
    """Frame one JSON message: a 4-byte big-endian length, then the UTF-8 JSON."""
    body = json.dumps(message).encode()
    sock.sendall(struct.pack(">I", len(body)) + body)


def recv_message(sock: socket.socket) -> object:
    """Read one framed JSON message."""
    (length,) = struct.unpack(">I", _recv_exactly(sock, 4))
    return json.loads(_recv_exactly(sock, length))


def rpc_client(address: tuple[str, int], index: int, messages: int, *, before_close: BeforeClose | None = None) -> None:
    """Ping the RPC server and expect each pong to carry the params back."""
    with _connect(address) as sock:
        for number in range(messages):
            params = {"client": index, "message": number}
            send_message(sock, {"in": "ping", "params": params})
            answer = recv_message(sock)
            if answer != {"out": "pong", "result": params}:
                raise ClientError(f"ping {params} was answered {answer!r}")
        if before_close is not None:
            before_close()


def connect_client(
    address: tuple[str, int], index: int, messages: int, *, before_close: BeforeClose | None = None
) -> None:
    """Connect and close at once (or once ``before_close`` returns): the bare minimum a fork server reacts to."""
    with _connect(address):
        if before_close is not None:
            before_close()


def http_client(
    address: tuple[str, int], index: int, messages: int, *, before_close: BeforeClose | None = None
) -> None:
    """Send ``GET /`` (``messages`` times on one keep-alive connection) and expect complete answers below 400.

    http.client reads each response to its end (Content-Length, chunked, or
    the close of the connection), so a truncated answer is a failure, not a pass.
    """
    host, port = address
    connection = http.client.HTTPConnection(host, port, timeout=CLIENT_TIMEOUT)
    try:
        connection.connect()
        for number in range(messages):
            connection.request("GET", "/", headers={"User-Agent": f"harness client {index}"})
            response = connection.getresponse()
            body = response.read()
            if response.status >= 400:
                raise ClientError(f"GET / #{number + 1} was answered {response.status} {response.reason}")
            if response.will_close and number + 1 < messages:
                raise ClientError(
                    f"the server closed the connection after request {number + 1} of {messages} "
                    f"({len(body)} bytes): it does not keep connections alive"
                )
        if before_close is not None:
            before_close()
    except http.client.HTTPException as error:
        raise ClientError(f"not an HTTP answer: {type(error).__name__} {error}") from None
    finally:
        connection.close()


PROTOCOLS: Mapping[Protocol, ProtocolClient] = {
    "echo": echo_client,
    "rpc": rpc_client,
    "connect": connect_client,
    "http": http_client,
}


#: Runs its arguments with their output sent to stderr, then writes their exit status alone
#: to stdout.  The status travels through a pipe rather than through waitpid: a tracer
#: waiting for any child of the harness (``waitpid(-1)``) may collect the client first,
#: and Python's Popen then reports 0 for a failed command.
_STATUS_REPORTER = '"$@" >&2; printf %d "$?"'


def command_client(argv: Sequence[str]) -> Client:
    """A client that runs ``argv`` once per connection; it passes when the command exits 0.

    ``{port}``, ``{host}`` and ``{index}`` in the arguments are replaced by the
    server's port and address and the connection's number (from 0).  It runs
    in a session of its own, so that a command that hangs is killed whole.
    """

    def run(address: tuple[str, int], index: int, messages: int) -> None:
        host, port = address
        words = [
            word.replace("{port}", str(port)).replace("{host}", host).replace("{index}", str(index)) for word in argv
        ]
        process = subprocess.Popen(
            ["/bin/sh", "-c", _STATUS_REPORTER, "sh", *words],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            status, said = process.communicate(timeout=CLIENT_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise ClientError(f"{words[0]} did not finish within {CLIENT_TIMEOUT:g} s") from None
        if status != b"0":
            lines = said.decode(errors="replace").strip().splitlines()
            why = f": {lines[-1]}" if lines else ""
            raise ClientError(f"{shlex.join(words)} exited with {status.decode() or 'no status'}{why}")

    return run


@dataclass(frozen=True, slots=True)
class ClientReport:
    """What the clients of one run saw."""

    connections: int
    """How many clients were asked for."""
    completed: int
    """How many of them got every answer they expected."""
    failures: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Whether every client ran and got the answers it expected."""
        return not self.failures and self.completed == self.connections


def drive(
    address: tuple[str, int],
    client: Client,
    *,
    connections: int,
    messages: int,
    concurrency: int = 1,
    before_each: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
) -> ClientReport:
    """Run ``connections`` clients, ``concurrency`` at a time.

    ``before_each(i)`` is called before client ``i`` connects; the
    deterministic schedule uses it to let a client go only when the server
    is ready for it.  ``stop`` ends the run early (the server died).
    """
    failures: list[str] = []
    completed = 0
    lock = threading.Lock()

    def one(index: int) -> None:
        nonlocal completed
        if stop is not None and stop.is_set():
            return
        try:
            if before_each is not None:
                before_each(index)
            if stop is not None and stop.is_set():
                return
            client(address, index, messages)
        except (OSError, ClientError, ValueError) as error:
            with lock:
                failures.append(f"client {index}: {error}")
        else:
            with lock:
                completed += 1

    if concurrency <= 1:
        for index in range(connections):
            one(index)
    else:
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="client") as pool:
            list(pool.map(one, range(connections)))
    return ClientReport(connections, completed, tuple(failures))
