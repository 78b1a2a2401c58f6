"""A time limit so short that the run ends before the tracer's first request is a verdict, never a traceback."""

from __future__ import annotations

import pytest

from harness.model.scenario import Scenario
from harness.model.variants import find_variant
from harness.running.ports import free_port
from harness.running.run import run_server
from harness.running.variants import variant_command

pytestmark = pytest.mark.usefixtures("ptrace_permitted")


def test_a_run_killed_before_its_first_resumption_times_out_cleanly() -> None:
    for _ in range(5):  # the kill lands before set_options on most tries: each must end the same way
        port = free_port()
        result = run_server(
            variant_command(find_variant("fork_sigchld"), port, 3), "echo", Scenario(), port=port, timeout=0.001
        )
        assert result.timed_out and not result.ok
        assert "time limit" in str(result.failure())
