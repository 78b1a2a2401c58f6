"""The clients against small in-process servers (threads on loopback)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from harness.running.clients import connect_client, drive, echo_client, recv_message, rpc_client, send_message


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


def test_rpc_framing_round_trips_and_the_client_checks_the_pong() -> None:
    def pong(conn: socket.socket) -> None:
        while True:
            try:
                request = recv_message(conn)
            except Exception:  # noqa: BLE001 - EOF ends the connection
                return
            assert isinstance(request, dict)
            send_message(conn, {"out": "pong", "result": request["params"]})

    with serving(pong, 2) as address:
        report = drive(address, rpc_client, connections=2, messages=3, concurrency=2)
    assert report.ok


def test_connect_clients_and_before_each_hook() -> None:
    seen: list[int] = []
    with serving(lambda conn: None, 3) as address:
        report = drive(address, connect_client, connections=3, messages=0, before_each=seen.append)
    assert report.ok and seen == [0, 1, 2]


def test_a_refused_connection_is_a_failure_not_a_crash() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = probe.getsockname()
    report = drive(address, echo_client, connections=1, messages=1)
    assert not report.ok and "client 0:" in report.failures[0]
