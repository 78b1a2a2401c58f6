"""A user's expectation file names its server relative to itself; `harness check` works from any directory."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.running.variants import servers_dir

#: Each test here runs a server under the tracer.
pytestmark = pytest.mark.usefixtures("ptrace_permitted")


def test_a_command_beside_the_file_runs_when_checked_from_elsewhere(tmp_path: Path) -> None:
    project = tmp_path / "my project"
    project.mkdir()
    for name in ("fork_sigchld.py", "_common.py"):
        shutil.copy(servers_dir() / name, project / ("my_server.py" if name == "fork_sigchld.py" else name))
    (project / "mine.expect.yaml").write_text(
        "server:\n"
        "  command: ['{python}', my_server.py, --port, '{port}', --connections, '{connections}']\n"
        "scenario: {connections: 2}\n"
        "assertions:\n"
        "  - name: every child is reaped\n"
        "    fact: no zombie left\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "harness", "check", str(project / "mine.expect.yaml")],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every child is reaped" in done.stdout
