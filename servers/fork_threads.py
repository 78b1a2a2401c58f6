"""Fork per connection, then threads inside each child: a reader and a writer joined by a queue.

Processes and threads are both made by ``clone``; the flags tell them apart.
The parent forks one child per connection as in fork_sigchld.py (reaping
from a SIGCHLD handler); the child then serves its connection with two
threads: a *reader* that receives from the socket and puts each chunk on a
``queue.Queue``, and a *writer* that takes the chunks off the queue and
sends them back.  At EOF the reader puts ``None``, the end marker, and stops;
the writer stops when it takes it.  The child's main thread joins both,
closes the connection and ends with ``os._exit(0)``.

The threads are started in the child, after the fork, never in the parent
before it: ``fork`` copies only the thread that calls it, so a multithreaded
process that forks leaves its child with locks that other threads held and
will never release.  The parent here stays single-threaded.

What the trace shows:

* in the parent: ``clone(flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD)``
  for each child, a process with an exit signal;
* in each child, before its first thread: ``rt_sigaction(SIGRT_1, ...)``,
  glibc's handler for applying ``setuid`` and the like to every thread;
* in each child: two ``clone3`` calls with ``CLONE_VM|CLONE_FS|CLONE_FILES|
  CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|...`` and no exit signal, creating
  the threads ``main.1/t1`` and ``main.1/t2``; each thread ends with ``exit``
  (not ``exit_group``), and the child's ``exit_group(0)`` ends the process;
* SIGCHLD in the parent only when the whole child process has ended, never
  for a thread: ``accept4 = ? ERESTARTSYS``, ``--- SIGCHLD ---``,
  ``rt_sigreturn() = -1 EINTR``, ``wait4`` WNOHANG, ``accept4`` again.
"""

import os
import queue
import signal
import socket
import threading

from _common import (
    CHUNK,
    connection_slots,
    exit_on_sigterm,
    finish,
    listen_and_announce,
    parse_args,
    reap_on_sigchld,
    run_and_exit,
)

#: What flows from the reader to the writer: chunks of data, then None for EOF.
Chunks = queue.Queue[bytes | None]


def read_into(conn: socket.socket, chunks: Chunks) -> None:
    """The reader thread: queue every chunk received, then the end marker."""
    try:
        while data := conn.recv(CHUNK):
            chunks.put(data)
    finally:
        chunks.put(None)  # on EOF, and on an error too: the writer must not wait forever


def write_from(conn: socket.socket, chunks: Chunks) -> None:
    """The writer thread: send back every queued chunk until the end marker."""
    while (data := chunks.get()) is not None:
        conn.sendall(data)


def handle_echo_with_threads(conn: socket.socket) -> None:
    """Echo one connection with a reader and a writer thread, then close it."""
    chunks: Chunks = queue.Queue()
    workers = [
        threading.Thread(target=read_into, args=(conn, chunks), name="reader"),
        threading.Thread(target=write_from, args=(conn, chunks), name="writer"),
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    conn.close()


def main() -> None:
    """Serve echo connections, one forked child each, each child echoing with two threads."""
    args = parse_args(__doc__)
    exit_on_sigterm()
    signal.signal(signal.SIGCHLD, reap_on_sigchld)
    listener = listen_and_announce(args.port)

    for _ in connection_slots(args.connections):
        conn, _peer = listener.accept()
        if os.fork() == 0:
            listener.close()
            run_and_exit(handle_echo_with_threads, conn)
        conn.close()

    finish(listener)


if __name__ == "__main__":
    main()
