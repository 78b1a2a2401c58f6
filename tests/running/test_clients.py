"""The clients against small in-process servers (threads on loopback)."""

from __future__ import annotations

import contextlib
import http.server
import os
import queue
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness.running.clients import (
    ClientReport,
    ProtocolClient,
    command_client,
    connect_client,
    drive,
    echo_client,
    http_client,
    recv_message,
    rpc_client,
    send_message,
)


@contextmanager
def serving(handle: Callable[[socket.socket], None], connections: int) -> Iterator[tuple[str, int]]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)

    def loop() -> None:
        for _ in range(connections):
            conn, _ = listener.accept()
            with conn:
                handle(conn)

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        yield listener.getsockname()
    finally:
        thread.join(timeout=30)
        listener.close()


def echo(conn: socket.socket) -> None:
    while data := conn.recv(4096):
        conn.sendall(data)


def test_echo_clients_pass_against_an_echo_server() -> None:
    with serving(echo, 3) as address:
        report = drive(address, echo_client, connections=3, messages=2)
    assert report.ok and report.connections == 3


def test_echo_client_reports_a_wrong_echo() -> None:
    def shout(conn: socket.socket) -> None:
        while data := conn.recv(4096):
            conn.sendall(data.upper())

    with serving(shout, 1) as address:
        report = drive(address, echo_client, connections=1, messages=1)
    assert not report.ok
    assert report.failures[0].startswith("client 0: echo of b'client 0 message 0\\n' came back as b'CLIENT 0")


def pong(conn: socket.socket) -> None:
    while True:
        try:
            request = recv_message(conn)
        except Exception:  # noqa: BLE001 - EOF ends the connection
            return
        assert isinstance(request, dict)
        send_message(conn, {"out": "pong", "result": request["params"]})


def test_rpc_framing_round_trips_and_the_client_checks_the_pong() -> None:
    with serving(pong, 2) as address:
        report = drive(address, rpc_client, connections=2, messages=3, concurrency=2)
    assert report.ok


def test_connect_clients_and_before_each_hook() -> None:
    seen: list[int] = []
    with serving(lambda conn: None, 3) as address:
        report = drive(address, connect_client, connections=3, messages=0, before_each=seen.append)
    assert report.ok and seen == [0, 1, 2]


@pytest.mark.parametrize(
    ("client", "handle", "messages"),
    [(echo_client, echo, 2), (rpc_client, pong, 2), (connect_client, echo, 0)],
    ids=["echo", "rpc", "connect"],
)
def test_a_protocol_client_calls_before_close_with_its_connection_still_open(
    client: ProtocolClient, handle: Callable[[socket.socket], None], messages: int
) -> None:
    accepted: queue.Queue[socket.socket] = queue.Queue()
    seen: list[str] = []

    def handle_and_hand_over(conn: socket.socket) -> None:
        accepted.put(conn)
        handle(conn)

    def before_close() -> None:
        conn = accepted.get(timeout=30)
        try:
            seen.append(f"unread {conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)!r}")
        except BlockingIOError:
            seen.append("open")  # nothing unread and no end of file: the client has not closed

    with serving(handle_and_hand_over, 1) as address:
        client(address, 0, messages, before_close=before_close)
    assert seen == ["open"]


def test_a_refused_connection_is_a_failure_not_a_crash() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = probe.getsockname()
    report = drive(address, echo_client, connections=1, messages=1)
    assert not report.ok and "client 0:" in report.failures[0]


# -- HTTP --------------------------------------------------------------------------


@contextmanager
def http_serving(version: str, status: int = 200) -> Iterator[tuple[str, int]]:
    """A real stdlib HTTP server in a thread, answering every GET with ``status``."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = version

        def do_GET(self) -> None:
            body = b"hello\n"
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test reads the client's report, not the server's log."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield ("127.0.0.1", server.server_address[1])
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def test_http_clients_pass_with_keep_alive_requests() -> None:
    with http_serving("HTTP/1.1") as address:
        report = drive(address, http_client, connections=3, messages=3)
    assert report.ok, report.failures


def test_http_client_fails_on_an_error_status() -> None:
    with http_serving("HTTP/1.1", status=404) as address:
        report = drive(address, http_client, connections=1, messages=1)
    assert report.failures == ("client 0: GET / #1 was answered 404 Not Found",)


def test_http_client_fails_when_the_server_cannot_keep_the_connection_alive() -> None:
    with http_serving("HTTP/1.0") as address:
        one = drive(address, http_client, connections=1, messages=1)
        two = drive(address, http_client, connections=1, messages=2)
    assert one.ok
    assert two.failures == (
        "client 0: the server closed the connection after request 1 of 2 (6 bytes): it does not keep connections alive",
    )


def test_http_client_fails_on_an_answer_that_is_not_http() -> None:
    with serving(echo, 1) as address:
        report = drive(address, http_client, connections=1, messages=1)
    assert len(report.failures) == 1 and "not an HTTP answer" in report.failures[0]


# -- commands ------------------------------------------------------------------------


def test_a_command_client_gets_the_port_and_passes_when_it_exits_0() -> None:
    connect = "import socket, sys; socket.create_connection(('127.0.0.1', int(sys.argv[1]))).close()"
    with serving(echo, 2) as address:
        report = drive(address, command_client([sys.executable, "-c", connect, "{port}"]), connections=2, messages=1)
    assert report.ok, report.failures


def test_a_command_client_fails_with_the_status_and_last_line_of_the_command() -> None:
    client = command_client(["sh", "-c", "echo first; echo 'no route to {host}'; exit 3"])
    report = drive(("127.0.0.1", 9), client, connections=1, messages=1)
    assert report.failures == (
        "client 0: sh -c 'echo first; echo '\"'\"'no route to 127.0.0.1'\"'\"'; exit 3' exited with 3: "
        "no route to 127.0.0.1",
    )


def test_a_command_clients_status_survives_a_waitpid_of_any_child(tmp_path: Path) -> None:
    """A tracer's waitpid(-1) may reap the client's process first; the status must still be the command's."""
    fifo = tmp_path / "go"
    os.mkfifo(fifo)
    client = command_client(["sh", "-c", 'cat "$0" > /dev/null; exit 3', str(fifo)])
    reports: list[ClientReport] = []
    runner = threading.Thread(target=lambda: reports.append(drive(("127.0.0.1", 9), client, connections=1, messages=1)))
    runner.start()
    reaped: list[int] = []

    def steal() -> None:
        with contextlib.suppress(ChildProcessError):
            while True:
                reaped.append(os.waitpid(-1, 0)[0])

    with open(fifo, "w") as go:  # returns once the command is running and has opened the FIFO
        stealer = threading.Thread(target=steal)
        stealer.start()
        go.write("now\n")
    runner.join()
    stealer.join()
    [report] = reports
    assert report.failures and "exited with 3" in report.failures[0]
