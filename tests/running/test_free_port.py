"""A run's port is free and outside the range the kernel gives outgoing connections."""

from __future__ import annotations

import errno
import socket
import subprocess
import sys

import pytest

from harness.running import ports
from harness.running.ports import _ephemeral_floor, free_port


def test_a_chosen_port_is_free_and_below_the_ephemeral_range() -> None:
    floor = _ephemeral_floor()
    ports = {free_port() for _ in range(50)}
    assert all(20000 <= port < floor for port in ports)
    assert len(ports) > 40  # drawn at random, not handed out in order
    for port in list(ports)[:5]:
        with socket.create_server(("127.0.0.1", port)):  # free indeed: a server can listen on it
            pass


def test_a_port_someone_listens_on_is_never_chosen() -> None:
    taken: list[socket.socket] = []
    try:
        for _ in range(200):
            taken.append(socket.create_server(("127.0.0.1", free_port())))  # SO_REUSEADDR, as servers bind
        assert not {free_port() for _ in range(200)} & {sock.getsockname()[1] for sock in taken}
    finally:
        for sock in taken:
            sock.close()


def test_a_port_a_closed_connection_lingers_on_is_not_free_for_a_server_without_so_reuseaddr() -> None:
    """A port whose server closed a connection first lingers (TIME_WAIT): socketserver's default bind fails there."""
    port = free_port()
    try:
        with socket.create_server(("127.0.0.1", port)) as listener:  # SO_REUSEADDR, as most servers bind
            client = socket.create_connection(("127.0.0.1", port))
            connection, _ = listener.accept()
            connection.close()  # the server's side closes first: it is the one left lingering
            client.close()
        with socket.socket() as plain, pytest.raises(OSError) as refused:  # socketserver's TCPServer binds so
            plain.bind(("127.0.0.1", port))
        assert refused.value.errno == errno.EADDRINUSE
        assert not ports.port_in_use(port)  # a --port the user gives: a server with SO_REUSEADDR can have it
        assert ports.port_in_use(port, lingering_counts=True)  # never drawn for a server of any kind
    finally:
        ports.release_port(port)


_HOLDER = """
import sys
from harness.running.ports import free_port
print(free_port(), flush=True)
sys.stdin.read()  # holds its claim until told to go
"""


def test_a_port_another_harness_process_drew_is_not_drawn_until_it_lets_go() -> None:
    """The race two runs' draws had (one listening on the other's port): another process's claim is skipped."""
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        held = int(holder.stdout.readline())
        assert not ports._claim(held)  # what free_port asks before it hands a port out
    finally:
        holder.communicate("")
    assert ports._claim(held)  # the holder is gone, and its claim with it
    ports.release_port(held)


def test_a_released_port_can_be_drawn_again_and_each_draw_is_claimed() -> None:
    port = free_port()
    assert port in ports._claimed
    ports.release_port(port)
    assert port not in ports._claimed
    assert ports._claim(port)
    ports.release_port(port)
