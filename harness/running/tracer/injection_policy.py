"""Fault and signal injection as a policy the tracer consults at a traced call's entry.

Like the :class:`~harness.running.tracer.handshake.Controller`, the policy
decides and the tracer acts: at each entry of a traced call the tracer asks
:meth:`InjectionPolicy.at_entry`, and either skips the call so that it fails
with an errno, sends a signal to the task now, or lets it be.  The policy
never touches ptrace; the answers are made once, so asking costs no
allocation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from harness.model import kernel
from harness.model.errors import HarnessError
from harness.model.injection import Injection
from harness.model.syscalls import syscall_number


@dataclass(frozen=True, slots=True)
class SkipAndReturn:
    """Skip the call (the kernel never runs it) and make it return ``ret``: ``-errno`` for an error, or a value."""

    ret: int
    before_decoding: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class AddHandlerFlags:
    """At rt_sigaction's entry, add ``flags`` to a handler's ``sa_flags`` before the kernel reads them.

    ``harness sweep --sa-restart`` asks whether SA_RESTART alone would have
    saved a broken site: the program is run again as if each of its installs
    of a handler for ``signum`` (the swept signal) said SA_RESTART; the
    handlers of other signals (a SIGTERM that must interrupt a loop to stop
    it) are left as they are.  Done before the entry is decoded, so that the
    event shows what the kernel installed.
    """

    flags: int
    signum: int
    before_decoding: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class SendSignal:
    """Send the signal to the task now, at the call's entry, so that a blocking call is interrupted by it."""

    signum: int
    before_decoding: ClassVar[bool] = False


InjectionAction = SkipAndReturn | SendSignal | AddHandlerFlags


class InjectionPolicy(Protocol):
    """What the tracer asks at a traced call's entry; None lets the call be.  It is told each traced call's end."""

    def at_entry(self, tid: int, role: str, nr: int) -> InjectionAction | None:
        """The action for this entry of call ``nr`` by task ``tid`` in ``role``."""
        ...

    def at_exit(self, tid: int, nr: int, ret: int) -> None:
        """Call ``nr`` of task ``tid`` returned ``ret`` (a restart code when a signal interrupted it)."""
        ...


#: How many times in a row an injected signal may interrupt the same call of the same task, each re-entry
#: again, before the run is stopped: a program that retries (PEP 475, an EINTR loop) never gets past it.
MAX_INTERRUPTIONS_IN_A_ROW = 1000


class InjectionLivelock(HarnessError):
    """An injected signal interrupts every re-entry of a call: the run would spin until its time limit."""

    exit_status = 1


class SpecInjections:
    """The policy of ``--inject`` specs: each counts, per task, the calls of its name it sees.

    When several specs hit the same entry, every one counts it and the last
    one's action wins (an errno and a signal cannot both apply: a skipped call
    cannot be interrupted).
    """

    __slots__ = ("_by_number", "_counts", "_in_a_row")

    def __init__(self, injections: Sequence[Injection]) -> None:
        self._by_number: dict[int, list[tuple[int, Injection, InjectionAction]]] = {}
        for index, injection in enumerate(injections):
            action: InjectionAction
            if injection.error is not None:
                action = SkipAndReturn(-kernel.ERRNO_NUMBERS[injection.error])
            elif injection.retval is not None:
                action = SkipAndReturn(injection.retval)
            else:
                assert injection.signal is not None
                action = SendSignal(kernel.SIGNAL_NUMBERS[injection.signal])
            self._by_number.setdefault(syscall_number(injection.call), []).append((index, injection, action))
        self._counts: dict[tuple[int, int], int] = {}  # (tid, spec index) -> calls of its name seen
        self._in_a_row: dict[tuple[int, int], int] = {}  # (tid, nr) -> signals sent into it since it last ended

    def at_entry(self, tid: int, role: str, nr: int) -> InjectionAction | None:
        """Count this entry for each spec of its call and role; the action of the spec it hits, if any."""
        specs = self._by_number.get(nr)
        if specs is None:
            return None
        chosen: InjectionAction | None = None
        for index, injection, action in specs:
            if injection.role is not None and injection.role != role:
                continue
            count = self._counts.get((tid, index), 0) + 1
            self._counts[(tid, index)] = count
            if injection.hits(count):
                chosen = action
                if isinstance(action, SendSignal):
                    self._count_in_a_row(tid, role, nr, injection)
        return chosen

    def at_exit(self, tid: int, nr: int, ret: int) -> None:
        """A call that ended other than by a restart code got past the signals: its count starts again."""
        if (tid, nr) in self._in_a_row and not kernel.is_restart_code(kernel.errno_name(ret)):
            del self._in_a_row[(tid, nr)]

    def _count_in_a_row(self, tid: int, role: str, nr: int, injection: Injection) -> None:
        times = self._in_a_row[(tid, nr)] = self._in_a_row.get((tid, nr), 0) + 1
        if times > MAX_INTERRUPTIONS_IN_A_ROW:
            raise InjectionLivelock(
                f"--inject {injection}: {role} entered {injection.call} {times} times in a row and the signal "
                "interrupted it each time, so the program never gets past it (it retries after EINTR); "
                f"hit fewer entries (when=N, or when=N+ on a call the program does not retry)"
            )
