"""A server that listens on another port fails at once, saying where; one on every address passes with a warning."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.model.expectations import ServerSpec
from harness.model.scenario import Mode, Scenario
from harness.running.run_result import RunResult
from harness.running.serving import run_spec

SERVER = Path(__file__).parent / "servers" / "listens_where_told_not.py"

#: Each test here runs a server under the tracer.
pytestmark = pytest.mark.usefixtures("ptrace_permitted")


def run(where: str, mode: Mode) -> RunResult:
    command = (sys.executable, str(SERVER), "{port}", where)
    return run_spec(ServerSpec(command=command), Scenario(connections=1, mode=mode), timeout=60)


@pytest.mark.parametrize("mode", ["deterministic", "free"])
def test_a_server_on_another_port_fails_at_once_naming_where_it_listens(mode: Mode) -> None:
    result = run("elsewhere", mode)
    assert result.listens_elsewhere is not None and not result.timed_out
    [socket] = result.listens_elsewhere
    assert socket.address == "127.0.0.1" and socket.port != result.port
    message = str(result.failure())
    assert f"nothing listens on 127.0.0.1:{result.port}: it listens on 127.0.0.1:{socket.port}" in message


def test_a_server_on_every_address_passes_with_a_warning_in_its_summary() -> None:
    result = run("everywhere", "deterministic")
    assert result.ok, result.failure()
    assert f"warning: the server listens on every address (0.0.0.0:{result.port})" in result.summary()
