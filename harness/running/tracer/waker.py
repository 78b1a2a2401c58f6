"""A way for another thread to wake the tracer's wait: a sleeping child of the tracer's thread, stopped on demand.

Only the tracer's thread may make ptrace requests, and it spends a run
blocked in waitpid for its tracees' reports.  A request decided in another
thread (the stall watch letting a held task go) is queued, and the wait must
return for the loop to carry it out.  No signal can end that wait: Python
retries a waitpid a signal interrupted (PEP 475), and one sent to a tracee
would show in the trace.  So the tracer's thread starts a child that only
sleeps, untraced; stopping it (SIGSTOP) makes the wait report it, since the
wait asks for stopped children too (WUNTRACED, which changes nothing for
tracees: their stops are reported anyway, waitpid(2)).  The loop then does
what was queued and lets the child sleep again (SIGCONT); the run's end
kills it before the last reaping, which waits until no child is left.
"""

from __future__ import annotations

import contextlib
import os
import signal

#: The sleeper: coreutils' sleep, which takes "infinity", started by util-linux's setpriv with a parent-death
#: signal (prctl(2) PR_SET_PDEATHSIG, kept across its exec): a harness killed outright (SIGKILL) leaves no
#: sleeper behind, stopped or not.  Where Debian and others put them: not looked up in $PATH.
_SLEEPERS = (
    ("/usr/bin/setpriv", "--pdeathsig", "KILL", "/usr/bin/sleep", "infinity"),
    ("/bin/setpriv", "--pdeathsig", "KILL", "/bin/sleep", "infinity"),
)


class Waker:
    """The sleeping child, started by the tracer's thread (so that its wait, with __WNOTHREAD, sees it).

    ``pid`` is None where no sleeper could be started (no setpriv): a release from another thread then
    waits for the tracer's next report, as it did before the waker.
    """

    __slots__ = ("pid",)

    def __init__(self) -> None:
        self.pid: int | None = None
        for argv in _SLEEPERS:
            try:
                self.pid = os.posix_spawn(argv[0], argv, {})
                return
            except OSError:
                continue

    def wake(self) -> None:
        """Make the tracer's wait return (from any thread)."""
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGSTOP)

    def rearm(self) -> None:
        """Let the sleeper sleep again, once its stop was reported (the tracer's thread)."""
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGCONT)

    def close(self) -> None:
        """Kill and collect the sleeper (the tracer's thread), before the run's last reaping."""
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self.pid = None
