"""Run a server under the tracer, drive its clients, and collect the trace.

A run is: pick a free port, start the server under the tracer, wait (through
the trace, not a sleep) until it waits for connections, let the clients
talk to it, and wait for the server to end by itself once it has served the
requested connections.  In ``deterministic`` mode the schedule of
:mod:`harness.running.schedule` orders connections, children's exits and SIGCHLD;
in ``free`` mode the natural timing applies, with clients k at a time.
A time limit ends a run that does not finish, killing the whole tree.
"""

from __future__ import annotations

import errno
import socket
import tempfile
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from harness.model import kernel
from harness.model.errors import (
    HarnessError,
    Interrupted,
    PortInUse,
    RunFailed,
    RunStalled,
    ServerCrashedAtStart,
    ServerNeverListened,
)
from harness.model.events import Event, SyscallEntry, SyscallEvent
from harness.model.injection import Injection
from harness.model.scenario import DEFAULT_TIMEOUT, Protocol, Scenario
from harness.model.strace_format import format_args
from harness.model.syscalls import DEFAULT_SYSCALLS
from harness.model.trace import Trace
from harness.running.clients import PROTOCOLS, ClientReport, drive
from harness.running.schedule import ACCEPT_CALLS, DeterministicSchedule
from harness.running.stall import Stall, StallWatch
from harness.running.tracer import Listener, Tracer


@dataclass(frozen=True, slots=True)
class RunResult:
    """A finished run: the trace, the clients' report, the server's output and how it ended."""

    trace: Trace
    clients: ClientReport
    server_output: str
    exit_code: int | None
    exit_signal: str | None
    timed_out: bool
    interrupted_by: str | None = None
    """The signal (SIGINT, SIGTERM) that made the harness end the run early, killing the tree."""
    stalled: Stall | None = None
    """The run could not go on and was ended at once (harness.running.stall)."""
    schedule: str = "free"
    """How the run was ordered: ``free``, ``deterministic``, or why the deterministic schedule stepped aside."""

    @property
    def ok(self) -> bool:
        """Whether the server served every client correctly and exited with 0 in time."""
        ended_well = self.exit_code == 0 and self.interrupted_by is None and self.stalled is None
        return self.clients.ok and not self.timed_out and ended_well

    @property
    def interrupted_status(self) -> int | None:
        """The exit status of a harness interrupted by a signal, as a shell reports it (128 + the signal)."""
        if self.interrupted_by is None:
            return None
        return 128 + kernel.SIGNAL_NUMBERS[self.interrupted_by]

    def blocked(self) -> dict[str, str]:
        """Where each task was when a timed-out run was ended: the call it never returned from."""
        stuck = {}
        for event in self.trace:
            if isinstance(event, SyscallEvent) and event.ret is None and event.name not in ("exit", "exit_group"):
                inputs = format_args(event.name, event.args, part="input")
                stuck[event.role] = f"{event.name}({inputs}{', ' if inputs else ''}...)"
        return stuck

    def summary(self) -> str:
        """One line saying how the run went."""
        if self.interrupted_by:
            ending = f"interrupted by {self.interrupted_by} (the whole tree was killed)"
        elif self.stalled is not None:
            ending = "stalled (the whole tree was killed at once)"
        elif self.timed_out:
            ending = "timed out (the whole tree was killed)"
        elif self.exit_signal:
            ending = f"server killed by {self.exit_signal}"
        else:
            ending = f"server exited with {self.exit_code}"
        clients = self.clients
        if clients.failures:
            outcome = f"{clients.connections} connections, {len(clients.failures)} client failures"
        elif clients.completed < clients.connections:
            outcome = f"{clients.completed} of {clients.connections} connections made"
        else:
            outcome = f"{clients.connections} connections, clients ok"
        return f"{outcome}, {ending}, {len(self.trace)} events, {self.schedule} schedule"

    def listened(self) -> bool:
        """Whether the server ever waited for a connection (entered an accept-type call)."""
        return any(isinstance(event, SyscallEvent) and event.name in ACCEPT_CALLS for event in self.trace)

    def failure(self) -> HarnessError | None:
        """What went wrong, as the error the command line reports (None when the run is ok).

        Told apart because each has its own fix: a server that crashed at start
        (read its output), one whose port was taken, one that never listened
        within the time limit, and one that ran but served its clients badly.
        """
        if self.ok:
            return None
        if self.interrupted_by is not None:
            return Interrupted(
                f"{self.interrupted_by} received: the run was stopped and its processes killed",
                kernel.SIGNAL_NUMBERS[self.interrupted_by],
            )
        if self.stalled is not None:
            hint = (
                "; a server that needs its children's exits or output to go on may need mode: free"
                if self.schedule.startswith("deterministic")
                else "; a server that does not exit by itself needs server.stop"
            )
            return RunStalled(f"{self.stalled.describe()}{hint}")
        output = self.server_output.strip().splitlines()
        last = f": {output[-1].strip()}" if output else " (it printed nothing)"
        if self.timed_out and not self.listened():
            where = "; ".join(f"{role} was blocked in {call}" for role, call in self.blocked().items())
            return ServerNeverListened(
                f"the server never waited for a connection before the time limit ({where or 'no traced call'}); "
                "check that it listens on 127.0.0.1 at the port it is given"
            )
        if not self.timed_out and not self.listened():
            if any("Address already in use" in line for line in output):
                return PortInUse(f"the server could not listen: its port is taken{last}")
            how = f"was killed by {self.exit_signal}" if self.exit_signal else f"exited with {self.exit_code}"
            return ServerCrashedAtStart(f"the server {how} before it listened{last}")
        return RunFailed(self.summary())


