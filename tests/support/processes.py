"""Finding a test's own processes in /proc: by a marker in their environment or their command line.

A tracee inherits the harness's environment, so a marker set there finds every
process of one run (and only of that run), whatever became of its parents.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal


def processes_holding(marker: str, where: Literal["environ", "cmdline"] = "environ") -> list[int]:
    """The pids of the live processes whose environment (or command line) holds ``marker``, in /proc's order."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker.encode() in (proc / where).read_bytes():
                    found.append(int(proc.name))
            except OSError:  # gone meanwhile, or not ours to read
                continue
    return found
