"""How a run ends: a blocking wait that SIGINT and SIGTERM can interrupt, the kill of every task, the reaping.

SIGINT or SIGTERM to the harness must end the run in order: kill the traced
tree, reap it, and keep the trace so far.  Python runs a signal handler in
the main thread between bytecodes, and retries a waitpid that a handled
signal interrupted (PEP 475) unless the handler raises: so the handler only
notes the signal, and raises to leave the wait only while the loop is
blocked in it.  Outside the main thread (a tracer run from a worker thread)
no handler can be installed, and the caller's own handling applies.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Collection, Iterator
from types import FrameType

from ptrace.binding import func as binding

WALL = binding.THREAD_TRACE_FLAGS
"""__WALL: wait for threads and clones too (waitpid(2))."""


class _StopRequested(Exception):
    """Raised by the signal handler to leave a blocking wait."""


class Ending:
    """Whether and why the run is ending, and the wait that notices it."""

    __slots__ = ("killing", "stop_signal", "waiting")

    def __init__(self) -> None:
        self.stop_signal: int | None = None
        """SIGINT or SIGTERM, once one of them asked the harness to end the run."""
        self.killing = False
        """Every task has been sent SIGKILL: the run is over, its last reports are being collected."""
        self.waiting = False

    @property
    def must_kill(self) -> bool:
        """A stop was asked for and the tasks are not killed yet."""
        return self.stop_signal is not None and not self.killing

    def wait(self) -> tuple[int, int] | None:
        """Block for the next report of any task; None when a stop request came first.

        Raises ChildProcessError when no child is left to wait for.
        """
        self.waiting = True
        try:
            if self.must_kill:
                return None
            return os.waitpid(-1, WALL)
        except _StopRequested:
            return None
        finally:
            self.waiting = False

    def kill(self, tids: Collection[int]) -> None:
        """SIGKILL every task: nothing of the run may outlive it."""
        self.killing = True
        for tid in tids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(tid, signal.SIGKILL)

    @contextlib.contextmanager
    def on_signals(self) -> Iterator[None]:
        """Turn SIGINT and SIGTERM into an orderly end: noted here, acted on by the loop."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: FrameType | None) -> None:
            self.stop_signal = signum
            if self.waiting:
                raise _StopRequested

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)


def reap(pending: Collection[int], seen: Collection[int]) -> None:
    """Collect what is left of a run: the ``pending`` tasks (killed), and zombies re-parented to us among ``seen``."""
    left = set(pending)
    while left:
        try:
            tid, status = os.waitpid(-1, WALL)
        except ChildProcessError:
            break
        if not os.WIFSTOPPED(status):
            left.discard(tid)
    for tid in seen:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(tid, os.WNOHANG | WALL)
