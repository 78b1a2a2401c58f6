"""The deterministic schedule: the order of a fork server's run, decided through ptrace.

Whether a blocking ``accept`` is interrupted by SIGCHLD depends on timing:
only a SIGCHLD that arrives while the parent blocks in accept interrupts
it.  A trace assertion in CI must not depend on luck, so in deterministic
mode the harness orders the run itself, one connection at a time:

1. The first client connects only once the server has entered its first
   waiting call (accept, poll...).
2. A connection's child that reaches ``exit_group`` is held at that entry
   (a syscall-entry stop the tracer does not resume) until the server is
   inside a waiting call; then it is released, so its exit and the SIGCHLD
   it causes always find the server blocked.  It is also held until its own
   other threads have ended: CPython's ``Thread.join`` returns before the
   joined thread's ``exit`` call, and an ``exit_group`` released at once
   would sometimes kill that thread first.
3. Once the child's exit has been reported, the next client may connect:
   at once if no SIGCHLD is on its way to the server (SIGCHLD ignored, the
   kernel reaped the child), else only when the server has dealt with it
   and entered its next waiting call.

Nothing here sleeps: every step waits for a stop the tracer reports.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from harness import kernel
from harness.events import Event, ExitEvent, SpawnEvent, SyscallEntry
from harness.roles import parent_role

#: Calls in which a server waits for a connection or a child: a child's exit
#: released while the server is in one of them finds it blocked.
WAITING_CALLS = frozenset(
    {
        "accept",
        "accept4",
        "poll",
        "ppoll",
        "select",
        "pselect6",
        "epoll_wait",
        "epoll_pwait",
        "restart_syscall",
        "wait4",
        "waitid",
        "pause",
        "rt_sigsuspend",
        "exit_group",
    }
)
_ACCEPT_CALLS = frozenset({"accept", "accept4", "poll", "ppoll", "select", "pselect6", "epoll_wait", "epoll_pwait"})
_SIGCHLD_BIT = 1 << (kernel.SIGNAL_NUMBERS["SIGCHLD"] - 1)


def _sigchld_pending(pid: int) -> bool:
    """Whether SIGCHLD is queued for a process and not yet taken (/proc/PID/status, proc(5))."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(("SigPnd:", "ShdPnd:")) and int(line.split()[1], 16) & _SIGCHLD_BIT:
                    return True
    except OSError:
        return False
    return False


class DeterministicSchedule:
    """A :class:`harness.tracer.Controller` that serialises connections, children's exits and SIGCHLD.

    ``release`` is the tracer's own method, given once the tracer exists.
    Clients call :meth:`wait_for_turn` before connecting.
    """

    watched = WAITING_CALLS

    def __init__(self) -> None:
        self.release_task: Callable[[int], None] | None = None
        self._turns = threading.Semaphore(0)
        self._server: str | None = None
        self._server_pid = 0
        self._server_waiting = False
        self._held: int | None = None
        self._held_pid = 0
        self._threads: dict[int, set[int]] = {}  # pid -> its live threads other than the main one
        self._exiting: int | None = None  # a released child whose exit is still to be reported
        self._next_at_reentry = False
        self._first = True
        self.aborted = threading.Event()

    # -- what clients call ----------------------------------------------------

    def wait_for_turn(self, index: int) -> None:
        """Block the client thread until the server is ready for the next connection."""
        self._turns.acquire()

    def abort(self) -> None:
        """Unblock every waiting client: the run is ending."""
        self.aborted.set()
        self._turns.release(1 << 16)

    # -- what the tracer calls ------------------------------------------------

    def hold(self, entry: SyscallEntry) -> bool:
        """Hold a connection's child at its exit until the server waits; note the server's waits."""
        if entry.name == "exit_group" and self._is_connection_child(entry.role):
            if self._server_waiting and not self._threads.get(entry.pid):
                self._exiting = entry.tid
                return False
            self._held, self._held_pid = entry.tid, entry.pid
            return True
        if self._server is None and entry.name in _ACCEPT_CALLS:
            self._server, self._server_pid = entry.role, entry.pid
        if entry.role != self._server or not self._is_wait(entry):
            return False
        self._server_waiting = True
        if self._held is not None:
            self._release_when_ready()
        elif self._first or self._next_at_reentry:
            self._first = self._next_at_reentry = False
            self._turns.release()
        return False

    def left(self, entry: SyscallEntry) -> None:
        """The server's waiting call returned: it works until its next wait."""
        if entry.role == self._server:
            self._server_waiting = False

    def on_event(self, event: Event) -> None:
        """Follow the children's threads and the released child's exit."""
        if isinstance(event, SpawnEvent) and event.thread:
            self._threads.setdefault(event.child_pid, set()).add(event.child_tid)
        elif isinstance(event, ExitEvent) and event.tid != event.pid:
            self._threads.get(event.pid, set()).discard(event.tid)
            if self._held is not None:
                self._release_when_ready()
        elif isinstance(event, ExitEvent) and event.tid == self._exiting:
            self._exiting = None
            if _sigchld_pending(self._server_pid) or not self._server_waiting:
                self._next_at_reentry = True  # the server is (or will be) interrupted: wait for its next wait
            else:
                self._turns.release()

    # -- helpers -------------------------------------------------------------

    def _release_when_ready(self) -> None:
        """Let the held child exit once the server waits and the child's other threads have ended."""
        if self._held is None or not self._server_waiting or self._threads.get(self._held_pid):
            return
        held, self._held = self._held, None
        self._exiting = held
        assert self.release_task is not None
        self.release_task(held)

    def _is_connection_child(self, role: str) -> bool:
        return self._server is not None and "/" not in role and parent_role(role) == self._server

    @staticmethod
    def _is_wait(entry: SyscallEntry) -> bool:
        if entry.name in ("wait4", "waitid"):
            return "WNOHANG" not in entry.args.get("options", [])
        return entry.name in WAITING_CALLS
