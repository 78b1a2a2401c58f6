"""Explain each interrupted call: what stopped it, by which signal from whom, and what became of it.

An interruption is told from the one account of it
(:func:`harness.analysis.interruptions.interruptions`), each piece as a
claim: the call and its restart code, the delivery and its sender, the
disposition in force from the process's ``rt_sigaction`` history, what the
kernel did from what followed the call, and what the program did from its
next calls.

Facts about CPython this module relies on:

* CPython's C-level signal handler only records that the signal arrived
  (Modules/signalmodule.c, ``trip_signal``); the Python function installed
  with ``signal.signal`` runs later, in the main thread, when the
  interpreter checks for pending signals.  So in a Python server the
  handler's ``wait4`` calls come *after* ``rt_sigreturn``, where in C they
  come before it.
* ``signal.signal`` installs handlers without SA_RESTART
  (Modules/signalmodule.c, ``PyOS_setsig``); ``signal.siginterrupt(sig,
  False)`` adds it.
* Since Python 3.5 (PEP 475), a call that fails with EINTR is retried after
  the Python handlers have run, unless one of them raised
  (Modules/socketmodule.c, ``sock_call_ex``).  Python 2 raised
  ``socket.error: [Errno 4] Interrupted system call`` instead: the EINTR the
  trace shows is exactly what it reported.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from harness.analysis import claims as c
from harness.analysis.facts import Disposition, ProgramKind, TraceIndex, program_kind, program_of
from harness.analysis.finding import Finding
from harness.analysis.interruptions import Interruption
from harness.model import kernel
from harness.model.events import Event, ExitEvent, SignalEvent, SyscallEvent
from harness.model.frames import Frame, Stack, summary
from harness.model.roles import process_role
from harness.model.syscalls import calls_that
from harness.model.trace import Trace

#: The calls that end their task (the catalogue's traits): left out of what a handler did before it exited.
_ENDS = calls_that("ends_task") | calls_that("ends_process")


def _place(frame: Frame) -> str:
    return f"{frame.file.rsplit('/', 1)[-1]}:{frame.line}"


def _handler_frames(stack: Stack | None, beneath: Stack) -> tuple[Frame, ...]:
    """The frames a Python signal handler stacked on an interrupted call's ``beneath`` stack; () when not so."""
    if not stack or len(stack) <= len(beneath) or stack[len(stack) - len(beneath) :] != beneath:
        return ()
    return stack[: len(stack) - len(beneath)]


def duration_words(seconds: float) -> str:
    """A duration for a reader: ``0.215 ms``, ``41.3 ms``, ``1.204 s`` (three significant places or µs)."""
    if seconds < 0.001:
        return f"{seconds * 1000:.3f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.3f} s"


def signal_delivered(trace: Trace, signal: SignalEvent) -> c.SignalDelivered:
    """The delivery as a claim, with its sender as the siginfo says (the harness by name, not by pid)."""
    info = signal.siginfo
    pid = info.get("si_pid")
    pid = pid if isinstance(pid, int) and pid else None
    role = trace.role_of_pid(pid) if pid is not None else None
    code = info.get("si_code")
    status = info.get("si_status")
    sender: c.SenderKind
    if signal.injected:
        sender = "injection"
    elif signal.from_harness:
        sender = "harness"
    elif code == "CLD_EXITED":
        sender = "child-exit"
    elif code in kernel.CLD_STATUS_IS_SIGNAL:
        sender = "child-signalled"
    elif code in kernel.SI_CODES_WITH_SENDER:
        sender = "kill" if role is not None else "untraced"
    else:
        sender = "kernel"
    named = sender not in ("harness", "injection")
    return c.SignalDelivered(
        task=signal.role,
        signal=signal.name,
        seq=signal.seq,
        sender=sender,
        sender_role=role if named else None,
        sender_pid=pid if named else None,
        status=status if sender.startswith("child") and isinstance(status, str | int) else None,
        code=str(code) if code is not None and named else None,
    )


def disposition_claim(process: str, signal: str, at: int, disposition: Disposition) -> c.DispositionInForce:
    """The disposition in force as a claim, with the ``rt_sigaction`` that set it, if the trace holds it."""
    evidence = disposition.evidence
    return c.DispositionInForce(
        process=process,
        signal=signal,
        at_seq=at,
        handler=disposition.handler,
        sa_restart=disposition.sa_restart,
        set_seq=evidence.seq if evidence is not None else None,
        set_by=evidence.role if evidence is not None else None,
        inherited_from=disposition.inherited_from,
    )


