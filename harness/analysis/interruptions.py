"""What became of each interrupted call: one account, read by the matcher, explain, golden stories and the report.

An interruption shows in a trace as a call that returned a restart code
(``ERESTARTSYS``...) to the tracer, the signal delivered next, and what
followed in the same task: ``rt_sigreturn`` returning -EINTR (the program saw
the call fail) or the call's own number (the kernel entered it again), the
call entered again with no handler between, ``restart_syscall``, or the
task's end.  When the interrupted call is not traced (``pause``,
``epoll_wait``), only the handler's ``rt_sigreturn`` returning -EINTR shows;
the tracer names the call on the signal event (``SignalEvent.syscall``, read
from ``orig_rax`` at the signal-delivery-stop), so even that interruption has
a name.  The kernel's rules are :mod:`harness.model.kernel`'s; this module
only reads one trace with them, once, as :func:`harness.analysis.facts.child_fates`
does for zombies.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from harness.analysis.facts import Disposition, TraceIndex, disposition_at
from harness.model import kernel
from harness.model.events import Event, ExitEvent, SignalEvent, SyscallEvent
from harness.model.roles import process_role
from harness.model.syscalls import calls_that, syscall_number

#: A handler's return (rt_sigreturn) and the resumption of an interrupted call (restart_syscall).
_HANDLER_RETURNS, _RESUMES = calls_that("returns_from_handler"), calls_that("resumes")

#: What became of an interrupted call: the program saw EINTR; the kernel entered it again; it resumed
#: through ``restart_syscall``; the task died first; or the trace ends before anything shows.
Outcome = Literal["EINTR", "restarted", "restart_syscall", "died", "unknown"]


@dataclass(frozen=True, slots=True)
class Interruption:
    """One call a signal interrupted, and everything the trace shows about it."""

    task: str
    """The role of the interrupted task."""
    call_name: str | None
    """The interrupted call: the traced call's name, or the one the signal event names; None if unknown."""
    call: SyscallEvent | None
    """The traced call that returned the restart code; None when the call was not traced."""
    code: str | None
    """The restart code only a tracer sees (``ERESTARTSYS``...); None when the call was not traced and the
    signal event does not name it."""
    signal: SignalEvent | None
    """The signal delivered at the interruption; None when the trace shows none."""
    sender: str | None
    """The role of the task that sent the signal (``si_pid``), when it was traced."""
    disposition: Disposition | None
    """The signal's disposition in the task's process when the call was interrupted."""
    outcome: Outcome
    evidence: Event | None
    """The event that shows the outcome: ``rt_sigreturn``, ``restart_syscall``, the call entered again, the exit."""
    tracer_only: bool
    """True when the signal is ignored (SIG_IGN, or SIG_DFL with an ignoring default): untraced, it would have
    been discarded when sent and the call would never have stopped (kernel.wakes_only_under_ptrace)."""

    @property
    def seen(self) -> str | None:
        """What the program saw the call return: ``EINTR``, ``restarted``, or None when nothing shows."""
        if self.outcome == "EINTR":
            return "EINTR"
        if self.outcome in ("restarted", "restart_syscall"):
            return "restarted"
        return None

    @property
    def expected(self) -> kernel.RestartOutcome | None:
        """What the kernel's rule predicts for the code under the disposition in force."""
        if self.code is None or self.disposition is None or self.signal is None:
            return None
        handler = self.disposition.handler == "handler"
        return kernel.restart_outcome(self.code, handler=handler, sa_restart=self.disposition.sa_restart)

    @property
    def seqs(self) -> tuple[int, ...]:
        """The seq numbers of the events this account rests on."""
        found = {e.seq for e in (self.call, self.signal, self.evidence) if e is not None}
        if self.disposition is not None and self.disposition.evidence is not None:
            found.add(self.disposition.evidence.seq)
        return tuple(sorted(found))


@dataclass(slots=True)
class _Open:
    """An interruption whose outcome the task has not shown yet."""

    call: SyscallEvent | None
    signal: SignalEvent | None = None
    no_handler: bool = False
    """The signal found no handler (SIG_DFL or SIG_IGN): the kernel enters the call again, with no rt_sigreturn;
    for an untraced call nothing shows it but the task going on (its next event)."""

    @property
    def name(self) -> str | None:
        return self.call.name if self.call is not None else self.signal.syscall if self.signal else None

    @property
    def code(self) -> str | None:
        return self.call.errno if self.call is not None else self.signal.syscall_errno if self.signal else None


def _number(name: str | None) -> int | None:
    try:
        return syscall_number(name) if name is not None else None
    except KeyError:
        return None


def interruptions(index: TraceIndex) -> list[Interruption]:
    """Every interruption in the trace, in the order of the events that show them; computed once per index."""
    cached = index.cache.get(("interruptions", ""))
    if cached is None:
        cached = index.cache[("interruptions", "")] = list(_derive(index))
    return list(cached)


