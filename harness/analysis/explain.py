"""Explain a trace in words: interrupted calls and restarts, zombies and re-parenting, leaked descriptors.

Every finding is made of claims (:mod:`harness.analysis.claims`), each
naming the events it rests on, and its text is rendered from them; every
claim is checked against the trace again (:mod:`harness.analysis.verify`)
before it is shown.  The claims are derived from the trace's own evidence: the disposition in
force comes from the process's ``rt_sigaction`` history, what the kernel did
from what followed the interrupted call, what the program did from its next
calls.  The kernel's rules are in :mod:`harness.model.kernel` (``RESTART_OUTCOMES``,
``RESTART_RULES``), the facts about descriptors and zombies in
:mod:`harness.analysis.facts`; this module only applies them to one trace.

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

With Python frames (``--python-frames``) the accounts also say where in the
program each call was made, which Python handler ran after an interruption
(the frames stacked on the interrupted call's own), whether a retry came
from the standard library's call (PEP 475: the retried call has the same
stack, with a standard-library frame innermost) or from the program's own
code (its own frame innermost: nothing between it and the kernel retries),
and which code path reaped each child.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from harness.analysis import claims as c
from harness.analysis.defaults import FORMATS, Format
from harness.analysis.facts import (
    ACCEPT_CALLS,
    ChildFate,
    Disposition,
    TraceIndex,
    child_fates,
    closes_the_listening_socket,
    descriptor_ends,
    disposition_at,
    inherited_listeners,
    next_accept_after,
    no_accepted_descriptor_left_open,
    program_of,
    runs_cpython,
    succeeded,
)
from harness.analysis.interruptions import Interruption, interruptions
from harness.analysis.verify import ClaimRefuted, Verifier
from harness.model import kernel
from harness.model.events import Event, ExecEvent, ExitEvent, SignalEvent, SyscallEvent
from harness.model.frames import Frame, Stack, summary
from harness.model.roles import process_role
from harness.model.strace_format import escape_controls
from harness.model.syscalls import calls_that
from harness.model.trace import Trace

__all__ = ["FORMATS", "ClaimRefuted", "Finding", "FindingKind", "Format", "explain", "render", "verified"]

#: The lessons behind the findings (fork(2), wait(2), signal(7), socket(7)), said once per explanation.
#: A lesson is general knowledge, no claim about the trace: it is shown only where the finding's claims make it fit.
ZOMBIE_LESSON = (
    "An exited process does not vanish: the kernel keeps its pid and exit status (a zombie) until its parent "
    "collects them with a wait, and tells the parent with SIGCHLD that there is something to collect."
)
CONNECTION_LESSON = (
    "After fork the connection has two references, the parent's and the child's; the kernel shuts a TCP "
    "connection down (sends FIN) only when the last one is closed. With the parent's copy open, the child's close "
    "does not end the connection."
)
LISTENER_LESSON = (
    "Each copy is a reference to the same listening socket: while this process lives the port stays in LISTEN, "
    "even after the parent closes its own copy or dies, so new clients queue on a socket nobody accepts from and "
    "a restarted server cannot bind the port."
)
CLOSE_ON_EXEC_LESSON = (
    "A descriptor marked close-on-exec (SOCK_CLOEXEC or O_CLOEXEC when it is made, FD_CLOEXEC set with fcntl, "
    "accept4's SOCK_CLOEXEC; CPython marks every descriptor so, PEP 446) is closed by the kernel when the process "
    "calls execve: the new program never holds it, so it keeps no copy of the port open, without any close of its "
    "own (execve(2), fs/exec.c do_close_on_exec)."
)
DAEMON_LESSON = (
    "A double-fork daemon does this on purpose: its grandchild no longer belongs to the process that started it."
)
UNREAPED_LESSON = (
    "A server that runs for long fills the process table this way; once it exits, its zombies are re-parented "
    "and reaped by the subreaper or init."
)

#: The calls that end their task, that send a signal, that make a task (the catalogue's traits).
_ENDS = calls_that("ends_task") | calls_that("ends_process")
_SIGNALS = calls_that("signals")
_SPAWNS = calls_that("spawns")


#: What a finding is about: an interrupted call, a child's fate, or a descriptor kept open.
FindingKind = Literal[
    "interrupted", "zombie", "auto-reaped", "re-parented", "leaked-connection", "kept-listener", "closed-on-exec"
]
#: How :func:`render` writes findings.


@dataclass(frozen=True, slots=True)
class Finding:
    """One account: a title, the claims it makes about the trace, and the lessons they call for.

    ``at`` is the event the finding is about (the interrupted call, the
    child's exit, the accepted connection): findings are told in its order.
    """

    kind: FindingKind
    title: str
    at: int
    claims: tuple[c.Claim, ...]
    lessons: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    withheld: tuple[str, ...] = ()
    """Claims the verifier could not confirm, with why: never shown as true, said as a harness fault."""

    @property
    def details(self) -> tuple[str, ...]:
        """The finding's sentences: one for each claim, then :attr:`remarks`."""
        return tuple(claim.render() for claim in self.claims) + self.remarks

    @property
    def remarks(self) -> tuple[str, ...]:
        """What follows the claims: a note for each withheld one, then the lessons (no claim about the trace)."""
        faults = tuple(
            f"(The harness withheld a sentence it could not check against the trace: {why}. Please report it.)"
            for why in self.withheld
        )
        return faults + self.lessons

    @property
    def seqs(self) -> tuple[int, ...]:
        """The seq numbers of every event the finding's claims rest on."""
        return tuple(sorted({self.at, *(seq for claim in self.claims for seq in claim.evidence)}))

    def to_json(self) -> dict[str, object]:
        """The finding as JSON: its claims with their evidence, and the lessons as text."""
        return {
            "kind": self.kind,
            "title": self.title,
            "at": self.at,
            "roles": list(self.roles),
            "claims": [claim.to_json() for claim in self.claims],
            "lessons": list(self.lessons),
            "withheld": list(self.withheld),
        }


# -- interrupted calls -------------------------------------------------------------


def _place(frame: Frame) -> str:
    return f"{frame.file.rsplit('/', 1)[-1]}:{frame.line}"


def _user_path(stack: Stack, limit: int = 4) -> str:
    """The program's own frames of a stack, innermost first: the code path that made a call."""
    own = [str(frame) for frame in stack if not frame.in_stdlib][:limit]
    return " <- ".join(own) if own else summary(stack)


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


def _between(earlier: Event, later: Event) -> str | None:
    """The time from one event to a later one, in words; None when the trace holds no times."""
    if earlier.time is None or later.time is None:
        return None
    return duration_words(max(later.time - earlier.time, 0.0))


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


def _disposition_claim(process: str, signal: str, at: int, disposition: Disposition) -> c.DispositionInForce:
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


def _explain_interruption(trace: Trace, index: TraceIndex, account: Interruption) -> Finding:
    """One interruption, as claims: what stopped, by which signal from whom, and what became of the call."""
    call, signal, code, outcome = account.call, account.signal, account.code, account.outcome
    evidence = account.evidence
    name = account.call_name or "a call the tracer could not name"
    process = process_role(account.task)
    python = runs_cpython(index, process)
    made: list[c.Claim] = []
    roles = {account.task}
    if call is not None:
        made.append(
            c.CallInterrupted(
                task=call.role,
                call=call.name,
                enter_seq=call.enter_seq,
                seq=call.seq,
                code=code or str(call.errno),
                blocked_for=duration_words(call.duration) if call.duration is not None else None,
                place=summary(call.python) if call.python else None,
            )
        )
    elif account.call_name is not None and signal is not None:
        made.append(c.UntracedCallInterrupted(account.task, account.call_name, code, signal.seq))
    elif isinstance(evidence, SyscallEvent):
        made.append(c.UnnamedCallInterrupted(account.task, evidence.seq))
    if signal is not None:
        made.append(signal_delivered(trace, signal))
        if account.sender and not signal.from_harness:
            roles.add(account.sender)
    elif call is not None:
        made.append(c.NoDelivery(account.task, call.seq))
    if account.disposition is not None and signal is not None:
        made.append(_disposition_claim(process, signal.name, (call or signal).seq, account.disposition))
    verb = "was interrupted"
    if outcome == "EINTR" and isinstance(evidence, SyscallEvent):
        made.append(c.ReturnedEintr(account.task, name, evidence.seq, code, "interpreter" if python else "program"))
        verb = "failed with EINTR"
        if call is not None:
            made.extend(_after_eintr(call, index, evidence.seq, python))
    elif outcome == "restarted" and isinstance(evidence, SyscallEvent):
        verb = "was restarted"
        if evidence.name == "rt_sigreturn":
            again = _next_call(index, evidence)
            again = again if again is not None and again.name == name else None
            made.append(
                c.RestartedBySigreturn(
                    account.task,
                    name,
                    evidence.seq,
                    again.seq if again else None,
                    again.enter_seq if again else None,
                )
            )
        elif evidence.name == name:
            interrupted = (call or signal or evidence).seq
            made.append(c.RestartedWithoutHandler(account.task, name, interrupted, evidence.seq, evidence.enter_seq))
        elif signal is not None:
            made.append(c.RestartedUnseen(account.task, name, code, signal.seq, evidence.seq, evidence.name))
    elif outcome == "restarted" and isinstance(evidence, SignalEvent) and signal is not None:
        verb = "was restarted"
        made.append(
            c.RestartedUnseen(account.task, name, code, signal.seq, evidence.seq, f"the delivery of {evidence.name}")
        )
    elif outcome == "restart_syscall" and evidence is not None:
        verb = "resumed"
        made.append(c.ResumedByRestartSyscall(account.task, evidence.seq))
    elif outcome == "died" and isinstance(evidence, ExitEvent):
        verb = "never returned"
        made.append(_never_returned(index, account, name, evidence))
        if isinstance(made[-1], c.ExitedFromHandler):
            verb = "never returned (its handler exited)"
    else:
        made.append(c.FateNotShown(account.task))
    if account.tracer_only and signal is not None and account.disposition is not None:
        made.append(c.OnlyUnderPtrace(account.task, signal.name, signal.seq, account.disposition.handler))
    expected = account.expected
    seen = _AS_RULE.get(outcome)
    if expected is not None and seen is not None and seen != expected:
        made.append(c.RuleDisagrees(account.task, expected, seen))
    anchor = call or signal or evidence
    at = anchor.seq if anchor is not None else 0
    label = f" ({', '.join(x for x in (code, signal.name if signal else None) if x)})" if code or signal else ""
    artefact = " [tracer artefact]" if account.tracer_only else ""
    title = f"#{at} {account.task}: {name} {verb}{label}{artefact}"
    return Finding("interrupted", title, at, tuple(made), roles=tuple(sorted(roles)))


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


def _after_eintr(call: SyscallEvent, index: TraceIndex, start: int, python: bool) -> list[c.Claim]:
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
        if python:
            return [again, c.TwoRetryCausesFit(call.role, program, event.seq)]
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


# -- processes ---------------------------------------------------------------------


def _handler_without_reaping(index: TraceIndex, process: str, fate: ChildFate) -> c.HandlerDidNotReap | None:
    """When the child's SIGCHLD reached a handler but the process accepted again before reaping it: say so."""
    accept = next_accept_after(index, process, fate.exit.seq)
    if accept is None or (fate.reap is not None and fate.reap.seq < accept.seq):
        return None
    pid = fate.spawn.child_pid
    signal = next(
        (
            e
            for e in index.events_of(process)
            if isinstance(e, SignalEvent)
            and e.name == "SIGCHLD"
            and e.siginfo.get("si_pid") == pid
            and fate.exit.seq < e.seq < accept.seq
        ),
        None,
    )
    if signal is None:
        return None
    disposition = disposition_at(index, process, "SIGCHLD", signal.seq)
    if disposition.handler != "handler":
        return None
    described = _disposition_claim(process, "SIGCHLD", signal.seq, disposition).describe()
    return c.HandlerDidNotReap(fate.spawn.child_role, process, signal.seq, accept.seq, described)


def _killed_by(index: TraceIndex, fate: ChildFate) -> c.KilledBy | None:
    """The traced kill that sent the signal the child died of, if the trace holds one.

    The kill was entered before the death; it may be seen to return after it
    (the tracer handles the killer's exit stop and the target's end in
    either order), so its entry is what is compared.
    """
    end = fate.exit
    if end.signal is None:
        return None
    pid = fate.spawn.child_pid
    for event in reversed(index.trace.events):
        if (
            isinstance(event, SyscallEvent)
            and event.enter_seq < end.seq
            and event.name in _SIGNALS
            and event.errno is None
            and event.args.get("pid", event.args.get("tgid")) == pid
            and event.args.get("signal") == end.signal
        ):
            return c.KilledBy(fate.spawn.child_role, pid, end.signal, process_role(event.role), event.seq, end.seq)
    return None


def _explain_child(index: TraceIndex, process: str, fate: ChildFate) -> Finding:
    spawn, child_exit, parent_exit, disposition = fate.spawn, fate.exit, fate.parent_exit, fate.disposition
    role = spawn.child_role
    ended = c.ChildEnded(role, spawn.child_pid, child_exit.seq, child_exit.code, child_exit.signal)
    killed = _killed_by(index, fate)
    roles = (process, role) + ((killed.sender,) if killed and killed.sender not in (process, role) else ())
    at = child_exit.seq
    if fate.outcome == "re-parented":
        assert parent_exit is not None
        return Finding(
            "re-parented",
            f"#{child_exit.seq} {role} outlived its parent {process}",
            at,
            (c.OutlivedParent(role, spawn.child_pid, process, parent_exit.seq, ended.ended()),),
            () if _did_work(index, process) else (DAEMON_LESSON,),  # a middle process that only forked and exited
            roles,
        )
    the_end: tuple[c.Claim, ...] = (ended,) + ((killed,) if killed else ())
    if fate.outcome == "reaped":
        reap = fate.reap
        assert reap is not None
        lived = _between(child_exit, reap)
        late = _handler_without_reaping(index, process, fate)
        reaped = c.ReapedBy(
            role,
            spawn.child_pid,
            process,
            reap.name,
            reap.seq,
            child_exit.seq,
            lived,
            _user_path(reap.python) if reap.python else None,
        )
        return Finding(
            "zombie",
            f"#{child_exit.seq} {role} was a zombie until #{reap.seq}" + (f" ({lived})" if lived else ""),
            at,
            (*the_end, reaped) + ((late,) if late else ()),
            (ZOMBIE_LESSON,),
            roles,
        )
    if fate.outcome == "auto-reaped":
        described = _disposition_claim(process, "SIGCHLD", child_exit.seq, disposition).describe()
        return Finding(
            "auto-reaped",
            f"#{child_exit.seq} {role} was reaped by the kernel (SIGCHLD ignored)",
            at,
            (c.AutoReaped(role, spawn.child_pid, child_exit.seq, described),),
            (),
            roles,
        )
    lived = _between(child_exit, parent_exit) if parent_exit else None
    until = parent_exit.seq if parent_exit else None
    never = c.NeverReaped(role, spawn.child_pid, process, child_exit.seq, until, lived)
    accept = next_accept_after(index, process, child_exit.seq)
    made: list[c.Claim] = [*the_end, never]
    lessons = [ZOMBIE_LESSON]
    if disposition.handler == "SIG_DFL" and disposition.evidence is None:
        made.append(c.DefaultDoesNotReap(process, child_exit.seq))
    late = _handler_without_reaping(index, process, fate)
    if late is not None:
        made.append(late)
    if accept is not None:
        made.append(c.ServedOnWithZombie(process, role, child_exit.seq, accept.seq))
        lessons.append(UNREAPED_LESSON)
    if parent_exit is not None:
        made.append(c.ReapedOnParentExit(role, process, parent_exit.seq))
    title = f"#{child_exit.seq} {role} was never reaped by {process}"
    return Finding("zombie", title, at, tuple(made), tuple(lessons), roles)


def _explain_children(trace: Trace, index: TraceIndex) -> list[Finding]:
    return [
        _explain_child(index, process, fate)
        for process in dict.fromkeys(process_role(role) for role in trace.roles())
        for fate in child_fates(index, process)
    ]


def _explain_descriptors(trace: Trace, index: TraceIndex) -> list[Finding]:
    findings = []
    for process in dict.fromkeys(process_role(role) for role in trace.roles()):
        findings.extend(_kept_connections(index, process))
        findings.extend(_listeners_closed_by_exec(index, process))  # whatever became of the process after
        if not _did_work(index, process):
            continue  # a process that only forked and exited (a daemon's middle one) holds nothing for long
        ended = index.exits.get(process)
        if ended is not None and ended.signal is not None:
            continue  # killed: it had no chance to close anything, and its death closed every descriptor it held
        serving = _accepted_on(index, process)
        for violation in closes_the_listening_socket(index, process):
            if violation.fd is None or violation.fd in serving:
                continue  # a pre-fork worker: accepting on the inherited listening socket is its job, not a leak
            owner = inherited_listeners(index, process)[violation.fd]
            kept = c.ListenerKept(process, violation.fd, owner, ended.seq if ended is not None else None)
            at = ended.seq if ended is not None else index.events_of(process)[0].seq
            findings.append(
                Finding(
                    "kept-listener",
                    f"#{at} {process} kept the listening socket it inherited",
                    at,
                    (kept,),
                    (LISTENER_LESSON,),
                    (process,),
                )
            )
    return findings


def _kept_connections(index: TraceIndex, process: str) -> list[Finding]:
    """Each accepted connection the process kept open past its next accept (or its end), and what became of it."""
    python = runs_cpython(index, process)
    events = index.events_of(process)
    findings = []
    grows = _growing_descriptors(index, process)
    for violation in no_accepted_descriptor_left_open(index, process):
        accepted = violation.events[0]
        assert isinstance(accepted, SyscallEvent) and accepted.ret is not None
        fd = accepted.ret
        following = violation.events[1] if len(violation.events) > 1 else None
        next_accept = following if isinstance(following, SyscallEvent) else None
        made: list[c.Claim] = [
            c.ConnectionKept(
                process,
                fd,
                accepted.seq,
                next_accept.seq if next_accept else None,
                next_accept.name if next_accept else None,
            )
        ]
        close = next(
            (
                e
                for e in events
                if e.seq > accepted.seq and isinstance(e, SyscallEvent) and e.name == "close" and e.args.get("fd") == fd
            ),
            None,
        )
        if close is not None:
            before = [e for e in events if e.seq < close.seq and e.tid == close.tid and isinstance(e, SyscallEvent)]
            just_after = before[-1] if before and before[-1].name in ACCEPT_CALLS and before[-1].ret else None
            place = _user_path(close.python, 1) if close.python else None
            made.append(c.ClosedLater(process, fd, close.seq, just_after.seq if just_after else None, python, place))
        if grows is not None:
            made.append(grows)
            grows = None  # said once, in the first finding of the process
        findings.append(
            Finding(
                "leaked-connection",
                f"#{accepted.seq} {process} kept an accepted connection open",
                accepted.seq,
                tuple(made),
                (CONNECTION_LESSON,),
                (process,),
            )
        )
    return findings


def _growing_descriptors(index: TraceIndex, process: str) -> c.DescriptorsGrow | None:
    """Three or more accepts whose numbers grow while none of them is closed: the table really grows."""
    held: dict[int, int] = {}
    run: list[tuple[int, int]] = []
    longest: list[tuple[int, int]] = []  # at its peak: the closes at the end empty the table again
    for event in index.events_of(process):
        if isinstance(event, SyscallEvent) and event.name == "close" and event.args.get("fd") in held:
            del held[event.args["fd"]]
            run = [(seq, fd) for seq, fd in run if fd in held]
        elif succeeded(event, ACCEPT_CALLS):
            assert isinstance(event, SyscallEvent) and event.ret is not None
            if run and event.ret <= run[-1][1]:
                run = []
            held[event.ret] = event.seq
            run.append((event.seq, event.ret))
            longest = max(longest, run, key=len)
    if len(longest) < 3:
        return None
    return c.DescriptorsGrow(process, tuple(fd for _, fd in longest), tuple(seq for seq, _ in longest))


def _listeners_closed_by_exec(index: TraceIndex, process: str) -> list[Finding]:
    """An inherited listening socket that an execve closed (it was close-on-exec): held no longer, no close needed."""
    inherited = inherited_listeners(index, process)
    findings = []
    for fd, end in descriptor_ends(index, process, inherited).items():
        if not isinstance(end.event, ExecEvent):
            continue
        program = escape_controls(end.event.filename)
        findings.append(
            Finding(
                "closed-on-exec",
                f"#{end.event.seq} {process}'s execve closed the listening socket it inherited",
                end.event.seq,
                (c.ListenerClosedByExec(process, fd, inherited[fd], end.event.seq, program),),
                (CLOSE_ON_EXEC_LESSON,),
                (process,),
            )
        )
    return findings


def _accepted_on(index: TraceIndex, process: str) -> set[int]:
    """The descriptors the process called accept on: listening sockets it uses, not ones it forgot."""
    return {
        e.args["fd"]
        for e in index.events_of(process)
        if isinstance(e, SyscallEvent) and e.name in ACCEPT_CALLS and isinstance(e.args.get("fd"), int)
    }


def _did_work(index: TraceIndex, process: str) -> bool:
    return any(isinstance(e, SyscallEvent) and e.name not in _SPAWNS | _ENDS for e in index.events_of(process))


#: Set (to anything but "" or "0") to make an unverifiable claim an error, not a withheld sentence: the test
#: suite sets it, so that a claim the trace does not support fails the test that made it.
STRICT_ENV = "HARNESS_STRICT_CLAIMS"


def explain(trace: Trace, *, strict: bool | None = None) -> list[Finding]:
    """Every account the trace supports, in the order of the events they are about; every claim verified.

    A claim the trace does not support is withheld and said to be (a fault of
    the harness's, never shown as true); with ``strict`` (default: the
    ``HARNESS_STRICT_CLAIMS`` environment variable) it raises :class:`ClaimRefuted`.
    """
    index = TraceIndex(trace)
    findings: list[Finding] = []
    findings.extend(_explain_interruption(trace, index, account) for account in interruptions(index))
    findings.extend(_explain_children(trace, index))
    findings.extend(_explain_descriptors(trace, index))
    findings.sort(key=lambda finding: finding.at)
    if strict is None:
        strict = os.environ.get(STRICT_ENV, "") not in ("", "0")
    verifier = Verifier(trace, index)
    return _teach_once([verified(verifier, finding, strict) for finding in findings])


def verified(verifier: Verifier, finding: Finding, strict: bool) -> Finding:
    """The finding with each claim the trace does not support taken out, and named as withheld."""
    kept: list[c.Claim] = []
    withheld: list[str] = []
    for claim in finding.claims:
        problem = verifier.check(claim)
        if problem is None:
            kept.append(claim)
        elif strict:
            raise ClaimRefuted(f"{finding.title}: {claim.name} {claim.evidence}: {problem}")
        else:
            withheld.append(f"{claim.name} {list(claim.evidence)}: {problem}")
    return replace(finding, claims=tuple(kept), withheld=tuple(withheld))


def _teach_once(findings: list[Finding]) -> list[Finding]:
    """Keep each lesson in the first finding that needs it: the later ones state only their facts."""
    taught: set[str] = set()
    result = []
    for finding in findings:
        lessons = tuple(lesson for lesson in finding.lessons if lesson not in taught)
        taught.update(finding.lessons)
        result.append(replace(finding, lessons=lessons))
    return result


def render(findings: Sequence[Finding], *, format: Format = "text", width: int = 100) -> str:
    """Findings as plain text for a terminal, as Markdown for an issue or a lesson, or as JSON with their claims."""
    if format == "json":
        return json.dumps([finding.to_json() for finding in findings], indent=2) + "\n"
    if not findings:
        return "Nothing to explain: no interrupted call, no child process and no leaked descriptor in this trace.\n"
    blocks = []
    for finding in findings:
        # Each sentence escaped before it is wrapped: a name from the tracee's memory (a frame, a path) can
        # hold a newline, which must not become a line of its own, nor an escape sequence reach a terminal.
        details = [escape_controls(detail) for detail in finding.details]
        if format == "markdown":
            body = "\n".join(f"- {detail}" for detail in details)
            blocks.append(f"### {escape_controls(finding.title)}\n\n{body}\n")
        else:
            body = "\n".join(
                textwrap.fill(detail, width=width, initial_indent="  ", subsequent_indent="  ", break_on_hyphens=False)
                for detail in details
            )
            blocks.append(f"{escape_controls(finding.title)}\n{body}\n")
    return "\n".join(blocks)
