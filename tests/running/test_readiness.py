"""What a waiting call waits on, read from real descriptors: this test process's own, as a tracee's would be.

pidfd_getfd copies a descriptor of any process the caller may ptrace, this
one included; the pipes, sockets and epoll descriptors are real kernel
objects, so each answer is the kernel's.
"""

from __future__ import annotations

import os
import select
import socket
from collections.abc import Iterator

import pytest

from harness.running.readiness import returns_at_once, waits_for_a_client

ME = os.getpid()


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_end, write_end = os.pipe()
    yield read_end, write_end
    os.close(read_end)
    os.close(write_end)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server


def _poll(*fds: int) -> dict[str, object]:
    return {"fds": [{"fd": fd, "events": ["POLLIN"]} for fd in fds], "nfds": len(fds), "timeout": -1}


def test_a_poll_on_an_empty_pipe_would_sleep_and_on_a_written_one_returns_at_once(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    assert not returns_at_once(ME, "poll", _poll(read_end))
    os.write(write_end, b"\x11")  # what a SIGCHLD handler writes to its self-pipe
    assert returns_at_once(ME, "poll", _poll(read_end))
    assert returns_at_once(ME, "select", {"readfds": [read_end], "writefds": None, "exceptfds": None})
    assert returns_at_once(ME, "ppoll", _poll(read_end) | {"tsp": None, "sigmask": None})


def test_an_accept_returns_at_once_only_when_a_connection_waits(listener: socket.socket) -> None:
    fd = listener.fileno()
    assert not returns_at_once(ME, "accept4", {"fd": fd})
    with socket.create_connection(listener.getsockname()):
        assert returns_at_once(ME, "accept4", {"fd": fd})


def test_an_epoll_wait_returns_at_once_when_a_watched_descriptor_is_ready(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    with select.epoll() as epoll:
        epoll.register(read_end, select.EPOLLIN)
        args = {"epfd": epoll.fileno(), "maxevents": 8, "timeout": -1}
        assert not returns_at_once(ME, "epoll_wait", args)
        os.write(write_end, b"x")
        assert returns_at_once(ME, "epoll_wait", args)


def test_what_cannot_be_read_counts_as_a_wait_that_sleeps(pipe: tuple[int, int]) -> None:
    assert not returns_at_once(ME, "poll", {"fds": "0x7ffc0000", "nfds": 1, "timeout": -1})  # the set unread
    assert not returns_at_once(ME, "wait4", {"pid": -1})  # no descriptor to look at
    os.write(pipe[1], b"x")
    assert not returns_at_once(2**22 + 7, "poll", _poll(pipe[0]))  # no such process


def test_a_call_waits_for_a_client_when_it_watches_a_listening_socket(
    pipe: tuple[int, int], listener: socket.socket
) -> None:
    assert waits_for_a_client(ME, "accept4", {"fd": listener.fileno()})
    assert waits_for_a_client(ME, "poll", _poll(pipe[0], listener.fileno()))
    assert not waits_for_a_client(ME, "poll", _poll(pipe[0]))  # a pre-fork parent on its status pipe
    select_args = {"readfds": [pipe[0]], "writefds": None, "exceptfds": None}
    assert not waits_for_a_client(ME, "pselect6", select_args)
    with socket.socket() as unconnected:  # a socket, but not a listening one
        assert not waits_for_a_client(ME, "poll", _poll(unconnected.fileno()))


def test_an_epoll_wait_waits_for_a_client_when_a_listening_socket_was_added_to_it(
    pipe: tuple[int, int], listener: socket.socket
) -> None:
    with select.epoll() as epoll:
        epoll.register(pipe[0], select.EPOLLIN)
        args = {"epfd": epoll.fileno(), "maxevents": 8, "timeout": -1}
        assert not waits_for_a_client(ME, "epoll_wait", args)
        epoll.register(listener.fileno(), select.EPOLLIN)
        assert waits_for_a_client(ME, "epoll_wait", args)


def test_a_watched_set_that_cannot_be_read_is_taken_to_wait_for_a_client() -> None:
    assert waits_for_a_client(ME, "poll", {"fds": "0x7ffc0000", "nfds": 1, "timeout": -1})
    assert waits_for_a_client(2**22 + 7, "epoll_wait", {"epfd": 5, "maxevents": 1, "timeout": -1})
