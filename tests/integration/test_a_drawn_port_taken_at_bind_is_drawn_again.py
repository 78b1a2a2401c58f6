"""A port the harness drew and found taken at the server's bind is drawn again; a port given is kept.

The server here fails its first start with EADDRINUSE on a port the test
holds, the way a run's server fails when another run drew the same port at
the same moment.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.model.errors import PortInUse
from harness.model.expectations import ServerSpec
from harness.model.scenario import Scenario
from harness.running.ports import free_port
from harness.running.serving import run_spec

pytestmark = [pytest.mark.ptrace, pytest.mark.usefixtures("ptrace_permitted")]

SERVER = Path(__file__).parent / "servers" / "port_taken_once.py"


@pytest.fixture
def taken() -> Iterator[int]:
    """A port held by this test while it runs."""
    with socket.create_server(("127.0.0.1", 0)) as held:
        yield held.getsockname()[1]


def _spec(taken: int, marker: Path) -> ServerSpec:
    return ServerSpec(command=(sys.executable, str(SERVER), "{port}", "{connections}", str(taken), str(marker)))


def test_a_drawn_port_taken_at_the_servers_bind_is_drawn_again(taken: int, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    run = run_spec(_spec(taken, marker), Scenario(connections=2, mode="free"))
    assert marker.exists(), "the first start did not run"
    assert run.ok, run.failure()
    assert run.clients.completed == 2


def test_a_port_given_is_never_changed(taken: int, tmp_path: Path) -> None:
    run = run_spec(_spec(taken, tmp_path / "started"), Scenario(connections=2, mode="free"), port=free_port())
    assert isinstance(run.failure(), PortInUse)
