"""server.stop: a server that never exits by itself is sent its stop signal after the clients, and given a grace.

Real servers under real ptrace: a ``socketserver.ForkingTCPServer`` that SIGTERM's
default action kills, one that ignores SIGTERM, and one that shuts down cleanly
on it (``examples/forking_tcp_server``).  The order is the tracer's: the harness
waits for the server's end as the tracer reports it, with the grace as a limit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.model.events import ExitEvent, SignalEvent
from harness.model.expectations import ServerSpec
from harness.model.scenario import Scenario, Stop
from harness.model.trace import Trace
from harness.running.check import run_spec

pytestmark = [pytest.mark.ptrace, pytest.mark.usefixtures("ptrace_permitted")]

PROGRAMS = Path(__file__).parent / "programs"
SERVE = [sys.executable, str(PROGRAMS / "serve_until_signalled.py"), "{port}"]


def _main_ending(run_trace: Trace) -> tuple[list[str], ExitEvent]:
    """The signals delivered to the server's main process, and its end."""
    signals = [event.name for event in run_trace if isinstance(event, SignalEvent) and event.role == "main"]
    [end] = [event for event in run_trace if isinstance(event, ExitEvent) and event.role == "main"]
    return signals, end


def test_a_server_killed_by_its_stop_signal_ends_as_asked() -> None:
    run = run_spec(ServerSpec(command=tuple(SERVE), stop=Stop("SIGTERM")), Scenario(connections=2))
    assert run.ok, run.summary()
    assert (run.stop_sent, run.exit_signal, run.grace_expired) == (True, "SIGTERM", False)
    assert run.clients.completed == 2
    signals, end = _main_ending(run.trace)
    assert signals[-1] == "SIGTERM"
    assert end.signal == "SIGTERM"
    assert "server killed by SIGTERM after SIGTERM" in run.summary()


def test_a_server_that_ignores_its_stop_signal_is_killed_after_the_grace_and_fails() -> None:
    stop = Stop("SIGTERM", grace=0.5)
    run = run_spec(ServerSpec(command=(*SERVE, "ignore"), stop=stop), Scenario(connections=2))
    assert run.clients.ok
    assert not run.ok
    assert (run.stop_sent, run.grace_expired, run.exit_signal) == (True, True, "SIGKILL")
    assert run.timed_out is False
    failure = run.failure()
    assert failure is not None
    assert "server still running 0.5 s after SIGTERM (the whole tree was killed)" in str(failure)
    signals, _ = _main_ending(run.trace)
    assert "SIGTERM" in signals  # delivered, and ignored: the trace keeps it


def test_a_server_that_exits_0_on_its_stop_signal_ends_as_asked() -> None:
    server = Path(__file__).parents[2] / "examples" / "forking_tcp_server" / "echo_server.py"
    run = run_spec(ServerSpec(command=(sys.executable, str(server), "{port}"), stop=Stop("SIGTERM")), Scenario(3))
    assert run.ok, run.summary()
    assert (run.stop_sent, run.exit_code, run.exit_signal) == (True, 0, None)
    assert "server exited with 0 after SIGTERM" in run.summary()


def test_without_a_stop_a_server_that_exits_0_is_never_signalled() -> None:
    """The default, stop: exit, is the contract of the bundled variants: nothing is sent."""
    run = run_spec(ServerSpec(variant="fork_sigchld"), Scenario(connections=2))
    assert run.ok
    assert run.stop_sent is False
    signals, _ = _main_ending(run.trace)
    assert "SIGTERM" not in signals
