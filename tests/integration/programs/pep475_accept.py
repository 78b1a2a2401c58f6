"""Python 3 retries an accept interrupted by a signal whose handler returns (PEP 475).

The SIGCHLD handler (installed by signal.signal, so without SA_RESTART)
reaps the first child; the kernel fails accept4 with EINTR, CPython runs the
handler and enters accept4 again, where the second child connects.  Python 2
raised socket.error: [Errno 4] Interrupted system call instead.
"""

import os
import signal
import socket


def reap(signum: int, frame: object) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def wait_until_sleeping(pid: int) -> None:
    fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
    while os.pread(fd, 512, 0).rpartition(b")")[2][1:2] != b"S":
        os.sched_yield()


def wait_until_reaped(pid: int) -> None:
    while os.path.exists(f"/proc/{pid}"):
        os.sched_yield()


signal.signal(signal.SIGCHLD, reap)
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(5)
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
conn, _ = listener.accept()
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGCHLD])
conn.close()
os.waitpid(second, 0)
print("accepted after the interruption")
