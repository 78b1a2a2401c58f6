"""The harness's own errors: each one a clear message and a distinct exit status.

A mistake in the user's input or environment is a :class:`HarnessError`:
the command line prints its message on one line and exits with its status,
never with a traceback.  Anything else escaping is a bug in the harness.
"""

from __future__ import annotations

import os


class HarnessError(Exception):
    """Base of every error the harness reports to a person."""

    exit_status = 2


class UsageError(HarnessError):
    """A command line that cannot be right (unknown syscall name, missing command)."""

    exit_status = 2


class CommandNotFound(HarnessError):
    """The program to trace does not exist or cannot be executed."""

    exit_status = 127


class ExecFailed(HarnessError):
    """The program was found but execve refused it."""

    exit_status = 126


class UnsupportedArchitecture(ExecFailed):
    """The program makes 32-bit (i386) or x32 syscalls, whose numbers the harness does not decode: refused."""


class PtraceNotPermitted(HarnessError):
    """The kernel refused to let the harness trace (EPERM), e.g. in a container."""

    exit_status = 77


class TraceInputError(HarnessError):
    """A trace file that cannot be read back."""

    exit_status = 65


class OutputError(HarnessError):
    """A file the harness was told to write cannot be written: its path and the system's reason."""

    exit_status = 74

    def __init__(self, path: str | os.PathLike[str], error: OSError | str) -> None:
        reason = error if isinstance(error, str) else error.strerror or str(error)
        super().__init__(f"cannot write {os.fspath(path)}: {reason}")


class UnsafeOutput(HarnessError):
    """A file the harness will not write: a link at a name it chose, a FIFO nobody reads, a directory."""

    exit_status = 73  # EX_CANTCREAT


class RunFailed(HarnessError):
    """The server ran but did not serve the scenario: a client failed, or it exited with an error."""

    exit_status = 1


class ServerCrashedAtStart(HarnessError):
    """The server exited before it ever waited for a connection."""

    exit_status = 70


class PortInUse(HarnessError):
    """The port the server must listen on is taken by another process."""

    exit_status = 75


class ServerNeverListened(HarnessError):
    """The run's time limit passed before the server waited for a connection (or finished)."""

    exit_status = 124


class RunStalled(HarnessError):
    """A run that could not go on: every task held or blocked, no client able to act; ended at once."""

    exit_status = 124


class Interrupted(HarnessError):
    """The user stopped the command (Ctrl-C, SIGTERM): its status is a shell's, 128 + the signal."""

    def __init__(self, message: str, signal_number: int) -> None:
        super().__init__(message)
        self.exit_status = 128 + signal_number
