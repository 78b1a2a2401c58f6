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
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import shlex
import signal
import socket
import tempfile
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

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
from harness.model.events import Event, ExecEvent, ExitEvent, SyscallEntry, SyscallEvent
from harness.model.frames import summary
from harness.model.injection import Injection
from harness.model.roles import ROOT_ROLE, parent_role, process_role
from harness.model.scenario import DEFAULT_TIMEOUT, STOP_BY_ITSELF, ClientSpec, Scenario, Stop
from harness.model.strace_format import format_args
from harness.model.syscalls import DEFAULT_SYSCALLS, calls_that
from harness.model.trace import Trace
from harness.running.clients import PROTOCOLS, Client, ClientError, ClientReport, command_client, drive
from harness.running.listening import ListeningSocket, listening_sockets
from harness.running.readiness import waits_for_a_client
from harness.running.schedule import ACCEPT_CALLS, DeterministicSchedule
from harness.running.stall import ServingOn, Stall, StallWatch, call_in
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


#: The calls that end their task, which never return by nature: no task is stuck in one.
_ENDS = calls_that("ends_task") | calls_that("ends_process")


@dataclass(frozen=True, slots=True)
class ScheduleUsed:
    """How a run was ordered: freely, or by the deterministic schedule, which may have stepped aside."""

    mode: Literal["free", "deterministic"]
    stepped_aside: str | None = None
    """Why the deterministic schedule stepped aside (a pre-fork server...), when it did."""

    @property
    def deterministic(self) -> bool:
        """Whether the deterministic schedule ordered the run (from its start, at least)."""
        return self.mode == "deterministic"

    def __str__(self) -> str:
        return f"{self.mode} (stepped aside: {self.stepped_aside})" if self.stepped_aside else self.mode


