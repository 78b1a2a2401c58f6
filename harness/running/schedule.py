"""The deterministic schedule: the order of a fork server's run, decided through ptrace.

Whether a blocking ``accept`` is interrupted by SIGCHLD depends on timing:
only a SIGCHLD that arrives while the parent blocks in accept interrupts
it.  A trace assertion in CI must not depend on luck, so in deterministic
mode the harness orders the run itself:

1. A process of a connection (a descendant of the server) that reaches
   ``exit_group`` while its parent lives is held at that entry (a
   syscall-entry stop the tracer does not resume) until the parent is
   inside a waiting call (accept, poll, a blocking wait4...), and until
   the process's own other threads have ended (CPython's
   ``Thread.join`` returns before the joined thread's ``exit`` call, and an
   ``exit_group`` let go at once would sometimes kill that thread first).
   Then it is released, so its exit and the SIGCHLD it causes always find
   the parent blocked.  A parent's held children are released one at a
   time: the next one once the previous one's exit has been reported.
   A process of a connection that reaches its own exit while children of
   its are still at work waits for them the same way, so that whether a
   last child ends a zombie or an orphan is decided, not raced.
   Processes that are no connection's (a launcher script's ``$(...)``, a
   pyenv shim's helpers, a daemon's middle process) are never held: their
   parent may be reading their output, not waiting for their exit.  Their
   own exit does not count as waiting either: a child of theirs held at its
   exit (a daemon) goes once they are gone, an orphan on every run.
2. The server is the first process that waits for a connection, once a
   process of the tree has called ``listen`` (or that calls ``accept``).
   The first client connects once it does; the next client once the previous
   connection's child has exited and, when a SIGCHLD is on its way to the
   server (read from ``/proc/PID/status``), once the server has dealt with
   it and waits again.  So connections are served one at a time.
3. A waiting call whose entry an injected signal interrupts (``--inject
   accept4:signal=SIGCHLD``) is never offered to :meth:`hold`: the tracer
   offers the call's next entry, after the signal's delivery stop.  A client
   let in at the interrupted entry would race the signal: accept4 returns a
   queued connection without looking at pending signals.  Nor is an entry
   whose call an injected error skips (``--inject accept4:error=EINTR``): it
   returns at once, so it is no wait, and a child let go then would send its
   SIGCHLD while the program is between two calls, on some runs only.

4. Servers of other shapes get no false order.  When a connection is
   accepted by a process other than the server (a pre-fork worker), or the
   server waits for its next connection (in ``accept``, or in the ``poll``
   of a socket with a timeout) without having forked for the last one (an
   iterative or thread-per-connection server), the schedule steps aside:
   it lets every held task go, lets the clients come one after the other
   as they finish, holds nothing more, and says so
   (:attr:`DeterministicSchedule.stepped_aside`).

Nothing here sleeps: every step waits for a stop the tracer reports.  A
parent that blocks in a call not listed below while its child exits (a read
on a pipe from that child, say) would never let the child go: when the run
stands still so, the stall watch lets the held exit go
(:meth:`DeterministicSchedule.release_a_held_exit`), and the summary says
so, and says when the parent was in no waiting call, where the SIGCHLD of
that exit lands being then the kernel's race.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from harness.model import kernel
from harness.model.events import Event, ExecEvent, ExitEvent, SpawnEvent, SyscallEntry, SyscallEvent
from harness.model.roles import ROOT_ROLE, parent_role, process_role
from harness.model.syscalls import calls_that
from harness.running.proc_tasks import signal_masks
from harness.running.readiness import returns_at_once

#: Calls in which a server waits for its next connection: the first process
#: to enter one is the server (a Python socket with a timeout polls first).
ACCEPT_CALLS = calls_that("accepts") | calls_that("waits_on_descriptors")
#: Calls in which a server waits for a connection or a child: a child's exit
#: released while the server is in one of them finds it blocked.  A process's
#: exit counts: a parent that ends is done with waiting.
WAITING_CALLS = (
    ACCEPT_CALLS | calls_that("reaps") | calls_that("suspends") | calls_that("resumes") | calls_that("ends_process")
)
_ACCEPTS, _REAPS, _ENDS_PROCESS = calls_that("accepts"), calls_that("reaps"), calls_that("ends_process")
_LISTENS = calls_that("listens")
_SIGCHLD = kernel.SIGNAL_NUMBERS["SIGCHLD"]


def _sigchld_pending(pid: int) -> bool:
    """Whether SIGCHLD is queued for a process and not yet taken (SigPnd or ShdPnd, :mod:`.proc_tasks`)."""
    masks = signal_masks(pid)
    return masks is not None and masks.has(masks.pending, _SIGCHLD)


class DeterministicSchedule:
    """A :class:`harness.running.tracer.Controller` that orders exits, SIGCHLD and connections.

    ``release_task`` is the tracer's own ``release``, given once the tracer
    exists.  Clients call :meth:`wait_for_turn` before connecting.  The
    tracer calls :meth:`hold` and :meth:`left`; the run's listener passes
    every event to :meth:`on_event`.
    """

    watched = WAITING_CALLS

    def __init__(self) -> None:
        self.release_task: Callable[[int], None] | None = None
        self._turns = threading.Semaphore(0)
        self._server: str | None = None
        self._first_turn = True
        self._turn_at_next_wait = False
        self._waiting: set[str] = set()  # process roles inside a waiting call
        self._alive: set[str] = {ROOT_ROLE}  # process roles that have not exited
        self._threads: dict[int, set[int]] = {}  # pid -> its live threads other than the main one
        self._held: dict[str, list[SyscallEntry]] = {}  # parent role -> its children held at exit_group
        self._exiting: dict[int, str] = {}  # tid of a released child -> its parent's role
        self._pids: dict[str, int] = {}  # process role -> pid
        self._exit_after_children: dict[str, SyscallEntry] = {}  # process role -> its own held exit_group
        self._listened = False  # a process of the tree has called listen
        self._unforked_accept = False  # the server accepted a connection and has not forked since
        self._threaded_accept = False  # ... and has started a thread since (thread per connection)
        self._clients_waiting = 0  # client threads inside wait_for_turn
        self.exits_let_go: list[tuple[str, bool]] = []
        """The exits let go so that a run standing still could go on, each with whether its parent was waiting
        then (else where its SIGCHLD lands among the parent's calls can differ from run to run)."""
        self.stepped_aside: str | None = None
        """Why the schedule stopped ordering the run (a server shape it does not fit), or None."""

    # -- what clients call ----------------------------------------------------

    def wait_for_turn(self, index: int) -> None:
        """Block the client thread until the server is ready for the next connection."""
        self._clients_waiting += 1
        try:
            self._turns.acquire()
        finally:
            self._clients_waiting -= 1

    @property
    def clients_waiting(self) -> bool:
        """Whether a client is waiting for its turn now (for the stall watch)."""
        return self._clients_waiting > 0

    def abort(self) -> None:
        """Unblock every waiting client: the run is ending."""
        self._turns.release(1 << 16)

    def release_a_held_exit(self) -> str | None:
        """Let go the earliest exit the schedule holds; the role let go, or None when it holds none.

        For the stall watch, when every task is held or blocked for good: the
        task that waits may be waiting for that very exit, which no order of the
        schedule's can bring: a parent reading, until EOF, a pipe or socketpair
        whose last writer is its held child, or a child reading one whose last
        writer is its parent, held until the child is done (an FTP session's
        helper, ncat's ``--exec``).
        """
        held: list[tuple[int, str | None, SyscallEntry]] = [
            (entry.seq, parent, entry) for parent, entries in self._held.items() for entry in entries[:1]
        ]
        held += [(entry.seq, None, entry) for entry in self._exit_after_children.values()]
        if not held:
            return None
        _, parent, entry = min(held, key=lambda candidate: candidate[0])
        if parent is None:
            del self._exit_after_children[entry.role]
        else:
            self._held[parent].remove(entry)
            self._exiting[entry.tid] = parent
        waiter = parent_role(entry.role)
        self.exits_let_go.append((entry.role, waiter is not None and waiter in self._waiting))
        self._release(entry)
        return entry.role

    # -- what the tracer calls ------------------------------------------------

    def hold(self, entry: SyscallEntry) -> bool:
        """Hold an exiting process of a connection until its parent waits; note every process's waits."""
        if self.stepped_aside is not None:
            return False
        if entry.name in _ENDS_PROCESS and entry.tid == entry.pid:
            if not self._of_a_connection(entry.role):
                # Start-up processes, launchers, a daemon's middle process: never held, and their exit does not
                # count as waiting: a child of theirs held at its exit goes once they are gone (an orphan then).
                return False
            parent = parent_role(entry.role)
            if parent in self._alive:
                self._held.setdefault(parent, []).append(entry)
                ready = self._next_ready(parent)
                if ready is not entry:
                    if ready is not None:  # an earlier child became free to go
                        self._let_exit(ready)
                    return True
            if self._has_children_to_wait_for(entry.role):
                self._wait_for_children(entry)
                return True
        self._pids.setdefault(entry.role, entry.pid)
        process = process_role(entry.role)
        if self._server is None and entry.name in ACCEPT_CALLS and (self._listened or entry.name in _ACCEPTS):
            self._server = process  # a process: the thread that accepts may be any of its threads
        if entry.name in ACCEPT_CALLS and process == self._server and self._unforked_accept:
            # Its next wait, whether accept or the poll of a socket with a timeout (socketserver, asyncio):
            # no child will exit for this connection, so no turn would ever come from one.
            how = "in a thread of its own" if self._threaded_accept else "without forking"
            self._step_aside(f"{self._server} waits for its next connection, having served the last one {how}")
            return False
        if self._is_wait(entry) and not returns_at_once(entry.pid, entry.name, entry.args):
            # A process waits for its children's exits in its main thread; the server waits for a connection in
            # whichever of its threads accepts (an iterative server whose worker thread accepts).
            released = False
            if "/" not in entry.role:
                self._waiting.add(entry.role)
                released = self._release_next(entry.role)
            waits_for_a_client = "/" not in entry.role or entry.name in ACCEPT_CALLS
            if (
                not released
                and process == self._server
                and waits_for_a_client
                and (self._first_turn or self._turn_at_next_wait)
            ):
                self._first_turn = self._turn_at_next_wait = False
                self._turns.release()
        return False

    def left(self, entry: SyscallEntry) -> None:
        """A waiting call returned: that process works until its next wait."""
        self._waiting.discard(entry.role)

    def on_event(self, event: Event) -> None:
        """Follow processes, threads, connections, and the exits of released children."""
        if isinstance(event, SyscallEvent):
            self._on_call(event)
        elif isinstance(event, SpawnEvent):
            if process_role(event.role) == self._server:
                self._unforked_accept = self._unforked_accept and event.thread
                self._threaded_accept = self._unforked_accept
            if event.thread:
                self._threads.setdefault(event.child_pid, set()).add(event.child_tid)
            else:
                self._alive.add(event.child_role)
                self._pids[event.child_role] = event.child_pid
        elif isinstance(event, ExitEvent) and event.tid != event.pid:
            self._thread_ended(event.pid, event.tid)
        elif isinstance(event, ExecEvent) and event.former_tid is not None:  # that thread goes on as the leader
            self._thread_ended(event.pid, event.former_tid)
        elif isinstance(event, ExitEvent):
            self._alive.discard(event.role)
            for orphan in self._held.pop(event.role, []):  # re-parented: nobody to wait for
                self._let_exit(orphan)
            waiter = self._exiting.pop(event.tid, None)
            if waiter is not None:
                self._after_child_exit(waiter)
            elif (
                exiting_parent := parent_role(event.role)
            ) is not None and exiting_parent in self._exit_after_children:
                self._after_child_exit(exiting_parent)  # it ended without a held exit (killed): its parent may go now

    # -- helpers -------------------------------------------------------------

    def _thread_ended(self, pid: int, tid: int) -> None:
        """A thread of process ``pid`` is gone: a child held until that process's threads were done may go."""
        self._threads.get(pid, set()).discard(tid)
        for parent, held in list(self._held.items()):
            if held and held[0].pid == pid:
                self._release_next(parent)

    def _on_call(self, event: SyscallEvent) -> None:
        """Note the tree's listen, and each accepted connection: who accepted it tells the server's shape."""
        if event.name in _LISTENS and event.errno is None:
            self._listened = True
        elif event.name in _ACCEPTS and event.ret is not None and event.ret >= 0:
            accepter = process_role(event.role)
            if self.stepped_aside is None and accepter != self._server:
                self._step_aside(f"a connection was accepted by {accepter}, not by {self._server} (a pre-fork server)")
            self._unforked_accept, self._threaded_accept = True, False

    def _of_a_connection(self, role: str) -> bool:
        """Whether a process is the server or descends from it: started to serve, not for start-up."""
        return self._server is not None and (role == self._server or role.startswith(self._server + "."))

    def _running_children(self, parent: str) -> bool:
        """Whether a process of a connection (the server included) has children that have not exited yet."""
        return self._of_a_connection(parent) and any(parent_role(role) == parent for role in self._alive)

    def _step_aside(self, reason: str) -> None:
        """Stop ordering the run: let every held task go, and every client come in its own time."""
        self.stepped_aside = reason
        held = [entry for entries in self._held.values() for entry in entries]
        held += self._exit_after_children.values()
        self._held.clear()
        self._exit_after_children.clear()
        for entry in held:
            self._release(entry)
        self._turns.release(1 << 16)

    def _next_ready(self, parent: str) -> SyscallEntry | None:
        """Take the first held child of ``parent`` if it may exit now: the parent waits, its threads are gone."""
        held = self._held.get(parent)
        if not held or parent not in self._waiting or self._threads.get(held[0].pid):
            return None
        if parent in self._exiting.values():
            return None  # one at a time: the previous exit is still to be reported
        entry = held.pop(0)
        self._exiting[entry.tid] = parent
        return entry

    def _release_next(self, parent: str) -> bool:
        """Let the next held child of ``parent`` exit, if it may (or wait for its own children, if it has any)."""
        entry = self._next_ready(parent)
        if entry is not None:
            self._let_exit(entry)
        return entry is not None

    def _let_exit(self, entry: SyscallEntry) -> None:
        """Let an exit go whose parent waits now, unless children of its are still to end first.

        Both conditions hold before any exit goes, whichever came true last:
        a child held until its parent waits may meanwhile have children at work
        (ncat's ``--exec`` helper), and which of them ends first must not
        depend on whether its parent was in ``accept`` already when it exited.
        """
        if self._has_children_to_wait_for(entry.role):
            self._wait_for_children(entry)
        else:
            self._release(entry)

    def _has_children_to_wait_for(self, role: str) -> bool:
        """Whether an exiting process has children held at their exit, exiting, or still at work."""
        return bool(self._held.get(role)) or role in self._exiting.values() or self._running_children(role)

    def _wait_for_children(self, entry: SyscallEntry) -> None:
        """Hold an exit until the process's children have ended, one at a time.

        Exiting counts as waiting for its children (their SIGCHLD finds it
        gone), and its own exit comes after theirs on every run: whether a
        last child ends a zombie or an orphan is decided, not raced.
        """
        self._waiting.add(entry.role)
        self._exit_after_children[entry.role] = entry
        self._release_next(entry.role)

    def _release(self, entry: SyscallEntry) -> None:
        assert self.release_task is not None
        self.release_task(entry.tid)

    def _after_child_exit(self, parent: str) -> None:
        """A released child's exit was reported: go on with the parent's next child or the next client.

        When a SIGCHLD is on its way to the parent, its current wait is
        about to end: what comes next waits for the parent's next wait.
        """
        pid = self._pids.get(parent)
        exiting_parent = self._exit_after_children.get(parent)
        if exiting_parent is None and pid is not None and _sigchld_pending(pid):
            self._waiting.discard(parent)
        if self._release_next(parent):
            return
        if exiting_parent is not None:
            if not self._held.get(parent) and not self._running_children(parent):
                del self._exit_after_children[parent]
                self._release(exiting_parent)
            return
        if parent != self._server:
            return
        if parent in self._waiting:
            self._turns.release()
        else:
            self._turn_at_next_wait = True

    @staticmethod
    def _is_wait(entry: SyscallEntry) -> bool:
        if entry.name in _REAPS:
            return "WNOHANG" not in entry.args.get("options", [])
        return entry.name in WAITING_CALLS
