"""What the clients of a run do: the scenario an expectation file or the command line asks for.

It is part of the model, not of the runner, so that an expectation file can be
read and matched without loading the tracer.  The defaults of a run live here,
once: the command line's help, the expectation file loader, the pytest fixture
and the runner all read them from this module.
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass
from typing import Literal, get_args

from harness.model import kernel
from harness.model.errors import UsageError
from harness.model.hints import closest

#: ``deterministic``: the harness orders connections, exits and SIGCHLD through
#: ptrace holds; ``free``: natural timing, clients k at a time.
Mode = Literal["deterministic", "free"]
MODES: tuple[Mode, ...] = get_args(Mode)

#: What the clients of a server speak (harness.running.clients.PROTOCOLS has one client per name).
Protocol = Literal["echo", "rpc", "connect", "http"]
PROTOCOL_NAMES: tuple[Protocol, ...] = get_args(Protocol)
DEFAULT_PROTOCOL: Protocol = "echo"

#: Seconds a whole run may take before the harness kills it.
DEFAULT_TIMEOUT = 60.0
#: The longest time limit or grace a run may be given (a day), as the expectation file's schema has it.
MAX_SECONDS = 86400.0
#: The most connections one run may make: each is a client of the harness and a process of the server's,
#: and the trace grows with them; beyond this, split the scenario.
MAX_CONNECTIONS = 100_000
#: The most messages per connection and clients at a time.
MAX_MESSAGES = 100_000
MAX_CONCURRENCY = 1024
#: The most processes the clients may wait for (``ready``): more workers than any machine runs.
MAX_READY = 4096

#: Seconds a server has, after its stop signal, to end before the harness kills what is left of it.
DEFAULT_GRACE = 5.0

#: The exit statuses that end a run well unless a file or ``--exit`` says others.
CLEAN_EXITS = frozenset({0})
#: The largest exit status: waitpid reports the low 8 bits of what the process passed to exit.
MAX_EXIT_STATUS = 255

#: The word for "the server exits by itself once it has served its connections" (``server.stop: exit``).
STOP_BY_EXIT = "exit"


@dataclass(frozen=True, slots=True)
class Scenario:
    """What the clients do: how many connections, messages each, how many at a time, and the mode.

    The field defaults are the harness's defaults everywhere (``Scenario()``
    is the run that ``harness run VARIANT`` makes).
    """

    connections: int = 3
    messages: int = 1
    """Per connection."""
    concurrency: int = 1
    """Clients at a time; more than one needs ``free`` mode."""
    mode: Mode = "deterministic"
    python_frames: bool = False
    """Read each Python task's stack at its recorded events (``--python-frames``, ``python_frames: true``)."""
    ready: int = 1
    """Free mode: the clients start once this many processes of the server have waited for a connection.

    A pre-fork server (gunicorn's arbiter and its workers) is ready when every
    worker is: one worker's first ``accept`` says nothing about the others,
    which may still be starting, without their signal handlers, when the
    clients are done and the stop signal comes.  Deterministic mode orders the
    clients by its own holds, so only free mode takes more than 1.
    """

    def __post_init__(self) -> None:
        if self.mode not in MODES:  # a YAML file or a caller without mypy can still give any string
            raise UsageError(f"unknown mode {self.mode!r}: use {' or '.join(MODES)}")
        if self.connections < 1 or self.messages < 0 or self.concurrency < 1:
            raise UsageError("connections and concurrency must be at least 1, messages at least 0")
        if self.connections > MAX_CONNECTIONS or self.messages > MAX_MESSAGES or self.concurrency > MAX_CONCURRENCY:
            raise UsageError(
                f"at most {MAX_CONNECTIONS} connections, {MAX_MESSAGES} messages each and {MAX_CONCURRENCY} at a "
                "time in one run: split a larger scenario into several runs"
            )
        if not 1 <= self.ready <= MAX_READY:
            raise UsageError(f"ready must be a number of processes from 1 to {MAX_READY}, got {self.ready}")
        if self.mode == "deterministic" and self.ready != 1:
            raise UsageError("deterministic mode starts each client by its own holds; use --mode free for --ready > 1")
        if self.mode == "deterministic" and self.concurrency != 1:
            raise UsageError(
                "deterministic mode serves one connection at a time; use --mode free for --concurrency > 1"
            )


