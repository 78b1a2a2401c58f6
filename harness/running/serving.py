"""Run a server as an expectation file or a command line describes it: its command on a port, its clients, its stop.

What :mod:`.check`, :mod:`.sources` and :mod:`.sweep` share to start a
server: a bundled variant's name or a command line becomes the command that
listens on the run's port, and :func:`run_spec` makes the run.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from harness.model.errors import PortInUse
from harness.model.events import Listener
from harness.model.expectations import ServerSpec
from harness.model.injection import Injection
from harness.model.scenario import DEFAULT_TIMEOUT, Scenario
from harness.model.syscalls import DEFAULT_SYSCALLS
from harness.running.ports import free_port, release_port
from harness.running.run import RunProbe, run_server
from harness.running.run_result import RunResult

#: Runs made at most when the port drawn for a run turns out taken at the server's bind (see run_spec).
PORT_DRAWS = 3


def server_spec(name: str) -> ServerSpec:
    """A bundled variant as a server spec (``--server``), refused with a did-you-mean when unknown."""
    from harness.model.variants import find_variant

    variant = find_variant(name)
    return ServerSpec(variant=variant.name, protocol=variant.protocol)


def server_argv(server: ServerSpec, port: int, connections: int) -> list[str]:
    """The command line that starts the server on ``port``."""
    if server.variant is not None:
        from harness.model.variants import find_variant
        from harness.running.variants import variant_command

        return variant_command(find_variant(server.variant), port, connections)
    return [word.replace("{port}", str(port)).replace("{connections}", str(connections)) for word in server.command]


def command_line(server: ServerSpec, port: int, connections: int) -> str:
    """The server's command line as it runs on ``port``, quoted as a shell would take it (for summaries)."""
    return shlex.join(server_argv(server, port, connections))


def run_spec(
    server: ServerSpec,
    scenario: Scenario,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    syscalls: Sequence[str] = (),
    injections: Sequence[Injection] = (),
    port: int | None = None,
    listener: Listener | None = None,
    seccomp: bool = True,
    probe: RunProbe | None = None,
) -> RunResult:
    """Run a server in a scenario, tracing the default calls and ``syscalls``; its clients and stop are its own.

    It serves on ``port``, or else on a free port of its own (so that runs
    can go in parallel).  ``listener`` sees each point of the trace as it happens.

    A port drawn here can still be taken between the draw and the server's
    bind, by another run that drew it at the same moment (two test suites on
    one machine did, once in about 40 runs of each).  Then, unless a listener
    has already seen that run's start, the run is made again on a new port,
    up to ``PORT_DRAWS`` times.  A port given is never changed.
    """
    traced = tuple(dict.fromkeys([*DEFAULT_SYSCALLS, *syscalls]))
    redraw = port is None and listener is None and probe is None  # a probe watches one run
    for _draw in range(PORT_DRAWS if redraw else 1):
        here = port if port is not None else free_port()
        try:
            run = run_server(
                server_argv(server, here, scenario.connections),
                server.client,
                scenario,
                port=here,
                timeout=timeout,
                listener=listener,
                seccomp=seccomp,
                syscalls=traced,
                injections=injections,
                stop_spec=server.stop,
                probe=probe,
            )
        finally:
            release_port(here)
        if not isinstance(run.failure(), PortInUse):
            break
    return run
