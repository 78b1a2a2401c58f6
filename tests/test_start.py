"""The console script's exit skips the interpreter's teardown, and loses nothing of what an exit must do."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import atexit, sys
atexit.register(lambda: print("an exit handler ran, and what it printed was flushed"))
sys.argv = ["harness", *sys.argv[1:]]
from harness._start import main
main()
"""


def test_the_exit_keeps_the_status_runs_the_exit_handlers_and_flushes_stdout(ptrace_permitted: None) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, "trace", "-o", "/dev/stdout", "--", "sh", "-c", "exit 3"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-2:] == [lines[-2], "an exit handler ran, and what it printed was flushed"]
    assert lines[-2].endswith("+++ exited with 3 +++")


def test_a_usage_error_exits_2_through_the_same_door() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, "trace"], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stdout == "an exit handler ran, and what it printed was flushed\n"
