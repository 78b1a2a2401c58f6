"""Claims about what a program did after a call failed with EINTR: called again or not, and who retried.

Apart from the interruption's own claims because the causes of a retry are
where an explanation most easily says more than the trace shows: a CPython
process retrying may be its standard library (PEP 475) or its own loop, and
only Python frames tell which.  So these claims say both causes when both
fit (:class:`TwoRetryCausesFit`), and name their inferences as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from harness.analysis.claims.claim import Claim


@dataclass(frozen=True, slots=True)
class CalledAgain(Claim):
    """After the EINTR, the task called the same call again, first at ``seq``."""

    name: ClassVar[str] = "called-again"
    task: str
    call: str
    after_seq: int
    seq: int
    again_enter_seq: int
    between: tuple[str, ...]

    def render(self) -> str:
        count = len(self.between)
        names = ", ".join(dict.fromkeys(self.between))
        other = f" after {count} other traced call{'s' if count != 1 else ''} ({names})" if count else ""
        return f"The program then called {self.call} again at #{self.again_enter_seq}{other}."


@dataclass(frozen=True, slots=True)
class NotCalledAgain(Claim):
    """After the EINTR, the task never entered the call again: it ended, or the trace ends."""

    name: ClassVar[str] = "not-called-again"
    task: str
    call: str
    after_seq: int
    exit_seq: int | None
    how: str | None

    def render(self) -> str:
        if self.exit_seq is None:
            return f"The program never called {self.call} again in the trace."
        return f"The program did not call {self.call} again: the task {self.how} at #{self.exit_seq}."


@dataclass(frozen=True, slots=True)
class HandlesEintrItself(Claim):
    """A program that is not CPython called again after EINTR: its own code handles EINTR."""

    name: ClassVar[str] = "handles-eintr-itself"
    task: str
    program: str

    def render(self) -> str:
        return "The EINTR reached the program, which called again: it handles EINTR itself."


@dataclass(frozen=True, slots=True)
class RetryCauseNotShown(Claim):
    """The trace shows no program for the process: who called again, its own loop or a runtime, it cannot say."""

    name: ClassVar[str] = "retry-cause-not-shown"
    task: str
    again_seq: int

    def render(self) -> str:
        return (
            "The trace holds no exec of this process, so it does not show who called again: the program's own "
            "loop after EINTR, or a runtime that retries for it (CPython 3.5+, PEP 475)."
        )


@dataclass(frozen=True, slots=True)
class TwoRetryCausesFit(Claim):
    """Inference: a CPython process retried, and without frames the trace cannot say who retried."""

    name: ClassVar[str] = "two-retry-causes-fit"
    task: str
    program: str
    again_seq: int

    def render(self) -> str:
        return (
            "Two causes fit, and the trace cannot tell them apart: CPython 3.5+ retries a call made through its own "
            "wrappers (socket.accept) once the Python signal handlers have run (PEP 475), and the program does not "
            "see the EINTR; or the call was made outside them (ctypes, a C extension) and the program's own loop saw "
            "EINTR and called again. The program's output (an 'Interrupted system call' message) or its source "
            "tells which; --python-frames shows it."
        )


@dataclass(frozen=True, slots=True)
class RetriedByLibrary(Claim):
    """Both entries have the same Python stack, innermost in the standard library: the library retried (PEP 475)."""

    name: ClassVar[str] = "retried-by-library"
    task: str
    first_seq: int
    again_seq: int
    place: str

    def render(self) -> str:
        return (
            f"Both entries come from the same place in the standard library, {self.place}: the library's call "
            "retried it itself once the Python handlers had run (PEP 475), and the program never saw the EINTR."
        )


@dataclass(frozen=True, slots=True)
class RetriedByOwnCode(Claim):
    """Inference from frames: the retry's innermost frame is the program's own: its own loop called again."""

    name: ClassVar[str] = "retried-by-own-code"
    task: str
    again_seq: int
    frame: str
    caller: str | None

    def render(self) -> str:
        called_from = f", called from {self.caller}" if self.caller else ""
        return (
            f"The program's own code made the call again, at {self.frame}{called_from}: no standard-library frame "
            "stands between that code and the call, so no library wrapper retried it; the program's own loop saw "
            "the EINTR and called again, as Python 2's socket.accept made every program do (inferred from the "
            "frames: a C built-in called there directly, such as os.waitpid, would look the same)."
        )


@dataclass(frozen=True, slots=True)
class RetriedFrom(Claim):
    """The retry's stack differs from the first entry's, and neither rule above fits: both places said."""

    name: ClassVar[str] = "retried-from"
    task: str
    first_seq: int
    again_seq: int
    first_place: str
    again_place: str

    def render(self) -> str:
        return f"It was entered again from {self.again_place}, first from {self.first_place}."


@dataclass(frozen=True, slots=True)
class PythonHandlerRan(Claim):
    """A Python handler's frames stand on the interrupted call's: it ran between the EINTR and the retry."""

    name: ClassVar[str] = "python-handler-ran"
    task: str
    function: str
    place: str
    calls: tuple[str, ...]
    seqs: tuple[int, ...]

    @property
    def evidence(self) -> tuple[int, ...]:
        return self.seqs

    def render(self) -> str:
        return (
            f"The Python handler {self.function} ({self.place}) ran in between, on top of the interrupted call's "
            f"frames: it made {', '.join(self.calls)} at {', '.join(f'#{seq}' for seq in self.seqs)}."
        )
