"""``harness --version`` prints the installed version; ``harness`` alone prints the whole help as a usage error."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version


def harness(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=60)


def test_version_is_the_packages() -> None:
    done = harness("--version")
    assert (done.returncode, done.stdout, done.stderr) == (0, f"harness {version('syscall-harness')}\n", "")


def test_no_arguments_print_the_help_on_stderr_with_status_2() -> None:
    done = harness()
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("usage: harness [-h] [--version] COMMAND ...\n")
    for command in ("check", "trace", "run", "explain", "show", "report", "record", "diff"):
        assert f"\n    {command} " in done.stderr
    assert harness("--help").stdout == done.stderr  # the same help that --help prints on stdout
