"""The ``harness`` command's first lines: Ctrl-C at any moment of start-up ends it with 130, never a traceback.

Importing the command line takes a few tens of milliseconds (argparse, the
model's dataclasses); a Ctrl-C then would raise KeyboardInterrupt outside
any ``try`` of :func:`harness.faces.cli.main`, and Python would print a
traceback and exit 1.  This module imports nothing of the package's before
it has made SIGINT (and SIGTERM) end the process at once with the shell's
status; :func:`harness.faces.cli.main` puts its own handling back as it
starts its work.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
from types import FrameType
from typing import NoReturn


def _end(signum: int, frame: FrameType | None) -> None:
    name = "interrupted" if signum == signal.SIGINT else "terminated"
    os.write(2, f"harness: {name}\n".encode())
    os._exit(128 + signum)  # nothing has started yet: no process, no file to clean up


def install() -> None:
    """End the process cleanly on SIGINT or SIGTERM until the command line takes over."""
    signal.signal(signal.SIGINT, _end)
    signal.signal(signal.SIGTERM, _end)


def main() -> NoReturn:
    """The console script: the signal handlers first, then the command line, then an exit without teardown."""
    install()
    from harness.faces.cli import main as run

    exit_without_teardown(run())


def exit_without_teardown(status: int) -> NoReturn:
    """End the process once the command is done, without the interpreter's teardown of its modules.

    Python's own exit frees every module, class and function one by one and
    runs a last garbage collection: on this project's machine 3 ms of CPU for
    ``python -c pass`` and 6 ms after the imports of ``harness trace`` (a
    third of what the command may add to the interpreter's own start-up),
    for memory the kernel takes back at once anyway.  What an exit must still do is done first: the
    exit handlers run (a temporary directory's finalizer, say), then the
    standard streams are flushed.  Where that is not plainly safe, the normal
    exit runs instead: a flush that fails (its error is said as Python says
    it), or a thread still running (Python waits for it).
    """
    import threading

    if threading.active_count() > 1:
        sys.exit(status)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # noqa: BLE001 - whatever it is, the normal exit says it as Python would
        sys.exit(status)
    os._exit(status)
