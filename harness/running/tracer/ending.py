"""How a run ends: SIGINT and SIGTERM kill the traced tree, the tracer reaps it, the trace so far is kept.

The tracer waits in a thread of its own (:mod:`.own_thread`), for its own
tracees only (``__WALL | __WNOTHREAD``).  Python runs a signal handler in the
main thread, which waits for the tracer's thread: so the handler notes the
signal and kills every traced task, which ends the tracer's wait with their
exit reports, and the loop collects them.  Outside the main thread (a run
started from a worker thread) no handler can be installed, and the caller's
own handling applies.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Collection, Iterator
from types import FrameType

from harness.model import kernel_flags

WALL = kernel_flags.WAIT_ALL | kernel_flags.WAIT_NO_THREAD
"""__WALL | __WNOTHREAD: threads and clones too, and only the calling thread's children and tracees (waitpid(2))."""
WALL_AND_STOPS = WALL | os.WUNTRACED
"""The loop's wait: also the stop of its one untraced child, the waker (.waker); tracees' stops come anyway."""


class Ending:
    """Whether and why the run is ending, and the wait that notices it."""

    __slots__ = ("killing", "stop_signal")

    def __init__(self) -> None:
        self.stop_signal: int | None = None
        """SIGINT or SIGTERM, once one of them asked the harness to end the run."""
        self.killing = False
        """Every task has been sent SIGKILL: the run is over, its last reports are being collected."""

    @property
    def must_kill(self) -> bool:
        """A stop was asked for and the tasks are not killed yet."""
        return self.stop_signal is not None and not self.killing

    @staticmethod
    def wait() -> tuple[int, int]:
        """Block for the next report of any of this thread's tracees.

        Raises ChildProcessError when no child is left to wait for.
        """
        return os.waitpid(-1, WALL_AND_STOPS)

    def kill(self, tids: Collection[int]) -> None:
        """SIGKILL every task: nothing of the run may outlive it.

        Called from the tracer's thread and from others (a time limit, a
        signal handler): a task the tracer adds once :attr:`killing` is set
        is killed by the tracer itself.
        """
        self.killing = True
        for tid in tids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(tid, signal.SIGKILL)

    @contextlib.contextmanager
    def on_signals(self, kill: Callable[[], None]) -> Iterator[None]:
        """Turn SIGINT, SIGTERM and SIGHUP (unless ignored) into an orderly end: noted, the traced tree killed."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: FrameType | None) -> None:
            self.stop_signal = signum
            kill()

        # An ignored SIGHUP stays ignored: started under nohup(1), the harness and its command are immune to a
        # hang-up, as nohup promises and as the command would be untraced (the command line keeps it so too).
        ending = [signal.SIGINT, signal.SIGTERM]
        if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
            ending.append(signal.SIGHUP)
        previous = {sig: signal.signal(sig, handler) for sig in ending}
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)


def reap(seen: Collection[int]) -> None:
    """Collect what is left of a run once its tasks are killed: every tracee, and the zombies of ``seen``.

    The wait goes on until the kernel says this thread has no child and no
    tracee left (ECHILD), not until the tasks the tracer knows have ended: a
    task forked while the run was being killed may be traced (auto-attached)
    with its creator's fork event never reported, because the creator was
    killed in that stop.  Such a task, stopped at its first SIGSTOP or not yet
    there, is killed here, or PTRACE_O_EXITKILL would kill it only when the
    harness exits, leaving its zombie to whoever adopts it then.

    A tracee whose end the tracer collected while its parent lived is left a
    zombie for that parent (it was not ours to reap); when that parent dies
    too, the zombie is re-parented to the harness, as subreaper, to its main
    thread rather than the tracer's: so these are waited for by pid, from any
    thread of the harness (no ``__WNOTHREAD``), each pid one of the run's.
    """
    ended = set(seen)
    while True:
        try:
            tid, status = os.waitpid(-1, WALL)
        except ChildProcessError:
            break
        if os.WIFSTOPPED(status):  # a tracee the tracer never heard of: a SIGKILL ends any ptrace stop
            with contextlib.suppress(ProcessLookupError):
                os.kill(tid, signal.SIGKILL)
        else:
            ended.add(tid)
    for tid in ended:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(tid, os.WNOHANG | kernel_flags.WAIT_ALL)
