"""What a run came to, and what went wrong when it did not go well.

A finished run is read in several places (the command line's summary and
exit status, a check's verdict, a sweep's comparison, the retry of a run
whose drawn port was taken), and each must tell the same failures apart,
because each has its own fix: a server that crashed at start, one whose port
was taken, one that never listened, one that stalled or served its clients
badly.  So the result and its reading live here, apart from the threads of
:mod:`harness.running.run` that produce it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Literal

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
from harness.model.events import ExecEvent, SyscallEvent
from harness.model.frames import summary
from harness.model.roles import ROOT_ROLE, parent_role, process_role
from harness.model.scenario import STOP_BY_ITSELF, Stop
from harness.model.strace_args import format_args
from harness.model.syscalls import calls_that
from harness.model.trace import Trace
from harness.running.clients import ClientReport
from harness.running.listening import ListeningSocket
from harness.running.schedule import ACCEPT_CALLS
from harness.running.stall import ServingOn, Stall

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
