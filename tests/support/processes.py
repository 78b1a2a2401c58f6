"""Finding a test's own processes in /proc: by a marker in their environment or their command line.

A tracee inherits the harness's environment, so a marker set there finds every
process of one run (and only of that run), whatever became of its parents.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from harness.running.tracer.ptrace_ext import child_subreaper


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


def our_children() -> list[int]:
    """The pids of this process's children, alive or zombies, from /proc (a waitpid would reap them)."""
    children = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):  # gone meanwhile
                continue
            if parent == os.getpid():
                children.append(int(proc.name))
    return children


@contextlib.contextmanager
def adopting_orphans() -> Iterator[None]:
    """Make this process the child subreaper for the block, and leave none of its adopted children behind.

    Inside the block a test looks at what was re-parented to it; on the way
    out whatever is left (a failed test's) is killed and reaped, so that it
    cannot fail a later test of the same worker.
    """
    before = set(our_children())
    with child_subreaper():
        try:
            yield
        finally:
            for pid in set(our_children()) - before:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
