"""The handle by which a run sends its stop signal to the server's main process, and to nothing else.

A run ends a server that serves until told (``server.stop``) with a signal
sent from the clients' thread while the tracer's thread follows the process:
the process may exit and be reaped in between, and its pid be reused.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading

from harness.model.events import Event, ExecEvent, ExitEvent
from harness.model.roles import ROOT_ROLE


class MainProcess:
    """The server's main process (the traced command's own, from its exec on), to send it the stop signal.

    It is held as a pidfd, opened while the tracer holds the process at its
    exec, so that the signal reaches that process or nothing: a pid alone
    could be reused once the process is reaped (pidfd_open(2),
    pidfd_send_signal(2)).  Where pidfds are missing (Linux < 5.3) the pid is
    used, and only until its exit is reported.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._pidfd: int | None = None

    def on_event(self, event: Event) -> None:
        """Note the main process at its first exec, forget it at its exit."""
        if event.role != ROOT_ROLE or event.tid != event.pid:
            return
        with self._lock:
            if isinstance(event, ExecEvent) and self._pid is None:
                self._pid = event.pid
                with contextlib.suppress(OSError, AttributeError):
                    self._pidfd = os.pidfd_open(event.pid)
            elif isinstance(event, ExitEvent):
                self._pid = None

    def send(self, signum: int) -> bool:
        """Send the signal if the process lives; whether it was sent."""
        with self._lock:
            try:
                if self._pidfd is not None:
                    signal.pidfd_send_signal(self._pidfd, signum)
                elif self._pid is not None:
                    os.kill(self._pid, signum)
                else:
                    return False
            except ProcessLookupError:
                return False
            return True

    def close(self) -> None:
        """Close the pidfd."""
        with self._lock:
            if self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None
