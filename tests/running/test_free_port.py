"""A run's port is free and outside the range the kernel gives outgoing connections."""

from __future__ import annotations

import socket

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
