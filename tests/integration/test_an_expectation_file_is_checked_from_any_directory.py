"""A user's expectation file names its server relative to itself; `harness check` works from any directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.projects import EXPECTATION, harness_cli, users_project

#: Each test here runs a server under the tracer.
pytestmark = pytest.mark.usefixtures("ptrace_permitted")


def test_a_command_beside_the_file_runs_when_checked_from_elsewhere(tmp_path: Path) -> None:
    mine = tmp_path / "my project"  # a space in the path, as users' paths have
    mine.mkdir()
    project = users_project(mine, "fork_sigchld", connections=2)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = harness_cli("check", str(project / EXPECTATION), cwd=elsewhere)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every child is reaped" in done.stdout
