"""What a spawning call wrote back is read while its caller is still stopped, not once it has run on.

Under the prefilter a clone3 ends at its event stop (the new task's id is its
result). The tid the kernel wrote at ``parent_tid`` (CLONE_PARENT_SETTID,
glibc's ``pd->tid``) is read from the caller's memory; read after the caller
was let go, it showed whatever the caller had put there since (``[3]``, each
time, for CPython's threads).
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.usefixtures("ptrace_permitted")

_THREADS = "import threading\nfor _ in range(3):\n    t = threading.Thread(target=lambda: None); t.start(); t.join()\n"


def test_a_threads_tid_written_back_by_clone3_is_the_tid_clone3_returned() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "trace",
            "--syscalls",
            "clone3",
            "--",
            sys.executable,
            "-I",
            "-S",
            "-c",
            _THREADS,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    written = re.findall(r"=> \{parent_tid=\[(\d+)\]\}, \d+\) = (\d+)", done.stderr)
    assert len(written) == 3, done.stderr
    assert all(tid == result for tid, result in written), written
