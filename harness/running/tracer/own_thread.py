"""The tracer runs in a thread of its own, so that it waits only for its own tracees.

The harness runs inside host processes: the ``harness`` command, but also
the pytest plugin, the ``harness_run`` fixture and users' scripts.  A host
may have children of its own (a test's ``subprocess.Popen``), and their
statuses are the host's to collect.  Facts this design relies on (wait(2),
ptrace(2), kernel/exit.c):

* ``waitpid(-1, __WALL)`` collects the children, and the tracees, of every
  thread of the process: it would reap the host's children too.  With
  ``__WNOTHREAD`` it looks only at the calling thread's own children and
  tracees.  A task forked by a thread is that thread's child, and the task
  that asks to be traced (PTRACE_TRACEME) is traced by that thread; its
  children, followed with PTRACE_O_TRACEFORK and friends, are too.  So one
  thread that forks the command, makes every ptrace request and does every
  wait sees the whole traced tree and nothing else.
* An orphan of the traced tree (a daemon's grandchild) is re-parented to the
  harness as child subreaper, to whichever thread the kernel picks (the main
  thread, first): it is still traced by the tracer's thread, which collects
  its end, and since its new parent is in the tracer's own process that
  collection also reaps it (wait_task_zombie: not ``ptrace_reparented``).
* Signals: Python runs its handlers in the main thread only, and the kernel
  gives a process-directed signal (Ctrl-C, SIGTERM) to the main thread first,
  unless that thread blocks it (complete_signal, kernel/signal.c).  The
  caller waits for the tracer's thread in a join that a handled signal
  interrupts; the handler of :mod:`.ending` kills the traced tree from there,
  which ends the tracer's wait.  The tracer's thread keeps the caller's signal
  mask: the command inherits the mask of the thread that forks it.

The other design, the whole run in a forked child process sending its result
back, would isolate the host as well, but costs a fork of the host (pytest
and all) per run, and forking a host that runs threads is unsafe.  This one
costs one thread per run (docs/explanation/tracer.md has the figures).

A host that itself waits for *any* child (``waitpid(-1)``) while a run is
under way can still take the tracees' reports; ``subprocess`` waits by pid.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def call_in_own_thread(work: Callable[[], T], abort: Callable[[], None]) -> T:
    """Run ``work`` in a new thread and return its result, or raise what it raised.

    Should the wait for it end with an exception in the caller's thread (a
    signal handler that raises), ``abort`` kills the traced tree, the thread
    is waited for, so nothing of the run outlives this call, and the
    exception goes on.
    """
    results: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            results.append(work())
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(error)

    thread = threading.Thread(target=target, name="tracer", daemon=True)
    thread.start()
    try:
        thread.join()
    except BaseException:
        abort()
        thread.join()
        raise
    if errors:
        raise errors[0]
    return results[0]
