"""Stall detection: end a run at once when nothing can happen any more, and say why.

A run that cannot go on would otherwise wait for its time limit and then
blame the server.  It cannot go on when, for about a second, no event was
traced, no client can act (each waits for its turn, or all are done), and
every traced task is either held by the harness or blocked in a call that
cannot end by itself (an ``accept`` with no client coming, a ``read`` of a
pipe whose writer is held, ``wait4`` for a child that is held).  Before it
says so, a hold the run may be waiting on is let go, if there is one: the
deterministic schedule keeps exits (a child's until its parent waits, a
process's until its children are done), and a task that reads, until EOF, a
pipe or socketpair whose last writer is the held one waits for that very
exit (an FTP session's helper, ncat's ``--exec``).  Everything else is
blocked or held then, so the state, and what the release does to it, is the
same on every run.  A call that
ends by itself (``nanosleep``, a ``poll`` or ``select`` with a timeout, a
timed futex wait) keeps the run alive: the program is only pausing.

A server that serves on is told apart from a stall, and caught even where a
stall would not be: once the clients are done and no stop signal is to come,
a process that waits, for about a second, in a call in which servers wait for
a connection (``accept``, or the ``poll``/``select``/``epoll`` of a server
whose socket has a timeout) is a server that serves until it is told to stop.
Without the watch, one that polls with a timeout (socketserver's
``serve_forever``) would keep the run alive until its time limit.  A lesson's
server, which exits once it has served its connections, never waits so.

The blocked call is read from ``/proc`` (:mod:`harness.running.proc_tasks`):
its number and arguments, for traced and untraced calls alike.  Nothing here decides
the run's order; it only watches, from its own thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from harness.model.events import Event
from harness.model.syscalls import NUMBERS, calls_that, timeout_of
from harness.running.proc_tasks import asleep, call_in
from harness.running.schedule import ACCEPT_CALLS

#: How long everything must stay still before the run is called stalled.
QUIET_SECONDS = 1.0
#: How long a process must wait for a connection, after the clients, to be a server that serves on.
SERVING_ON_SECONDS = 1.0
#: How often the watch looks.
_SAMPLE_SECONDS = 0.2

#: Calls that always end by themselves.
_SLEEPS = frozenset(NUMBERS[name] for name in calls_that("sleeps"))


@dataclass(frozen=True, slots=True)
class TaskState:
    """What one task was doing when the run stalled."""

    tid: int
    role: str
    call: str
    """The call it was in (``read``, ``exit_group``), or ``?`` when /proc could not say."""
    held: bool
    """The harness held it there (deterministic mode's schedule)."""

    def __str__(self) -> str:
        return f"{self.role} {'held by the harness at' if self.held else 'blocked in'} {self.call}"


@dataclass(frozen=True, slots=True)
class Stall:
    """A run that could not go on: every task held or blocked, no client able to act."""

    tasks: tuple[TaskState, ...]
    clients_done: bool
    """The clients had all finished (else they waited for their turn)."""

    def describe(self) -> str:
        """One sentence for the run's failure: what each task was doing."""
        doing = "; ".join(map(str, self.tasks)) or "no task left"
        who = "the clients were done" if self.clients_done else "the next client waited for its turn"
        return f"the run stalled: nothing happened for {QUIET_SECONDS:g} s, {who}, and {doing}"


def _blocked_call(tid: int) -> tuple[str, bool] | None:
    """The call a sleeping task is in and whether it can end by itself; None when the task is not asleep."""
    found = asleep(tid)
    if found is None:
        return None
    if found.number in _SLEEPS:
        return found.call, True
    timed = timeout_of(found.call)  # a call that ends by itself when its timeout argument says so
    if timed is not None and len(found.args) > timed.index:
        value = found.args[timed.index]
        if timed.forever_is_negative:
            value = value - (1 << 32) if value & 0x80000000 else value
            return found.call, value >= 0
        return found.call, value != 0
    return found.call, False


@dataclass(frozen=True, slots=True)
class ServingOn:
    """A server still waiting for connections once its clients were done, with no stop signal to come."""

    waiting: TaskState
    """The task that waited, and the call it waited in."""

    def describe(self) -> str:
        """One sentence for the run's failure, with the fix."""
        return (
            f"the server serves on: {self.waiting.role} still waited in {self.waiting.call} "
            f"{SERVING_ON_SECONDS:g} s after the clients were done, as a server waits for its next connection; "
            "give it a stop signal: --stop SIGTERM (stop: SIGTERM in the file)"
        )


class StallWatch:
    """Watches a run from its own thread and calls ``on_stall`` once if the run stalls.

    ``tasks`` and ``held`` are the tracer's live and held tasks; ``clients``
    says whether the clients are all waiting for a turn or done (and which);
    ``note`` is fed every traced event, for the roles and the quiet.
    """

    def __init__(self) -> None:
        self._tasks: Callable[[], Collection[int]] = frozenset
        self._held: Callable[[], Collection[int]] = frozenset
        self._clients: Callable[[], str | None] = lambda: None
        self._on_stall: Callable[[Stall], None] = lambda stall: None
        self._on_serving_on: Callable[[ServingOn], None] = lambda serving: None
        self._unblock: Callable[[], bool] = lambda: False
        self._roles: dict[int, str] = {}
        self._events = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="stall-watch", daemon=True)

    def configure(
        self,
        *,
        tasks: Callable[[], Collection[int]],
        held: Callable[[], Collection[int]],
        clients: Callable[[], str | None],
        on_stall: Callable[[Stall], None],
        on_serving_on: Callable[[ServingOn], None] = lambda serving: None,
        unblock: Callable[[], bool] = lambda: False,
    ) -> None:
        """Say what to watch: made before the tracer exists, so that it can take the tracer's events.

        ``unblock`` is asked, when the run stands still with a task held, to let go a hold that
        the run may be waiting on (the deterministic schedule's); True: one was let go.
        """
        self._tasks, self._held, self._clients, self._on_stall = tasks, held, clients, on_stall
        self._on_serving_on, self._unblock = on_serving_on, unblock

    def note(self, event: Event) -> None:
        """Count an event and learn its task's role (called in the tracer's thread)."""
        self._events += 1
        self._roles[event.tid] = event.role

    def start(self) -> None:
        """Start watching."""
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (the run ended)."""
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        """Sample until the run has been still and stalled for QUIET_SECONDS.

        The quiet starts at the first sample that finds the run stalled with
        no event since the sample before: also when that earlier sample found
        it not yet stalled (a client still busy, a task not yet asleep), which
        is how a run most often comes to a stall, its last event first.
        """
        quiet_since: float | None = None
        serving_since: float | None = None
        seen = -1
        while not self._done.wait(_SAMPLE_SECONDS):
            # A server that serves on is that, not a stall, whichever a sample would see first: one reason,
            # the same on every run.  The wait starts at its first sighting; a later sample must see it again.
            serving = self._serving_on()
            if serving is not None:
                serving_since = serving_since or time.monotonic()
                if time.monotonic() - serving_since >= SERVING_ON_SECONDS:
                    self._on_serving_on(serving)
                    return
                quiet_since, seen = None, self._events
                continue
            stall = self._look()
            if stall is None or self._events != seen:
                quiet_since, seen = (time.monotonic() if stall is not None else None), self._events
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif any(task.held for task in stall.tasks) and self._unblock():
                quiet_since, seen = None, -1  # a hold the run was waiting on is let go: it goes on
            elif time.monotonic() - quiet_since >= QUIET_SECONDS:
                self._on_stall(stall)
                return

    def _serving_on(self) -> ServingOn | None:
        """The first task asleep in a call that waits for a connection, once the clients are done; else None."""
        if self._clients() != "done":
            return None
        held = set(self._held())
        for tid in sorted(self._tasks()):
            blocked = None if tid in held else _blocked_call(tid)
            if blocked is not None and blocked[0] in ACCEPT_CALLS:
                return ServingOn(TaskState(tid, self._roles.get(tid, f"pid {tid}"), blocked[0], False))
        return None

    def _look(self) -> Stall | None:
        """The stall as it would be reported now, or None when something can still happen."""
        clients = self._clients()
        if clients is None:
            return None
        held = set(self._held())
        states = []
        for tid in sorted(self._tasks()):
            role = self._roles.get(tid, f"pid {tid}")
            if tid in held:
                states.append(TaskState(tid, role, call_in(tid), True))
                continue
            blocked = _blocked_call(tid)
            if blocked is None or blocked[1]:
                return None  # running, stopped by the tracer for a moment, or pausing with a timeout
            states.append(TaskState(tid, role, blocked[0], False))
        return Stall(tuple(states), clients_done=clients == "done")
