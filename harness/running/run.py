"""Run a server under the tracer, drive its clients, and collect the trace.

A run is: pick a free port, start the server under the tracer, wait (through
the trace, not a sleep) until it waits for connections, let the clients
talk to it, and wait for the server to end: by itself once it has served the
requested connections, or, for a server that serves until it is told to stop
(``server.stop: SIGTERM``), on the signal the harness sends its main process
after the last client, within the grace the file gives.  In ``deterministic`` mode the schedule of
:mod:`harness.running.schedule` orders connections, children's exits and SIGCHLD;
in ``free`` mode the natural timing applies, with clients k at a time.
A time limit ends a run that does not finish, and the grace a stopped server
that does not end, killing the whole tree.

What the run came to is a :class:`~harness.running.run_result.RunResult`;
the port comes from :mod:`harness.running.ports`, and the stop signal goes
through :mod:`harness.running.main_process`.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Protocol

from harness.model import kernel
from harness.model.events import Event, SyscallEntry
from harness.model.injection import Injection
from harness.model.scenario import DEFAULT_TIMEOUT, STOP_BY_ITSELF, ClientSpec, Scenario, Stop
from harness.model.syscalls import DEFAULT_SYSCALLS
from harness.running.clients import PROTOCOLS, Client, ClientError, ClientReport, command_client, drive
from harness.running.listening import ListeningSocket, listening_sockets
from harness.running.main_process import MainProcess
from harness.running.proc_tasks import call_in
from harness.running.readiness import waits_for_a_client
from harness.running.run_result import FREE, RunResult, ScheduleUsed
from harness.running.schedule import ACCEPT_CALLS, DeterministicSchedule
from harness.running.stall import ServingOn, Stall, StallWatch
from harness.running.tracer import Listener, Tracer, TraceResult

if TYPE_CHECKING:
    from harness.running.tracer.injection_policy import InjectionPolicy


class RunProbe(Protocol):
    """What watches a run from inside and may stand between it and its clients (a sweep's :class:`SweepProbe`).

    It sees every point of the trace, may change what the tracer does at a
    call's entry (``injection_policy``), gives the address the clients
    connect to, and is asked to let the server settle before the stop signal.
    """

    injection_policy: InjectionPolicy | None

    def on_point(self, point: SyscallEntry | Event) -> None:
        """Every entry and event, in the tracer's thread."""

    def start(self, tracer: Tracer, server: tuple[str, int]) -> tuple[str, int]:
        """The tracer exists (its tasks, holds and progress may be watched): where the clients connect."""
        ...

    def settle(self) -> None:
        """Return when the server may be sent what comes from outside."""

    def close(self) -> None:
        """The run is over."""


#: The local addresses at which the clients (connecting to 127.0.0.1) reach a listening socket.
_REACHABLE = frozenset({"127.0.0.1", "0.0.0.0", "::"})


class _ReadyWatch:
    """Free mode's controller: holds nothing, notes when enough of the server's processes wait for a connection.

    ``processes`` is the scenario's ``ready``: distinct processes (thread
    groups: a threaded worker is one), each counted at its first ``accept``,
    or ``poll``/``select``/epoll wait that watches a listening socket (one
    that waits on a status pipe is no worker: harness.running.readiness).
    """

    watched = ACCEPT_CALLS

    def __init__(self, processes: int = 1) -> None:
        self.ready = threading.Event()
        self._needed = processes
        self._waiting: set[int] = set()

    @property
    def waiting(self) -> int:
        """How many processes have waited for a connection so far."""
        return len(self._waiting)

    def hold(self, entry: SyscallEntry) -> bool:
        if entry.pid in self._waiting or not waits_for_a_client(entry.pid, entry.name, entry.args):
            return False
        self._waiting.add(entry.pid)
        if len(self._waiting) >= self._needed:
            self.ready.set()
        return False

    def left(self, entry: SyscallEntry) -> None:
        """Nothing to follow: free mode only waits for the first accept."""


def client_of(spec: ClientSpec) -> Client:
    """The client that speaks a protocol, or runs the user's command once per connection."""
    return PROTOCOLS[spec] if isinstance(spec, str) else command_client(spec.argv)


def run_server(
    command: Sequence[str],
    client_spec: ClientSpec,
    scenario: Scenario,
    *,
    port: int,
    timeout: float = DEFAULT_TIMEOUT,
    listener: Listener | None = None,
    seccomp: bool = True,
    syscalls: Collection[str] = DEFAULT_SYSCALLS,
    injections: Sequence[Injection] = (),
    stop_spec: Stop = STOP_BY_ITSELF,
    probe: RunProbe | None = None,
) -> RunResult:
    """Trace ``command`` (already bound to ``port``) while its clients (a protocol's, or a command) use it.

    With a stop signal in ``stop_spec``, the signal goes to the server's main
    process once the clients are done; the tracer then reports the server's
    end, or the grace runs out first and the tree is killed.  Nothing waits
    by the clock for the server: the grace is a time limit, not a pause.
    """
    run = _ServerRun(
        command,
        client_of(client_spec),
        scenario,
        port=port,
        timeout=timeout,
        listener=listener,
        stop_spec=stop_spec,
        probe=probe,
    )
    return run.run(seccomp=seccomp, syscalls=syscalls, injections=injections)


class _ServerRun:
    """One run of a traced server with its clients: :func:`run_server`'s steps, their shared state as attributes.

    Four threads meet here: the tracer's (:meth:`run`), the clients'
    (:meth:`_drive_clients`), the stall watch's and two timers' (the run's
    time limit, the grace after the stop signal).  What they decide about the
    run's end goes through ``_ending``: once the tracer has returned
    (``_finished``), no stop signal is sent and no grace starts.
    """

    def __init__(
        self,
        command: Sequence[str],
        client: Client,
        scenario: Scenario,
        *,
        port: int,
        timeout: float,
        listener: Listener | None,
        stop_spec: Stop,
        probe: RunProbe | None = None,
    ) -> None:
        self._command = list(command)
        self._probe = probe
        self._client_address = ("127.0.0.1", port)
        self._client = client
        self._scenario = scenario
        self._port = port
        self._timeout = timeout
        self._listener = listener
        self._stop_spec = stop_spec
        self._schedule = DeterministicSchedule() if scenario.mode == "deterministic" else None
        self._ready = _ReadyWatch(scenario.ready)
        self._stall_watch = StallWatch()
        self._main = MainProcess()
        self._stop = threading.Event()
        """The clients must stop (the run ends, or the server listens elsewhere)."""
        self._ending = threading.Lock()
        self._finished = False
        self._stopped = threading.Event()
        self._grace_expired = threading.Event()
        self._expired = threading.Event()
        self._grace = threading.Timer(stop_spec.grace, self._end_of_grace)
        self._grace.daemon = True
        self._driver = threading.Thread(target=self._drive_clients, name="clients", daemon=True)
        self._stalls: list[Stall] = []
        self._serving_on: list[ServingOn] = []
        self._elsewhere: list[tuple[ListeningSocket, ...]] = []
        self._warnings: list[str] = []
        self._reports: list[ClientReport] = []
        self._outlived_grace: tuple[tuple[int, str], ...] = ()
        self._tracer: Tracer | None = None

    # -- the run, step by step ----------------------------------------------------

    def run(self, *, seccomp: bool, syscalls: Collection[str], injections: Sequence[Injection]) -> RunResult:
        """Start the server under the tracer, drive its clients, end it, and say how it went."""
        # The server reads nothing from the user's terminal, and leads a process group of its own: a server that
        # signals its group (Apache's parent, kill(0, ...)) must not reach the harness or the user's shell.
        with tempfile.TemporaryFile() as output, open(os.devnull, "rb") as nothing:
            tracer = self._tracer = Tracer(
                self._command,
                own_process_group=True,
                listener=self._on_point,
                controller=self._schedule or self._ready,
                stdio=(nothing.fileno(), output.fileno(), output.fileno()),
                seccomp=seccomp,
                syscalls=syscalls,
                injections=injections,
                injection_policy=self._probe.injection_policy if self._probe is not None else None,
                python_frames=self._scenario.python_frames,
            )
            if self._schedule is not None:
                self._schedule.release_task = tracer.release
            if self._probe is not None:
                self._client_address = self._probe.start(tracer, ("127.0.0.1", self._port))
            self._watch_for_stalls(tracer)
            limit = threading.Timer(self._timeout, self._expire)
            limit.daemon = True
            self._driver.start()
            limit.start()
            self._stall_watch.start()
            try:
                result = tracer.run()
            finally:
                self._wind_down(limit)
            self._driver.join(timeout=self._timeout)
            output.seek(0)
            server_output = output.read().decode(errors="replace")
        return self._collect(result, server_output, tracer)

    def _on_point(self, point: SyscallEntry | Event) -> None:
        """Every entry and event of the run, as it happens: for the watches, the schedule and the listener."""
        if not isinstance(point, SyscallEntry):
            self._stall_watch.note(point)
            self._main.on_event(point)
            if self._schedule is not None:
                self._schedule.on_event(point)
        if self._probe is not None:
            self._probe.on_point(point)
        if self._listener is not None:
            self._listener(point)

    def _watch_for_stalls(self, tracer: Tracer) -> None:
        schedule = self._schedule
        self._stall_watch.configure(
            tasks=tracer.tasks,
            held=tracer.held,
            clients=self._clients_idle,
            on_stall=self._stalled,
            on_serving_on=self._serves_on,
            unblock=(lambda: schedule.release_a_held_exit() is not None) if schedule else lambda: False,
        )

    def _wind_down(self, limit: threading.Timer) -> None:
        """The tracer has returned: no stop signal, grace or client may go on."""
        self._stall_watch.stop()
        with self._ending:
            self._finished = True
        limit.cancel()
        self._grace.cancel()
        self._stop.set()
        self._ready.ready.set()
        if self._schedule is not None:
            self._schedule.abort()
        if self._probe is not None:
            self._probe.close()
        self._main.close()

    # -- the clients ----------------------------------------------------------------

    def _drive_clients(self) -> None:
        """The clients' thread: once the server is ready (or its turn comes), every connection, then the stop."""
        if self._schedule is None:
            self._ready.ready.wait()
        if self._stop.is_set():
            return
        scenario = self._scenario
        self._reports.append(
            drive(
                self._client_address,
                self._client,
                connections=scenario.connections,
                messages=scenario.messages,
                concurrency=scenario.concurrency,
                before_each=self._before_each,
                stop=self._stop,
            )
        )
        self._send_stop()

    def _before_each(self, index: int) -> None:
        if self._schedule is not None:
            self._schedule.wait_for_turn(index)
        if index == 0 and not self._stop.is_set() and not self._where_it_listens():
            raise ClientError(f"nothing listens on 127.0.0.1:{self._port}")

    def _where_it_listens(self) -> bool:
        """Once the server waits for connections: is it on our port? Note where, and every-address binds."""
        tracer = self._traced()
        sockets = listening_sockets(tracer.tasks())
        # The clients connect to 127.0.0.1: a socket there, or on every address (dual-stack :: too), serves them.
        ours = [socket for socket in sockets if socket.port == self._port and socket.address in _REACHABLE]
        if not ours:
            self._elsewhere.append(tuple(sockets))
            self._stop.set()
            tracer.abort()
            return False
        self._warnings.extend(
            f"warning: the server listens on every address ({socket}), so the network reaches it while it "
            "is tested: bind 127.0.0.1"
            for socket in ours
            if socket.every_address
        )
        return True

    def _clients_idle(self) -> str | None:
        """``done``, ``waiting`` (for a turn, or for the server to be ready), or None: a client is busy."""
        if not self._driver.is_alive() and self._driver.ident is not None:
            # With a stop signal, the end after the clients is the grace's to judge.
            return "done" if self._stop_spec.signal is None else None
        waiting = self._schedule.clients_waiting if self._schedule is not None else not self._ready.ready.is_set()
        return "waiting" if waiting else None

    # -- the end --------------------------------------------------------------------

    def _send_stop(self) -> None:
        """The clients are done: send the stop signal, and from now on give the server its grace.

        In deterministic mode the signal waits for the server to be at rest: the last
        connection's process has exited and the server waits again (the turn a next client
        would get).  A client is done once it has its answer, which may be before the server
        has finished with the connection (closing its socket, reaping): a signal sent then
        would find the server between calls on some runs and in its wait on others.
        """
        if self._stop_spec.signal is None:
            return
        if self._schedule is not None and not self._stop.is_set():
            self._schedule.wait_for_turn(self._scenario.connections)
        if self._probe is not None:
            self._probe.settle()
        with self._ending:
            if self._finished or not self._main.send(kernel.SIGNAL_NUMBERS[self._stop_spec.signal]):
                return
            self._stopped.set()
            self._grace.start()

    def _end_of_grace(self) -> None:
        with self._ending:
            if not self._finished:
                tracer = self._traced()
                self._outlived_grace = tuple((tid, call_in(tid)) for tid in sorted(tracer.tasks()))
                self._grace_expired.set()
                tracer.abort()

    def _stalled(self, stall: Stall) -> None:
        self._stalls.append(stall)
        self._traced().abort()

    def _serves_on(self, serving: ServingOn) -> None:
        self._serving_on.append(serving)
        self._traced().abort()

    def _expire(self) -> None:
        self._expired.set()
        self._traced().abort()

    def _traced(self) -> Tracer:
        assert self._tracer is not None, "the tracer exists before any thread that asks for it starts"
        return self._tracer

    def _collect(self, result: TraceResult, server_output: str, tracer: Tracer) -> RunResult:
        """What the run came to, from every thread's findings."""
        scenario, schedule = self._scenario, self._schedule
        timed_out = self._expired.is_set()
        grace_expired = self._grace_expired.is_set() and not timed_out
        report = self._reports[0] if self._reports else ClientReport(scenario.connections, 0, ())
        exits_let_go = schedule.exits_let_go if schedule is not None else ()
        return RunResult(
            result.trace,
            report,
            server_output,
            result.exit_code,
            result.exit_signal,
            timed_out and not self._stalls and not self._serving_on,
            result.interrupted_by,
            stalled=self._stalls[0] if self._stalls else None,
            serving_on=self._serving_on[0] if self._serving_on else None,
            schedule=FREE if schedule is None else ScheduleUsed("deterministic", schedule.stepped_aside),
            stop=self._stop_spec,
            stop_sent=self._stopped.is_set(),
            grace_expired=grace_expired,
            outlived_grace=self._outlived_grace if grace_expired else (),
            listens_elsewhere=self._elsewhere[0] if self._elsewhere else None,
            warnings=(
                *self._warnings,
                *(
                    f"note: {role}'s exit, held by the harness, was let go: the run stood still, as if waiting for it"
                    + (
                        ""
                        if ordered
                        else " (its parent was not waiting: where its SIGCHLD lands can vary between runs)"
                    )
                    for role, ordered in exits_let_go
                ),
            ),
            port=self._port,
            seccomp=tracer.uses_seccomp,
            not_ready=(
                (self._ready.waiting, scenario.ready)
                if schedule is None and self._ready.waiting < scenario.ready
                else None
            ),
        )