FREE = ScheduleUsed("free")


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
    stop: Stop = STOP_BY_ITSELF
    """How the run was to end once the clients were done."""
    stop_sent: bool = False
    """Whether the harness sent the stop signal to the server's main process."""
    grace_expired: bool = False
    """Whether the server outlived its grace after the stop signal, so that the harness killed the tree."""
    stalled: Stall | None = None
    """The run could not go on and was ended at once (harness.running.stall)."""
    schedule: ScheduleUsed = FREE
    """How the run was ordered: freely, or deterministically (and why that schedule stepped aside, if it did)."""
    listens_elsewhere: tuple[ListeningSocket, ...] | None = None
    """The server waited for connections but nothing listened on its port: where it listened instead."""
    warnings: tuple[str, ...] = ()
    """What the run noticed that is not a failure (a server that listens on every address)."""
    port: int | None = None
    """The port the clients used."""
    seccomp: bool = False
    """Whether the seccomp prefilter was in use; False: every call was stepped."""
    serving_on: ServingOn | None = None
    """The server still waited for connections after its clients, with no stop signal to come: ended at once."""
    not_ready: tuple[int, int] | None = None
    """The clients never started: (processes that waited for a connection, the scenario's ``ready``)."""
    outlived_grace: tuple[tuple[int, str], ...] = ()
    """The tasks still traced when the grace after the stop signal ran out (so killed by the harness).

    Each as its tid and the call ``/proc`` showed it in then (``?`` when none could be read).
    """

    @property
    def ok(self) -> bool:
        """Whether the server served every client correctly and ended as it should, in time."""
        ended_well = (
            self.interrupted_by is None
            and self.stalled is None
            and self.serving_on is None
            and self.listens_elsewhere is None
            and self.ended_as_asked
        )
        return self.clients.ok and not self.timed_out and ended_well

    @property
    def ended_as_asked(self) -> bool:
        """Whether the server ended as its stop says: a clean status, or the very stop signal it was sent.

        A server that exits 0 (or a status ``server.exit`` names) ends well
        with either stop (a handler of the stop signal that shuts down
        cleanly, or no stop signal needed); after the stop signal, death by it
        or the status a shell gives that (143 for SIGTERM) does too.  One
        the harness had to kill after the grace did not end: neither did one
        whose workers outlived it.
        """
        if self.grace_expired:
            return False
        return self.stop.ends_well(code=self.exit_code, signal=self.exit_signal, sent=self.stop_sent)

    @property
    def interrupted_status(self) -> int | None:
        """The exit status of a harness interrupted by a signal, as a shell reports it (128 + the signal)."""
        if self.interrupted_by is None:
            return None
        return kernel.signalled_status(self.interrupted_by)

    def blocked(self) -> dict[str, str]:
        """Where each task was when a timed-out run was ended: the call it never returned from."""
        stuck = {}
        for event in self.trace:
            if isinstance(event, SyscallEvent) and event.ret is None and event.name not in _ENDS:
                inputs = format_args(event.name, event.args, part="input")
                where = f" at {summary(event.python)}" if event.python else ""  # with --python-frames
                stuck[event.role] = f"{event.name}({inputs}{', ' if inputs else ''}...){where}"
        return stuck

    def summary(self) -> str:
        """One line saying how the run went."""
        if self.interrupted_by:
            ending = f"interrupted by {self.interrupted_by} (the whole tree was killed)"
        elif self.stalled is not None:
            ending = "stalled (the whole tree was killed at once)"
        elif self.serving_on is not None:
            ending = "server still waiting for connections after its clients (the whole tree was killed at once)"
        elif self.timed_out:
            ending = "timed out (the whole tree was killed)"
        elif self.grace_expired:
            left = "; ".join(self.left_running())
            ending = (
                f"server still running {self.stop.grace:g} s after {self.stop.signal} (the whole tree was killed)"
                f"{': ' if left else ''}{left}"
            )
        elif self.stop_sent and self.exit_signal:
            ending = f"server killed by {self.exit_signal} after {self.stop.signal}"
        elif self.stop_sent:
            ending = f"server exited with {self.exit_status_text()} after {self.stop.signal}"
        elif self.exit_signal:
            ending = f"server killed by {self.exit_signal}"
        else:
            ending = f"server exited with {self.exit_code}"
        clients = self.clients
        connections = f"{clients.connections} connection{'s' if clients.connections != 1 else ''}"
        if clients.failures:
            failures = len(clients.failures)
            outcome = f"{connections}, {failures} client failure{'s' if failures != 1 else ''}"
        elif clients.completed < clients.connections:
            outcome = f"{clients.completed} of {connections} made"
        else:
            outcome = f"{connections}, clients ok"
        stops = "seccomp prefilter" if self.seccomp else "every call stepped"
        return "; ".join(
            [f"{outcome}, {ending}, {len(self.trace)} events, {self.schedule} schedule, {stops}", *self.warnings]
        )

    def left_running(self) -> list[str]:
        """Each process that outlived the grace: role, pid, command and the call it was in; and why, where it shows.

        A main process that ended on the stop signal while a child it started
        ran on is the mark of a wrapper (a shell, a launcher) that forked the
        server instead of ``exec``-ing it: the signal reaches the main process only.
        """
        blocked = self.blocked()
        in_call = dict(self.outlived_grace)
        roles = {event.tid: (event.pid, event.role) for event in self.trace if event.tid in in_call}
        processes: dict[tuple[int, str], str] = {}
        for tid, (pid, role) in sorted(roles.items()):
            # A thread that outlived the grace is named by its process; the call is the recorded one, with its
            # arguments, where the trace has it unfinished, else the one /proc showed.
            call = blocked.get(role) or (in_call[tid] if in_call[tid] != "?" else "")
            processes.setdefault((pid, process_role(role)), call)
        left = [
            f"{role} (pid {pid}, {self._command_of(role)}) was running{f' in {call}' if call else ''}"
            for (pid, role), call in sorted(processes.items())
        ]
        main_end = self.trace.exit_of(ROOT_ROLE)
        if left and main_end is not None and ROOT_ROLE not in {role for _, role in processes}:
            how = f"killed by {main_end.signal}" if main_end.signal else f"exited {main_end.code}"
            left.append(
                f"{ROOT_ROLE} ({self._command_of(ROOT_ROLE)}) {how}, but what it started ran on: the stop signal "
                f"reaches the main process only, so a wrapper that forks the server should exec it instead "
                "(exec CMD in a shell script)"
            )
        return left

    def _command_of(self, role: str) -> str:
        """The command a process runs: its own last exec's argv, or its nearest ancestor's."""
        at: str | None = role
        while at is not None:
            execs = [event for event in self.trace.for_role(at) if isinstance(event, ExecEvent)]
            if execs:
                return shlex.join(execs[-1].argv) or execs[-1].filename
            at = parent_role(at)
        return "?"

    def exit_status_text(self) -> str:
        """The main process's exit status, with what a status past 128 says after the stop signal (143: 128+SIGTERM)."""
        signal_number = (self.exit_code or 0) - kernel.SIGNALLED_STATUS_BASE
        if self.stop.signal is not None and kernel.SIGNAL_NUMBERS.get(self.stop.signal) == signal_number:
            return f"{self.exit_code} ({kernel.SIGNALLED_STATUS_BASE}+{self.stop.signal})"
        return str(self.exit_code)

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
        if self.listens_elsewhere is not None:
            where = ", ".join(map(str, self.listens_elsewhere)) or "no TCP port at all"
            return RunFailed(
                f"the server waits for connections, but nothing listens on 127.0.0.1:{self.port}: it listens on "
                f"{where}; give it the port the harness chose ({{port}} in its command) and bind 127.0.0.1"
            )
        if self.not_ready is not None and self.listened() and (self.stalled is not None or self.timed_out):
            waited, needed = self.not_ready
            ending = "stalled" if self.stalled is not None else "reached the time limit"
            return RunStalled(
                f"the run {ending} before the clients started: only {waited} of the {needed} processes the "
                f"scenario waits for (ready: {needed}) waited for a connection; give ready the number of processes "
                "that accept connections (a pre-fork server's workers)"
            )
        if self.serving_on is not None:
            return RunFailed(self.serving_on.describe())
        if self.stalled is not None:
            hint = (
                "; a server that needs its children's exits or output to go on may need mode: free"
                if self.schedule.deterministic
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


#: Where a run's port is drawn from: below the kernel's ephemeral range, so that no client's outgoing
#: connection (which takes an ephemeral port) can take a chosen port before the server binds it.
_PORT_FLOOR = 20000


#: The local addresses at which the clients (connecting to 127.0.0.1) reach a listening socket.
_REACHABLE = frozenset({"127.0.0.1", "0.0.0.0", "::"})


def _ephemeral_floor() -> int:
    """The lowest port the kernel hands out for outgoing connections (ip(7): ip_local_port_range)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as ports:
            return int(ports.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A port nobody listens on now, for one run.

    Drawn at random between 20000 and the ephemeral range: the kernel's own
    choice for port 0 is an ephemeral port, which a client connecting
    elsewhere (another run, another test) may take before the server binds
    it.  Two runs drawing at the same moment collide once in thousands.
    """
    floor = _ephemeral_floor()
    if floor - _PORT_FLOOR < 1000:  # a machine whose ephemeral range starts low: the kernel's choice it is
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])
    draw = random.SystemRandom()
    while True:
        port = draw.randrange(_PORT_FLOOR, floor)
        if not port_in_use(port):
            return port


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


class _MainProcess:
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
        self._main = _MainProcess()
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