#: The defaults, as a value to read them from (``DEFAULT_SCENARIO.connections``).
DEFAULT_SCENARIO = Scenario()


@dataclass(frozen=True, slots=True)
class Stop:
    """How a server's run ends once its clients are done: by itself, or on a signal the harness sends.

    Real servers (gunicorn, ``socketserver``'s ``serve_forever()``, any
    daemon) serve until they are told to stop; a lesson's server exits after
    its N connections.  With a signal, the harness sends it to the server's
    main process (the traced command's own process) after the last client,
    then gives the server ``grace`` seconds to end before it kills the tree.
    """

    signal: str | None = None
    """None: the server exits by itself (``stop: exit``); else the signal's name, ``SIGTERM``."""
    grace: float = DEFAULT_GRACE
    """Seconds between the signal and the kill of whatever is left of the tree."""
    exits: frozenset[int] = CLEAN_EXITS
    """The exit statuses that end a run well (``server.exit``, ``--exit``).

    After the stop signal, 128 + its number ends it well too, as a shell
    reports a command that signal ended: socat and the JVM exit 143 on SIGTERM.
    """

    def __post_init__(self) -> None:
        if self.signal is not None and self.signal not in kernel.SIGNAL_NUMBERS:
            close = closest(self.signal.upper(), list(kernel.SIGNAL_NUMBERS))
            close = close or [name for name in kernel.SIGNAL_NUMBERS if name == f"SIG{self.signal.upper()}"]
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise UsageError(f"stop: unknown signal {self.signal!r}; {hint}write {STOP_BY_EXIT!r} or a signal's name")
        if not self.exits or any(not 0 <= status <= MAX_EXIT_STATUS for status in self.exits):
            raise UsageError(
                f"exit statuses are numbers from 0 to {MAX_EXIT_STATUS} (what waitpid reports), got "
                f"{', '.join(map(str, sorted(self.exits))) or 'none'}"
            )
        if not (math.isfinite(self.grace) and self.grace > 0):
            raise UsageError(
                f"the grace must be a positive number of seconds, like {DEFAULT_GRACE:g} (got {self.grace})"
            )

    @classmethod
    def parse(cls, text: str, grace: float | None = None, exits: frozenset[int] = CLEAN_EXITS) -> Stop:
        """``exit`` or a signal's name, with the grace (which only a signal takes) and the clean exit statuses."""
        if text == STOP_BY_EXIT:
            if grace is not None:
                raise UsageError(
                    f"a grace only goes with a stop signal: stop: {STOP_BY_EXIT} waits for the server to exit"
                )
            return cls(exits=exits)
        return cls(text, DEFAULT_GRACE if grace is None else grace, exits)

    def ends_well(self, *, code: int | None, signal: str | None, sent: bool) -> bool:
        """Whether a main process that ended so (exit status, or killing signal) ended as this stop asks.

        A clean status always; after the stop signal was sent, also death by
        that very signal or the status a shell gives it (128 + its number).
        """
        if code is not None and code in self.exits:
            return True
        if not sent or self.signal is None:
            return False
        return signal == self.signal or code == kernel.signalled_status(self.signal)

    def __str__(self) -> str:
        return STOP_BY_EXIT if self.signal is None else self.signal


#: The default: the server exits by itself.
STOP_BY_ITSELF = Stop()


@dataclass(frozen=True, slots=True)
class ClientCommand:
    """A client of the user's own: a command run once per connection; the connection succeeds when it exits 0.

    ``{port}``, ``{host}`` and ``{index}`` in its words are the server's
    port and address and the connection's number (from 0).
    """

    argv: tuple[str, ...]

    def __post_init__(self) -> None:
        if not any("{port}" in word for word in self.argv):
            raise UsageError("the client command must be told the server's port: put {port} where it goes")

    def __str__(self) -> str:
        return shlex.join(self.argv)


#: The clients of a run: the harness's own, speaking a protocol, or a command of the user's.
ClientSpec = Protocol | ClientCommand
