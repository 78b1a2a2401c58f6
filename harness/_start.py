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

import os
import signal
import sys
from types import FrameType


def _end(signum: int, frame: FrameType | None) -> None:
    name = "interrupted" if signum == signal.SIGINT else "terminated"
    os.write(2, f"harness: {name}\n".encode())
    os._exit(128 + signum)  # nothing has started yet: no process, no file to clean up


def install() -> None:
    """End the process cleanly on SIGINT or SIGTERM until the command line takes over."""
    signal.signal(signal.SIGINT, _end)
    signal.signal(signal.SIGTERM, _end)


def main() -> None:
    """The console script: the signal handlers first, then the command line."""
    install()
    from harness.faces.cli import main as run

    sys.exit(run())