#: An observed outcome in the words of kernel.RESTART_OUTCOMES, to compare the trace with the rule.
_AS_RULE: dict[str, kernel.RestartOutcome] = {
    "EINTR": "EINTR",
    "restarted": "restart",
    "restart_syscall": "restart_syscall",
}


def explain_interruption(trace: Trace, index: TraceIndex, account: Interruption) -> Finding:
    """One interruption, as claims: what stopped, by which signal from whom, and what became of the call."""
    name = account.call_name or "a call the tracer could not name"
    program = program_kind(index, process_role(account.task))
    verb, fate = _fate(index, account, name, program)
    made = (*_what_stopped(trace, account), *fate, *_caveats(account))
    roles = {account.task}
    signal = account.signal
    if signal is not None and account.sender and not signal.from_harness:
        roles.add(account.sender)
    anchor = account.call or signal or account.evidence
    at = anchor.seq if anchor is not None else 0
    code = account.code
    label = f" ({', '.join(x for x in (code, signal.name if signal else None) if x)})" if code or signal else ""
    artefact = " [tracer artefact]" if account.tracer_only else ""
    title = f"#{at} {account.task}: {name} {verb}{label}{artefact}"
    return Finding("interrupted", title, at, made, roles=tuple(sorted(roles)))


def _what_stopped(trace: Trace, account: Interruption) -> list[c.Claim]:
    """The call the kernel stopped (traced, named by the registers, or unnamed), the delivery, the disposition."""
    call, signal, evidence = account.call, account.signal, account.evidence
    made: list[c.Claim] = []
    if call is not None:
        made.append(
            c.CallInterrupted(
                task=call.role,
                call=call.name,
                enter_seq=call.enter_seq,
                seq=call.seq,
                code=account.code or str(call.errno),
                blocked_for=duration_words(call.duration) if call.duration is not None else None,
                place=summary(call.python) if call.python else None,
            )
        )
    elif account.call_name is not None and signal is not None:
        made.append(c.UntracedCallInterrupted(account.task, account.call_name, account.code, signal.seq))
    elif isinstance(evidence, SyscallEvent):
        made.append(c.UnnamedCallInterrupted(account.task, evidence.seq))
    if signal is not None:
        made.append(signal_delivered(trace, signal))
    elif call is not None:
        made.append(c.NoDelivery(account.task, call.seq))
    if account.disposition is not None and signal is not None:
        process = process_role(account.task)
        made.append(disposition_claim(process, signal.name, (call or signal).seq, account.disposition))
    return made


def _fate(index: TraceIndex, account: Interruption, name: str, program: ProgramKind) -> tuple[str, list[c.Claim]]:
    """What became of the call, as claims, with the verb the finding's title says it with."""
    call, signal, code, evidence = account.call, account.signal, account.code, account.evidence
    if account.outcome == "EINTR" and isinstance(evidence, SyscallEvent):
        eintr = c.ReturnedEintr(account.task, name, evidence.seq, code, c.EINTR_READER[program])
        after = _after_eintr(call, index, evidence.seq, program) if call is not None else []
        return "failed with EINTR", [eintr, *after]
    if account.outcome == "restarted" and isinstance(evidence, SyscallEvent):
        restarted = _restarted(index, account, name, evidence)
        return "was restarted", ([restarted] if restarted is not None else [])
    if account.outcome == "restarted" and isinstance(evidence, SignalEvent) and signal is not None:
        delivery = f"the delivery of {evidence.name}"
        return "was restarted", [c.RestartedUnseen(account.task, name, code, signal.seq, evidence.seq, delivery)]
    if account.outcome == "restart_syscall" and evidence is not None:
        return "resumed", [c.ResumedByRestartSyscall(account.task, evidence.seq)]
    if account.outcome == "died" and isinstance(evidence, ExitEvent):
        ended = _never_returned(index, account, name, evidence)
        verb = "never returned (its handler exited)" if isinstance(ended, c.ExitedFromHandler) else "never returned"
        return verb, [ended]
    return "was interrupted", [c.FateNotShown(account.task)]


def _restarted(index: TraceIndex, account: Interruption, name: str, evidence: SyscallEvent) -> c.Claim | None:
    """How the kernel entered the call again: through the handler's rt_sigreturn, with no handler, or unseen."""
    signal = account.signal
    if evidence.name == "rt_sigreturn":
        again = _next_call(index, evidence)
        again = again if again is not None and again.name == name else None
        return c.RestartedBySigreturn(
            account.task,
            name,
            evidence.seq,
            again.seq if again else None,
            again.enter_seq if again else None,
        )
    if evidence.name == name:
        interrupted = (account.call or signal or evidence).seq
        return c.RestartedWithoutHandler(account.task, name, interrupted, evidence.seq, evidence.enter_seq)
    if signal is not None:
        return c.RestartedUnseen(account.task, name, account.code, signal.seq, evidence.seq, evidence.name)
    return None


