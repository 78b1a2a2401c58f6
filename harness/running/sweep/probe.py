"""A sweep's eyes and hand inside one run: where the server sleeps when it stands still, and the one signal.

The run is made to stand still before everything that comes from outside:
each connection, chunk of bytes and end of stream a client sends waits in
the :class:`~harness.running.sweep.relay.Relay`, and the stop signal waits,
until :meth:`SweepProbe.settle` returns.  It returns once every traced task
sleeps in a call or is held by the harness (the deterministic schedule's
holds), looked up in ``/proc`` (:mod:`.sites`).  Each time it finds the
server so, it notes the **site** of every sleeping task: its call, its role
family and the code that made the call.  A server whose tasks can only be
woken by what the harness lets through is then in the same state on every
run; that is what makes the sites, and the one place a signal lands, the
same from run to run.

With a target site, the probe delivers the signal (tgkill(2), to the very
thread) when it finds a task of the site's family sleeping there
interruptibly, then waits for the server to stand still again before it lets
anything through: the signal lands in a call that is blocked, not merely
pending at its entry.  It is delivered only where the process catches it: an
ignored signal interrupts a traced task alone (a tracer's artefact,
:func:`harness.model.kernel.wakes_only_under_ptrace`) and one whose default
kills would end the server for no lesson.  Nothing here sleeps to order the
run: the looks at ``/proc`` wait for a state, and what comes out of the run
does not depend on how soon they find it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from harness.model import kernel, kernel_flags
from harness.model.events import Event, ExitEvent, SignalEvent, SyscallEntry, SyscallEvent
from harness.model.frames import summary
from harness.model.sweep import DEFAULT_SIGNAL, At, Site, role_family
from harness.model.syscalls import calls_that, syscall_number
from harness.running.proc_tasks import Asleep, asleep, ended, signal_masks
from harness.running.sweep.relay import Relay
from harness.running.sweep.sites import calling_code
from harness.running.tracer import Tracer, ptrace_ext
from harness.running.tracer.injection_policy import AddHandlerFlags, InjectionAction, InjectionPolicy

#: The first and the longest wait between two looks at /proc while the server is still busy.
_FIRST_LOOK, _LONGEST_LOOK = 0.0005, 0.005
_SA_RESTART = kernel_flags.flag_value(["SA_RESTART"], kernel.SA_FLAGS)
_RT_SIGACTION = syscall_number("rt_sigaction")
(_RESTART_SYSCALL,) = calls_that("resumes")
_HANDLER_RETURNS = calls_that("returns_from_handler")


@dataclass(frozen=True, slots=True)
class Delivery:
    """A signal the probe delivered: to which task, sleeping at which site."""

    tid: int
    role: str
    site: Site


class AddSaRestart:
    """The policy of ``--sa-restart``: each handler the program installs for the swept signal gets SA_RESTART."""

    def __init__(self, signum: int) -> None:
        self._add = AddHandlerFlags(_SA_RESTART, signum)

    def at_entry(self, tid: int, role: str, nr: int) -> InjectionAction | None:
        """Add SA_RESTART at each rt_sigaction entry of the signal (the tracer leaves SIG_DFL and SIG_IGN be)."""
        return self._add if nr == _RT_SIGACTION else None

    def at_exit(self, tid: int, nr: int, ret: int) -> None:
        """Nothing to count."""


class SweepProbe:
    """Watches one run of a sweep from inside: the sites where it stands still, and (with a target) the signal.

    ``target`` None: a baseline run, which only notes the sites.  With
    ``at`` ``first``, one signal in the run; ``all``: one at each time a task
    sleeps at the site anew (not again in a call it is retrying after the
    signal).  ``sa_restart`` runs the program as if each handler it installs
    said SA_RESTART.
    """

    def __init__(
        self, *, target: Site | None = None, signal: str = DEFAULT_SIGNAL, at: At = "first", sa_restart: bool = False
    ) -> None:
        self._target = target
        self._signal = signal
        self._signum = kernel.SIGNAL_NUMBERS[signal]
        self._at = at
        self.injection_policy: InjectionPolicy | None = AddSaRestart(self._signum) if sa_restart else None
        self._roles: dict[int, str] = {}
        self._pids: dict[int, int] = {}
        self._open: dict[int, SyscallEntry] = {}  # tid -> the traced call it is in
        self._resumes: dict[int, str] = {}  # tid -> the call its restart_syscall would resume
        self._in_handler: dict[int, int] = {}  # tid -> signal handlers it runs now (C handlers, until rt_sigreturn)
        self._in_retry: set[int] = set()  # tids signalled whose call has not yet ended otherwise
        self._wheres: dict[tuple[int, int, int], str] = {}
        self._sites: dict[Site, None] = {}
        self._deliveries: list[Delivery] = []
        self._uncaught: list[str] = []
        self._settling = threading.Lock()
        self._closed = threading.Event()
        self._tracer: Tracer | None = None
        self._relay: Relay | None = None

    # -- what the run saw -------------------------------------------------------------

    @property
    def sites(self) -> tuple[Site, ...]:
        """Every site where a task slept while the run stood still, in the order first seen."""
        return tuple(self._sites)

    @property
    def deliveries(self) -> tuple[Delivery, ...]:
        """The signals delivered, in order."""
        return tuple(self._deliveries)

    @property
    def uncaught(self) -> str | None:
        """Why the signal was not delivered at the target site when a task slept there, if that happened."""
        return self._uncaught[0] if self._uncaught else None

    # -- the run's side ---------------------------------------------------------------

    def start(self, tracer: Tracer, server: tuple[str, int]) -> tuple[str, int]:
        """Begin watching the tracer's tasks; the address the clients are to connect to (the relay's)."""
        self._tracer = tracer
        self._relay = Relay(server, self.settle)
        self._relay.start()
        return self._relay.address

    def close(self) -> None:
        """The run is over: nothing waits for the server any more."""
        self._closed.set()
        if self._relay is not None:
            self._relay.close()

    def on_point(self, point: SyscallEntry | Event) -> None:
        """Every entry and event of the run (in the tracer's thread): the tasks' roles and open calls."""
        tid = point.tid
        self._roles[tid], self._pids[tid] = point.role, point.pid
        if isinstance(point, SyscallEntry):
            self._open[tid] = point
        elif isinstance(point, SyscallEvent):
            self._open.pop(tid, None)
            if point.errno == "ERESTART_RESTARTBLOCK":
                self._resumes[tid] = point.name
            if point.name in _HANDLER_RETURNS:
                self._in_handler[tid] = max(self._in_handler.get(tid, 0) - 1, 0)
            elif tid in self._in_retry and self._served(point):
                self._in_retry.discard(tid)
        elif isinstance(point, SignalEvent) and self._at == "all" and self._target is not None:
            masks = signal_masks(point.pid)
            if masks is not None and masks.has(masks.caught, kernel.SIGNAL_NUMBERS.get(point.name, 0)):
                self._in_handler[tid] = self._in_handler.get(tid, 0) + 1  # until its rt_sigreturn
        elif isinstance(point, ExitEvent):
            self._open.pop(tid, None)

    def _served(self, event: SyscallEvent) -> bool:
        """Whether the call the task was signalled in has now done its work: the task may sleep there anew.

        That is the site's own call returning a success in the program's own
        code: not a retry failing again, and not a call of a signal handler
        (a C handler's run between the signal and its rt_sigreturn; a Python
        handler's calls have the handler's line, not the site's).
        """
        target = self._target
        if target is None or event.name != target.call or event.ret is None or event.ret < 0:
            return False
        if self._in_handler.get(event.tid, 0):
            return False
        return event.python is None or summary(event.python) == target.where

    def settle(self) -> None:
        """Return once the server stands still (after delivering the signal, if its site is reached)."""
        with self._settling:
            wait = _FIRST_LOOK
            while not self._closed.is_set():
                still = self._standing_still()
                if still is None:
                    self._closed.wait(wait)
                    wait = min(wait * 2, _LONGEST_LOOK)
                    continue
                self._note_sites(still)
                if not self._interrupt(still):
                    return
                wait = _FIRST_LOOK

    # -- its steps ---------------------------------------------------------------------

    def _standing_still(self) -> list[Asleep] | None:
        """Every traced task asleep in a call, held, or ended; None while one of them runs or is stopped.

        Also None while the tracer has stops to handle, or handles one during
        the look: a task may sleep in a call whose entry, or the end of the
        call before it, the tracer has not yet passed on (it resumes a task
        first and records after), and what the look finds must agree with
        what the probe was told.
        """
        tracer = self._tracer
        assert tracer is not None, "a probe looks only once its run has started"
        before = tracer.caught_up()
        if before is None:
            return None
        held = tracer.held()
        sleeping = []
        for tid in sorted(tracer.tasks()):
            if tid in held:
                continue
            found = asleep(tid)
            if found is not None and found.number >= 0:
                sleeping.append(found)
            elif not ended(tid):
                return None
        return sleeping if tracer.caught_up() == before else None

    def _note_sites(self, still: list[Asleep]) -> None:
        for found in still:
            if not found.interruptible:  # D: no signal wakes it there, so no signal can be tried there
                continue
            site = self._site_of(found)
            if site is not None:
                self._sites.setdefault(site, None)

    def _site_of(self, found: Asleep) -> Site | None:
        role = self._roles.get(found.tid)
        if role is None:
            return None
        # A task asleep in restart_syscall sleeps in the call it resumes (restart_syscall(2)): one site, not two.
        call = self._resumes.get(found.tid, found.call) if found.call == _RESTART_SYSCALL else found.call
        return Site(call, role_family(role), self._where(found))

    def _where(self, found: Asleep) -> str:
        """The Python line the tracer read at the call's entry; else the calling code, by a stack scan."""
        entry = self._open.get(found.tid)
        if entry is not None and entry.name == found.call and entry.python:
            return summary(entry.python)
        key = (found.tid, found.stack_pointer, found.program_counter)
        if key not in self._wheres:
            self._wheres[key] = calling_code(self._pids.get(found.tid, found.tid), found)
        return self._wheres[key]

    def _interrupt(self, still: list[Asleep]) -> bool:
        """Deliver the signal to a task sleeping at the target site, if the run asks for one now; whether it did."""
        if self._target is None or (self._at == "first" and self._deliveries):
            return False
        for found in still:
            if not found.interruptible or found.tid in self._in_retry or self._site_of(found) != self._target:
                continue
            role, pid = self._roles[found.tid], self._pids.get(found.tid, found.tid)
            masks = signal_masks(pid, found.tid)  # the process's dispositions, this thread's own mask
            if masks is None:
                continue  # it ended in between
            caught, blocked = masks.has(masks.caught, self._signum), masks.has(masks.blocked, self._signum)
            if not caught or blocked:
                why = "blocks" if caught else "does not catch"
                self._uncaught.append(f"{role} {why} {self._signal} while it sleeps there, so no signal was sent")
                self._in_retry.add(found.tid)  # not again in this call
                continue
            try:
                ptrace_ext.tgkill(pid, found.tid, self._signum)
            except OSError:
                continue  # it ended in between
            self._in_retry.add(found.tid)
            self._deliveries.append(Delivery(found.tid, role, self._target))
            return True
        return False