def port_in_use(port: int) -> bool:
    """Whether another process holds the port on 127.0.0.1 (a bind fails with EADDRINUSE)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def free_port() -> int:
    """A port nobody listens on now, for one run (the kernel's choice for port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _ReadyWatch:
    """Free mode's controller: holds nothing, notes when the server first waits for a connection."""

    watched = ACCEPT_CALLS

    def __init__(self) -> None:
        self.ready = threading.Event()

    def hold(self, entry: SyscallEntry) -> bool:
        self.ready.set()
        return False

    def left(self, entry: SyscallEntry) -> None:
        """Nothing to follow: free mode only waits for the first accept."""


def run_server(
    command: Sequence[str],
    protocol: Protocol,
    scenario: Scenario,
    *,
    port: int,
    timeout: float = DEFAULT_TIMEOUT,
    listener: Listener | None = None,
    seccomp: bool = False,
    syscalls: Collection[str] = DEFAULT_SYSCALLS,
    injections: Sequence[Injection] = (),
) -> RunResult:
    """Trace ``command`` (already bound to ``port``) while clients of ``protocol`` use it."""
    client = PROTOCOLS[protocol]
    schedule = DeterministicSchedule() if scenario.mode == "deterministic" else None
    watch = _ReadyWatch()
    watch_stall = StallWatch()
    stop = threading.Event()

    stalls: list[Stall] = []

    def on_point(point: SyscallEntry | Event) -> None:
        if not isinstance(point, SyscallEntry):
            watch_stall.note(point)
            if schedule is not None:
                schedule.on_event(point)
        if listener is not None:
            listener(point)

    with tempfile.TemporaryFile() as output:
        tracer = Tracer(
            list(command),
            listener=on_point,
            controller=schedule or watch,
            stdio=(None, output.fileno(), output.fileno()),
            seccomp=seccomp,
            syscalls=syscalls,
            injections=injections,
        )
        if schedule is not None:
            schedule.release_task = tracer.release
        reports: list[ClientReport] = []

        def clients() -> None:
            if schedule is None:
                watch.ready.wait()
            if stop.is_set():
                return
            reports.append(
                drive(
                    ("127.0.0.1", port),
                    client,
                    connections=scenario.connections,
                    messages=scenario.messages,
                    concurrency=scenario.concurrency,
                    before_each=schedule.wait_for_turn if schedule else None,
                    stop=stop,
                )
            )

        driver = threading.Thread(target=clients, name="clients", daemon=True)
        expired = threading.Event()

        def clients_idle() -> str | None:
            """``done``, ``waiting`` (for a turn, or for the server to be ready), or None: a client is busy."""
            if not driver.is_alive() and driver.ident is not None:
                return "done"
            waiting = schedule.clients_waiting if schedule is not None else not watch.ready.is_set()
            return "waiting" if waiting else None

        def stalled(stall: Stall) -> None:
            stalls.append(stall)
            tracer.abort()

        watch_stall.configure(tasks=tracer.tasks, held=tracer.held, clients=clients_idle, on_stall=stalled)

        def expire() -> None:
            expired.set()
            tracer.abort()

        timer = threading.Timer(timeout, expire)
        timer.daemon = True
        driver.start()
        timer.start()
        watch_stall.start()
        try:
            result = tracer.run()
        finally:
            watch_stall.stop()
            timer.cancel()
            stop.set()
            watch.ready.set()
            if schedule is not None:
                schedule.abort()
        driver.join(timeout=timeout)
        timed_out = expired.is_set()
        output.seek(0)
        server_output = output.read().decode(errors="replace")
    report = reports[0] if reports else ClientReport(scenario.connections, 0, ())
    if schedule is None:
        how = "free"
    elif schedule.stepped_aside is None:
        how = "deterministic"
    else:
        how = f"deterministic (stepped aside: {schedule.stepped_aside})"
    return RunResult(
        result.trace,
        report,
        server_output,
        result.exit_code,
        result.exit_signal,
        timed_out and not stalls,
        result.interrupted_by,
        stalled=stalls[0] if stalls else None,
        schedule=how,
    )
