"""What the clients of a run do: the scenario an expectation file or the command line asks for.

It is part of the model, not of the runner, so that an expectation file can be
read and matched without loading the tracer.  The defaults of a run live here,
once: the command line's help, the expectation file loader, the pytest fixture
and the runner all read them from this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from harness.model.errors import UsageError

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

    def __post_init__(self) -> None:
        if self.mode not in MODES:  # a YAML file or a caller without mypy can still give any string
            raise UsageError(f"unknown mode {self.mode!r}: use {' or '.join(MODES)}")
        if self.connections < 1 or self.messages < 0 or self.concurrency < 1:
            raise UsageError("connections and concurrency must be at least 1, messages at least 0")
        if self.mode == "deterministic" and self.concurrency != 1:
            raise UsageError(
                "deterministic mode serves one connection at a time; use --mode free for --concurrency > 1"
            )


#: The defaults, as a value to read them from (``DEFAULT_SCENARIO.connections``).
DEFAULT_SCENARIO = Scenario()