def _derive(index: TraceIndex) -> Iterator[Interruption]:
    open_by_tid: dict[int, _Open] = {}
    last_signal: dict[int, SignalEvent] = {}
    for event in index.trace:
        pending = open_by_tid.get(event.tid)
        if pending is not None and _went_on_unseen(pending, event):
            # An untraced call the kernel entered again for want of a handler: the task's next event shows it went on.
            del open_by_tid[event.tid]
            yield _account(index, pending, "restarted", event)
            pending = None
        if isinstance(event, SignalEvent):
            if pending is not None and pending.signal is None:
                pending.signal = event
                pending.no_handler = _finds_no_handler(index, event)
            elif pending is None and kernel.is_restart_code(event.syscall_errno):
                # an untraced call, named by the tracer
                open_by_tid[event.tid] = _Open(None, event, no_handler=_finds_no_handler(index, event))
            else:
                last_signal[event.tid] = event
            continue
        if isinstance(event, ExitEvent):
            if pending is not None:
                del open_by_tid[event.tid]
                yield _account(index, pending, "died", event)
            continue
        if not isinstance(event, SyscallEvent):
            continue
        if pending is not None:
            outcome = _closes(index, pending, event)
            if outcome is not None:
                del open_by_tid[event.tid]
                yield _account(index, pending, outcome, event)
        elif event.name in _HANDLER_RETURNS and event.errno == "EINTR":
            # An untraced call the signal event does not name (a trace from an older tracer): say what shows.
            yield _account(index, _Open(None, last_signal.get(event.tid)), "EINTR", event)
        if kernel.is_restart_code(event.errno):
            open_by_tid[event.tid] = _Open(event)
        if event.name in _HANDLER_RETURNS:
            last_signal.pop(event.tid, None)
    for pending in open_by_tid.values():
        yield _account(index, pending, "unknown", None)


def _finds_no_handler(index: TraceIndex, signal: SignalEvent) -> bool:
    return disposition_at(index, process_role(signal.role), signal.name, signal.seq).handler != "handler"


def _went_on_unseen(pending: _Open, event: Event) -> bool:
    """Whether ``event`` shows that an untraced call, interrupted by a signal with no handler, was entered again.

    The kernel restarts it at once (ERESTARTSYS, ERESTARTNOHAND and ERESTARTNOINTR without a handler; kernel.
    RESTART_OUTCOMES), unseen: the task's next signal or traced call (but restart_syscall, which is the
    ERESTART_RESTARTBLOCK path's own evidence, and its end) is the first sign that it went on.
    """
    if pending.call is not None or pending.signal is None or not pending.no_handler:
        return False
    if pending.code == "ERESTART_RESTARTBLOCK":
        return False  # it resumes through restart_syscall, which is the evidence when traced
    if isinstance(event, SyscallEvent):
        return event.name not in _RESUMES | _HANDLER_RETURNS
    return isinstance(event, SignalEvent) and event.seq != pending.signal.seq


def _closes(index: TraceIndex, pending: _Open, event: SyscallEvent) -> Outcome | None:
    """The outcome an event of the interrupted task shows, or None when it shows none."""
    if event.name in _HANDLER_RETURNS:
        if event.errno == "EINTR":
            return "EINTR"
        if any(event.ret == _number(name) for name in _RESUMES):
            return "restart_syscall"
        if event.ret == _number(pending.name) or pending.code == "ERESTARTNOINTR":
            return "restarted"
        return None  # a nested handler's return: not this call's
    if event.name in _RESUMES:
        return "restart_syscall"
    if event.name == pending.name and (pending.call is None or event.enter_seq > pending.call.seq):
        # Entered again with no rt_sigreturn between: no handler ran, unless this is the handler's own call.
        signal = pending.signal
        if signal is not None:
            handled = disposition_at(index, process_role(event.role), signal.name, signal.seq).handler == "handler"
            if handled:
                return None
        return "restarted"
    return None


def _account(index: TraceIndex, pending: _Open, outcome: Outcome, evidence: Event | None) -> Interruption:
    call, signal = pending.call, pending.signal
    anchor = call if call is not None else signal if signal is not None else evidence
    assert anchor is not None
    task = anchor.role
    process = process_role(task)
    disposition = None
    sender = None
    if signal is not None:
        disposition = disposition_at(index, process, signal.name, (call or signal).seq)
        pid = signal.siginfo.get("si_pid")
        sender = index.trace.role_of_pid(pid) if isinstance(pid, int) and pid else None
    code, name = pending.code, pending.name
    tracer_only = (
        signal is not None
        and disposition is not None
        and kernel.wakes_only_under_ptrace(signal.name, disposition.handler)
    )
    return Interruption(
        task=task,
        call_name=name,
        call=call,
        code=code if kernel.is_restart_code(code) else None,
        signal=signal,
        sender=sender,
        disposition=disposition,
        outcome=outcome,
        evidence=evidence,
        tracer_only=tracer_only,
    )


def by_call(index: TraceIndex) -> dict[int, Interruption]:
    """The interruptions of traced calls, by the seq of the call that returned the restart code."""
    return {i.call.seq: i for i in interruptions(index) if i.call is not None}
