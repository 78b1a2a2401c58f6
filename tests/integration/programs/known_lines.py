"""Calls made from known lines of Python code, for the Python frames the tracer reads.

Each call a test looks for is on a line ending with ``# line: NAME``; the
test reads the numbers from this file, so that editing it cannot put them
out of step.  The order is made deterministic without sleeping: a child
waits until the parent sleeps in accept (its /proc state), as
pep475_accept.py does.

1. a thread and the main thread each close a descriptor: each has its own stack;
2. a fork child closes a descriptor: its stack continues from the fork;
3. ``serve`` blocks in ``socket.accept``; a child's exit interrupts it, the
   SIGCHLD handler ``reap`` reaps, and CPython retries inside socket.accept (PEP 475);
4. ``accept_own_loop`` calls the C library's accept4 through ctypes, which
   does not retry: its own loop sees EINTR and calls again.
"""

import contextlib
import ctypes
import errno
import os
import signal
import socket
import threading

libc = ctypes.CDLL(None, use_errno=True)
libc.accept4.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int)


def reap(signum: int, frame: object) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # line: reap


def serve(listener: socket.socket) -> int:
    conn, _ = listener.accept()  # line: serve
    return conn.detach()


def accept_own_loop(listener: socket.socket) -> int:
    while True:
        fd = libc.accept4(listener.fileno(), None, None, 0)  # line: own
        if fd >= 0:
            return fd
        if ctypes.get_errno() != errno.EINTR:
            raise OSError(ctypes.get_errno(), "accept4")


def wait_until_sleeping(pid: int) -> None:
    fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
    while os.pread(fd, 512, 0).rpartition(b")")[2][1:2] != b"S":
        os.sched_yield()
    os.close(fd)


def wait_until_reaped(pid: int) -> None:
    while os.path.exists(f"/proc/{pid}"):
        os.sched_yield()


def interrupted_accept(listener: socket.socket, accept: object) -> None:
    """Accept one connection with ``accept``, once a child's exit has interrupted it."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGCHLD])
    parent = os.getpid()
    first = os.fork()
    if first == 0:
        wait_until_sleeping(parent)
        os._exit(0)
    second = os.fork()
    if second == 0:
        wait_until_reaped(first)
        wait_until_sleeping(parent)
        client = socket.create_connection(listener.getsockname())
        client.recv(1)
        os._exit(0)
    fd = accept(listener)  # type: ignore[operator]
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGCHLD])
    os.close(fd)
    os.waitpid(second, 0)


def in_thread(fd: int) -> None:
    os.close(fd)  # line: thread


def child_work(fd: int) -> None:
    os.close(fd)  # line: child
    os._exit(0)


def main() -> None:
    read_end, write_end = os.pipe()
    worker = threading.Thread(target=in_thread, args=(read_end,))
    worker.start()
    worker.join()
    os.close(write_end)  # line: main
    read_end, write_end = os.pipe()
    child = os.fork()  # line: fork
    if child == 0:
        child_work(read_end)  # line: in_child
    os.waitpid(child, 0)
    os.close(read_end)
    os.close(write_end)

    signal.signal(signal.SIGCHLD, reap)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    interrupted_accept(listener, serve)
    interrupted_accept(listener, accept_own_loop)
    print("done")


main()