def _caveats(account: Interruption) -> list[c.Claim]:
    """What qualifies the account: the interruption happened only under ptrace, or the rule predicts otherwise."""
    made: list[c.Claim] = []
    signal = account.signal
    if account.tracer_only and signal is not None and account.disposition is not None:
        made.append(c.OnlyUnderPtrace(account.task, signal.name, signal.seq, account.disposition.handler))
    expected = account.expected
    seen = _AS_RULE.get(account.outcome)
    if expected is not None and seen is not None and seen != expected:
        made.append(c.RuleDisagrees(account.task, expected, seen))
    return made


def _next_call(index: TraceIndex, after: SyscallEvent) -> SyscallEvent | None:
    """The task's next traced call after ``after``."""
    return next(
        (
            e
            for e in index.events_of(process_role(after.role))
            if e.tid == after.tid and e.seq > after.seq and isinstance(e, SyscallEvent)
        ),
        None,
    )


def _never_returned(index: TraceIndex, account: Interruption, name: str, end: ExitEvent) -> c.Claim:
    """The task ended before the call returned: killed in it, exited from the handler, or ended by another thread."""
    if end.signal is not None:
        return c.KilledInCall(account.task, name, end.seq, end.signal)
    start = (account.call or account.signal or end).seq
    made = [
        e
        for e in index.events_of(process_role(account.task))
        if e.tid == end.tid and start < e.seq < end.seq and isinstance(e, SyscallEvent)
    ]
    if account.signal is not None:
        calls = tuple(dict.fromkeys(e.name for e in made if e.name not in _ENDS))
        return c.ExitedFromHandler(account.task, name, account.signal.seq, end.seq, end.code, calls)
    if not made:
        return c.EndedInCall(account.task, name, start, end.seq)
    return c.FateNotShown(account.task)


def _after_eintr(call: SyscallEvent, index: TraceIndex, start: int, kind: ProgramKind) -> list[c.Claim]:
    """What the program did with the EINTR: called again, or stopped; with the causes that fit, and only those."""
    events = [e for e in index.events_of(process_role(call.role)) if e.tid == call.tid]
    between: list[str] = []
    for event in events:
        if event.seq <= start or not isinstance(event, SyscallEvent | ExitEvent):
            continue
        if isinstance(event, ExitEvent):
            how = f"was killed by {event.signal}" if event.signal else f"exited with {event.code}"
            return [c.NotCalledAgain(call.role, call.name, start, event.seq, how)]
        if event.name != call.name:
            between.append(event.name)
            continue
        again = c.CalledAgain(call.role, call.name, start, event.seq, event.enter_seq, tuple(between))
        if call.python and event.python:
            return [again, *_retry_by_frames(call, event, events, start)]
        program = os.path.basename(program_of(index, process_role(call.role)))
        if kind == "cpython":
            return [again, c.TwoRetryCausesFit(call.role, program, event.seq)]
        if kind == "not shown":
            return [again, c.RetryCauseNotShown(call.role, event.seq)]
        return [again, c.HandlesEintrItself(call.role, program)]
    return [c.NotCalledAgain(call.role, call.name, start, None, None)]


def _retry_by_frames(call: SyscallEvent, again: SyscallEvent, events: Sequence[Event], start: int) -> list[c.Claim]:
    """Who called again, from the two entries' Python stacks; and which handler ran between, from its frames."""
    assert call.python and again.python
    ran = [
        (event, frames)
        for event in events
        if isinstance(event, SyscallEvent) and start < event.seq < again.enter_seq
        for frames in [_handler_frames(event.python, call.python)]
        if frames
    ]
    made: list[c.Claim] = []
    innermost = again.python[0]
    if again.python == call.python and innermost.in_stdlib:
        made.append(c.RetriedByLibrary(call.role, call.seq, again.seq, summary(call.python)))
    elif not innermost.in_stdlib:
        caller = str(again.python[1]) if len(again.python) > 1 else None
        made.append(c.RetriedByOwnCode(call.role, again.seq, str(innermost), caller))
    else:
        made.append(c.RetriedFrom(call.role, call.seq, again.seq, summary(call.python), summary(again.python)))
    if ran:
        outermost = ran[0][1][-1]
        made.append(
            c.PythonHandlerRan(
                call.role,
                outermost.function,
                _place(outermost),
                tuple(dict.fromkeys(event.name for event, _ in ran)),
                tuple(event.seq for event, _ in ran),
            )
        )
    return made
