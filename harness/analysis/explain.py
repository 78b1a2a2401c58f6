"""Explain a trace in words: interrupted calls and restarts, zombies and re-parenting, leaked descriptors.

Every account is tied to the events that show it (their seq numbers and
roles) and is derived from the trace's own evidence: the disposition in
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

import os
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, get_args

from harness.analysis.facts import (
    ChildFate,
    TraceIndex,
    child_fates,
    closes_the_listening_socket,
    descriptor_ends,
    disposition_at,
    inherited_listeners,
    next_accept_after,
    no_accepted_descriptor_left_open,
)
from harness.analysis.interruptions import Interruption, interruptions
from harness.model import kernel
from harness.model.events import Event, ExecEvent, ExitEvent, SignalEvent, SyscallEvent
from harness.model.frames import Frame, Stack, summary
from harness.model.roles import parent_role, process_role
from harness.model.strace_format import escape_controls, format_args, format_result
from harness.model.trace import Trace

#: The lessons behind the findings (fork(2), wait(2), signal(7), socket(7)), said once per explanation.
ZOMBIE_LESSON = (
    "An exited process does not vanish: the kernel keeps its pid and exit status (a zombie) until its parent "
    "collects them with a wait, and tells the parent with SIGCHLD that there is something to collect."
)
CONNECTION_LESSON = (
    "After fork the connection has two references, the parent's and the child's; the kernel shuts a TCP "
    "connection down (sends FIN) only when the last one is closed. With the parent's copy open, the child's close "
    "does not end the connection, and the parent's descriptor table grows with every client until it hits the "
    "limit (EMFILE)."
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
UNREAPED_LESSON = (
    "A server that runs for long fills the process table this way; once it exits, its zombies are re-parented "
    "and reaped by the subreaper or init."
)
_LESSONS = frozenset({ZOMBIE_LESSON, UNREAPED_LESSON, CONNECTION_LESSON, LISTENER_LESSON, CLOSE_ON_EXEC_LESSON})


#: What a finding is about: an interrupted call, a child's fate, or a descriptor kept open.
FindingKind = Literal[
    "interrupted", "zombie", "auto-reaped", "re-parented", "leaked-connection", "kept-listener", "closed-on-exec"
]
#: How :func:`render` writes findings.
Format = Literal["text", "markdown"]
FORMATS: tuple[Format, ...] = get_args(Format)


@dataclass(frozen=True, slots=True)
class Finding:
    """One account: a title, the sentences that explain it, and the events and roles it is about."""

    kind: FindingKind
    title: str
    details: tuple[str, ...]
    seqs: tuple[int, ...]
    roles: tuple[str, ...]


# -- interrupted calls -------------------------------------------------------------

#: The caveat every account of a tracer-only interruption carries, whichever way the call resumed.
TRACER_ONLY = (
    "This interruption happens only because the process is traced: {signal} is ignored here ({why}), and the "
    "kernel discards an ignored signal when it is sent, without waking anyone, unless the task is ptraced "
    "(kernel/signal.c, sig_ignored). Untraced, the call would have gone on blocking undisturbed."
)


def _is_python(index: TraceIndex, process: str) -> bool:
    """Whether the process runs CPython, judged by the program its (or its ancestors') exec started."""
    while True:
        execs = [e for e in index.events_of(process) if isinstance(e, ExecEvent)]
        if execs:
            return os.path.basename(execs[-1].filename).startswith("python")
        parent = parent_role(process)
        if parent is None:
            return False
        process = parent


def _place(frame: Frame) -> str:
    return f"{frame.file.rsplit('/', 1)[-1]}:{frame.line}"


def _at(stack: Stack | None, before: str = "") -> str:
    """`` at FILE:LINE in FUNCTION``: the program's frame (after the library's, when that made the call); or ""."""
    return f"{before} at {summary(stack)}" if stack else ""


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


def _call_text(event: SyscallEvent) -> str:
    return f"{event.name}({format_args(event.name, event.args)}){format_result(event)}"


def _sender(trace: Trace, signal: SignalEvent) -> str:
    info = signal.siginfo
    pid = info.get("si_pid")
    role = trace.role_of_pid(pid) if isinstance(pid, int) else None
    who = f"{role} (pid {pid})" if role else f"pid {pid}" if pid else "the kernel"
    code = info.get("si_code")
    if signal.injected:
        return "sent by the harness (--inject)"
    if code == "CLD_EXITED":
        return f"sent because {who} exited with status {info.get('si_status')}"
    if code in kernel.CLD_STATUS_IS_SIGNAL:
        return f"sent because {who} was {str(code).removeprefix('CLD_').lower()} by {info.get('si_status')}"
    if code in kernel.SI_CODES_WITH_SENDER:
        return f"sent by {who} with kill ({code})"
    return f"si_code {code}"


#: An observed outcome in the words of kernel.RESTART_OUTCOMES, to compare the trace with the rule.
_AS_RULE: dict[str, kernel.RestartOutcome] = {
    "EINTR": "EINTR",
    "restarted": "restart",
    "restart_syscall": "restart_syscall",
}


def _explain_interruption(trace: Trace, index: TraceIndex, account: Interruption) -> Finding:
    """One interruption told from its account: every sentence names the events it rests on, or says it infers."""
    call, signal, code, outcome = account.call, account.signal, account.code, account.outcome
    name = account.call_name or "a call the tracer could not name"
    process = process_role(account.task)
    details: list[str] = []
    roles = {account.task}
    if call is not None:
        blocked = f" for {duration_words(call.duration)}" if call.duration is not None else ""
        details.append(
            f"{call.role} was blocked in {call.name} (entered at #{call.enter_seq}{_at(call.python, ',')}){blocked}; "
            f"at #{call.seq} the kernel stopped it with {code}, a code only a tracer sees: "
            f"{kernel.RESTART_RULES.get(code or '', code)}."
        )
    elif account.call_name is not None:
        rule = f": {kernel.RESTART_RULES[code]}" if code is not None and code in kernel.RESTART_RULES else ""
        details.append(
            f"{account.task} was in {account.call_name}, a call this trace does not record; the tracer read it "
            f"from the registers at the signal's delivery (orig_rax), with {code or 'no restart code'}{rule}."
        )
    else:
        details.append(
            f"{account.task} was in a call this trace does not record (pause, epoll_wait, futex, a sleep...), "
            "and the trace does not say which: only rt_sigreturn's -EINTR shows that a signal interrupted it. "
            "Trace more calls (--syscalls) to see it."
        )
    if signal is not None:
        details.append(f"The signal was {signal.name} at #{signal.seq}, {_sender(trace, signal)}.")
        if account.sender:
            roles.add(account.sender)
    elif call is not None:
        details.append("No signal delivery follows it in the trace (the task ended, or the trace stops).")
    if account.disposition is not None and signal is not None:
        details.append(f"At that moment {account.disposition.describe(signal.name)}.")
    evidence = account.evidence
    at = f"#{evidence.seq}" if evidence is not None else "?"
    if outcome == "EINTR":
        details.append(
            f"So the program saw {name} fail with EINTR: rt_sigreturn at {at} returned -EINTR"
            + (f", which the kernel made of {code}." if code else ".")
        )
        if call is not None:
            details.append(_after_eintr(call, index, account, _is_python(index, process)))
    elif outcome == "restarted":
        via = (
            f"rt_sigreturn at {at} returned the call's own number (the kernel put orig_ax back)"
            if isinstance(evidence, SyscallEvent) and evidence.name == "rt_sigreturn"
            else f"no handler ran, and {name} was entered again at #{evidence.enter_seq}"
            if isinstance(evidence, SyscallEvent)
            else "no handler ran"
        )
        again = _entered_again(index, account)
        entered = (
            f" and {name} was entered again at #{again.enter_seq}" if again is not None and again != evidence else ""
        )
        details.append(f"So the call was restarted transparently: {via}{entered}; the program never saw it fail.")
    elif outcome == "restart_syscall":
        details.append(
            f"So the call resumed through restart_syscall at {at}, with the time it had left; "
            "the program never saw it fail."
        )
    elif outcome == "died":
        how = f"was killed by {evidence.signal}" if isinstance(evidence, ExitEvent) and evidence.signal else "ended"
        details.append(f"The task {how} at {at} before the call's fate was decided: it never returned.")
    else:
        details.append("What followed is not in the trace: it ends before the call's fate shows.")
    if account.tracer_only and signal is not None and account.disposition is not None:
        why = "SIG_IGN" if account.disposition.handler == "SIG_IGN" else "its default action is to ignore it, signal(7)"
        details.append(TRACER_ONLY.format(signal=signal.name, why=why))
    expected = account.expected
    seen = _AS_RULE.get(outcome)
    if expected is not None and seen is not None and seen != expected:
        details.append(
            f"(The rule predicts {expected} for this disposition; the trace shows {seen}: the disposition may have "
            "been set before the trace began, or by a call the trace does not record.)"
        )
    verb = {
        "EINTR": "failed with EINTR",
        "restarted": "was restarted",
        "restart_syscall": "resumed",
        "died": "never returned",
    }.get(outcome, "was interrupted")
    anchor = call or signal or evidence
    seq = anchor.seq if anchor is not None else 0
    label = f" ({', '.join(x for x in (code, signal.name if signal else None) if x)})" if code or signal else ""
    artefact = " [tracer artefact]" if account.tracer_only else ""
    title = f"#{seq} {account.task}: {name} {verb}{label}{artefact}"
    return Finding("interrupted", title, tuple(details), account.seqs, tuple(sorted(roles)))


def _entered_again(index: TraceIndex, account: Interruption) -> SyscallEvent | None:
    """The same call entered again by the task after the outcome's evidence."""
    evidence = account.evidence
    if evidence is None:
        return None
    for event in index.events_of(process_role(account.task)):
        if not isinstance(event, SyscallEvent) or event.tid != evidence.tid:
            continue
        if event.enter_seq > evidence.seq and event.name == account.call_name:
            return event
    return None


def _after_eintr(call: SyscallEvent, index: TraceIndex, account: Interruption, python: bool) -> str:
    """What the program did with the EINTR: called again, or stopped; with the causes that fit, and only those."""
    events = [e for e in index.events_of(process_role(call.role)) if e.tid == call.tid]
    start = account.evidence.seq if account.evidence is not None else call.seq
    between: list[str] = []
    for event in events:
        if event.seq <= start or not isinstance(event, SyscallEvent | ExitEvent):
            continue
        if isinstance(event, ExitEvent):
            how = f"was killed by {event.signal}" if event.signal else f"exited with {event.code}"
            return f"The program did not call {call.name} again: the task {how} at #{event.seq}."
        if event.name == call.name:
            plural = "s" if len(between) != 1 else ""
            names = ", ".join(dict.fromkeys(between))
            other = f" after {len(between)} other traced call{plural} ({names})" if between else ""
            again = f"The program then called {call.name} again at #{event.enter_seq}{other}."
            if call.python and event.python:
                return f"{again} {_retry_by_frames(call, event, events, start)}"
            if python:
                return (
                    f"{again} Two causes fit, and the trace cannot tell them apart: CPython 3.5+ retries a call "
                    "made through its own wrappers (socket.accept) once the Python signal handlers have run "
                    "(PEP 475), so the program never sees the EINTR; or the call was made outside them (ctypes, "
                    "a C extension) and the program's own loop saw EINTR and called again. The program's output "
                    "(an 'Interrupted system call' message) or its source tells which."
                )
            return f"{again} The EINTR reached the program, which called again: it handles EINTR itself."
        between.append(event.name)
    return f"The program never called {call.name} again in the trace."


def _retry_by_frames(call: SyscallEvent, again: SyscallEvent, events: Sequence[object], start: int) -> str:
    """Who called again, from the two entries' Python stacks; and which handler ran between, from its frames."""
    assert call.python and again.python
    ran = [
        (event, frames)
        for event in events
        if isinstance(event, SyscallEvent) and start < event.seq < again.enter_seq
        for frames in [_handler_frames(event.python, call.python)]
        if frames
    ]
    handler = ""
    if ran:
        outermost = ran[0][1][-1]
        seqs = ", ".join(f"#{event.seq}" for event, _ in ran)
        names = ", ".join(dict.fromkeys(event.name for event, _ in ran))
        handler = (
            f" The Python handler {outermost.function} ({_place(outermost)}) ran in between, on top of the interrupted "
            f"call's frames: it made {names} at {seqs}."
        )
    innermost = again.python[0]
    if again.python == call.python and innermost.in_stdlib:
        return (
            f"Both entries come from the same place in the standard library, {summary(call.python)}: the "
            f"library's call retried it itself once the Python handlers had run (PEP 475), and the program never "
            f"saw the EINTR.{handler}"
        )
    if not innermost.in_stdlib:
        return (
            f"The program's own code made the call again, at {innermost}{_caller(again.python)}: no "
            "standard-library frame stands between that code and the call, so no library wrapper retried it; "
            "the program's own loop saw the EINTR and called again, as Python 2's socket.accept made every program "
            "do (inferred from the frames: a C built-in called there directly, such as os.waitpid, would look the "
            f"same).{handler}"
        )
    return f"It was entered again from {summary(again.python)}, first from {summary(call.python)}.{handler}"


def _caller(stack: Stack) -> str:
    return f", called from {stack[1]}" if len(stack) > 1 else ""


# -- processes ---------------------------------------------------------------------


def _events(count: int) -> str:
    return f"{count} event{'s' if count != 1 else ''}"


def _handler_without_reaping(index: TraceIndex, process: str, fate: ChildFate) -> str | None:
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
    return (
        f"Its SIGCHLD was delivered to {signal.role} at #{signal.seq}, where {disposition.describe('SIGCHLD')}: the "
        f"handler ran, yet no wait collected {fate.spawn.child_role} before {process} accepted a connection at "
        f"#{accept.seq}. The handler does not reap (or not this child): the zombie outlives the signal meant to "
        "announce it ('reaped before the next accept' fails; 'no zombie left' may still hold)."
    )


def _explain_child(index: TraceIndex, process: str, fate: ChildFate) -> Finding:
    spawn, child_exit, parent_exit, disposition = fate.spawn, fate.exit, fate.parent_exit, fate.disposition
    role = spawn.child_role
    child = f"{role} (pid {spawn.child_pid})"
    # A killed process did not exit: say how it ended, "killed by SIGTERM", never "exited with signal SIGTERM".
    ended = (
        f"was killed by {child_exit.signal} at #{child_exit.seq}"
        if child_exit.signal
        else f"exited at #{child_exit.seq} with status {child_exit.code}"
    )
    roles = (process, role)
    if fate.outcome == "re-parented":
        assert parent_exit is not None
        return Finding(
            "re-parented",
            f"#{child_exit.seq} {role} outlived its parent {process}",
            (
                f"{process} exited at #{parent_exit.seq} while {child} still ran; the kernel re-parented "
                f"{role} to the nearest child subreaper (the harness, during a run) or to "
                f"init, which reaped it when it ended: it {ended}. A double-fork daemon does this on purpose: its "
                "grandchild no longer belongs to the process that started it.",
            ),
            (spawn.seq, parent_exit.seq, child_exit.seq),
            roles,
        )
    late = _handler_without_reaping(index, process, fate)
    if fate.outcome == "reaped":
        reap = fate.reap
        assert reap is not None
        lived = _between(child_exit, reap)
        return Finding(
            "zombie",
            f"#{child_exit.seq} {role} was a zombie until #{reap.seq}" + (f" ({lived})" if lived else ""),
            (
                f"{child} {ended}; {process} reaped it with "
                f"{reap.name} at #{reap.seq} ({_events(reap.seq - child_exit.seq)} later"
                + (f", {lived} after its exit" if lived else "")
                + ")"
                + (f", from {_user_path(reap.python)}." if reap.python else "."),
                *((late,) if late else ()),
                ZOMBIE_LESSON,
            ),
            (child_exit.seq, reap.seq),
            roles,
        )
    if fate.outcome == "auto-reaped":
        return Finding(
            "auto-reaped",
            f"#{child_exit.seq} {role} was reaped by the kernel (SIGCHLD ignored)",
            (
                f"{child} exited at #{child_exit.seq}; {disposition.describe('SIGCHLD')}, so the "
                "kernel reaped it at once: no zombie, no SIGCHLD, and a later wait fails with ECHILD.",
            ),
            (child_exit.seq,),
            roles,
        )
    until = f"when {process} exited at #{parent_exit.seq}" if parent_exit else "at the end of the trace"
    lived = _between(child_exit, parent_exit) if parent_exit else None
    until += f", {lived} later" if lived else ""
    return Finding(
        "zombie",
        f"#{child_exit.seq} {role} was never reaped by {process}",
        (
            f"{child} {ended} and stayed a zombie, holding its pid "
            f"and exit status, {until}: {process} never collected it with a wait. "
            + (
                "SIGCHLD kept its default disposition, SIG_DFL, whose action is to ignore the signal "
                "but which, unlike SIG_IGN, does not ask the kernel to reap children."
                if disposition.handler == "SIG_DFL"
                else f"{disposition.describe('SIGCHLD')}."
            ),
            *((late,) if late else ()),
            ZOMBIE_LESSON,
            UNREAPED_LESSON,
        ),
        (child_exit.seq,) + ((parent_exit.seq,) if parent_exit else ()),
        roles,
    )


def _explain_children(trace: Trace, index: TraceIndex) -> list[Finding]:
    return [
        _explain_child(index, process, fate)
        for process in dict.fromkeys(process_role(role) for role in trace.roles())
        for fate in child_fates(index, process)
    ]


def _explain_descriptors(trace: Trace, index: TraceIndex) -> list[Finding]:
    findings = []
    for process in dict.fromkeys(process_role(role) for role in trace.roles()):
        for violation in no_accepted_descriptor_left_open(index, process):
            findings.append(
                Finding(
                    "leaked-connection",
                    f"#{violation.events[0].seq} {process} kept an accepted connection open",
                    (
                        violation.message + ".",
                        CONNECTION_LESSON,
                    ),
                    tuple(event.seq for event in violation.events),
                    (process,),
                )
            )
        findings.extend(_listeners_closed_by_exec(index, process))  # whatever became of the process after
        if not _did_work(index, process):
            continue  # a process that only forked and exited (a daemon's middle one) holds nothing for long
        ended = index.exits.get(process)
        if ended is not None and ended.signal is not None:
            continue  # killed: it had no chance to close anything, and its death closed every descriptor it held
        serving = _accepted_on(index, process)
        for violation in closes_the_listening_socket(index, process):
            if violation.fd in serving:
                continue  # a pre-fork worker: accepting on the inherited listening socket is its job, not a leak
            findings.append(
                Finding(
                    "kept-listener",
                    f"{process} kept the listening socket it inherited",
                    (
                        violation.message + ".",
                        LISTENER_LESSON,
                    ),
                    tuple(event.seq for event in violation.events),
                    (process,),
                )
            )
    return findings


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
                (
                    f"{process} inherited the listening socket fd {fd} from {inherited[fd]}; its execve of {program} "
                    f"at #{end.event.seq} closed it: fd {fd} is not among the descriptors the new program holds "
                    "(read from /proc at the exec), so it was close-on-exec.",
                    CLOSE_ON_EXEC_LESSON,
                ),
                (end.event.seq,),
                (process,),
            )
        )
    return findings


def _accepted_on(index: TraceIndex, process: str) -> set[int]:
    """The descriptors the process called accept on: listening sockets it uses, not ones it forgot."""
    return {
        e.args["fd"]
        for e in index.events_of(process)
        if isinstance(e, SyscallEvent) and e.name in ("accept", "accept4") and isinstance(e.args.get("fd"), int)
    }


def _did_work(index: TraceIndex, process: str) -> bool:
    quick = {"clone", "clone3", "fork", "vfork", "exit", "exit_group"}
    return any(isinstance(e, SyscallEvent) and e.name not in quick for e in index.events_of(process))


def explain(trace: Trace) -> list[Finding]:
    """Every account the trace supports, in the order of the events they are about."""
    index = TraceIndex(trace)
    findings: list[Finding] = []
    findings.extend(_explain_interruption(trace, index, account) for account in interruptions(index))
    findings.extend(_explain_children(trace, index))
    findings.extend(_explain_descriptors(trace, index))
    findings.sort(key=lambda finding: min(finding.seqs, default=0))
    return _teach_once(findings)


def _teach_once(findings: list[Finding]) -> list[Finding]:
    """Keep each lesson in the first finding that needs it: the later ones state only their facts."""
    taught: set[str] = set()
    result = []
    for finding in findings:
        details = tuple(d for d in finding.details if d not in _LESSONS or d not in taught)
        taught.update(d for d in finding.details if d in _LESSONS)
        result.append(replace(finding, details=details))
    return result


def render(findings: Sequence[Finding], *, format: Format = "text", width: int = 100) -> str:
    """Findings as plain text for a terminal, or as Markdown for an issue or a lesson."""
    if not findings:
        return "Nothing to explain: no interrupted call, no child process and no leaked descriptor in this trace.\n"
    blocks = []
    for finding in findings:
        if format == "markdown":
            body = "\n".join(f"- {detail}" for detail in finding.details)
            blocks.append(f"### {finding.title}\n\n{body}\n")
        else:
            body = "\n".join(
                textwrap.fill(detail, width=width, initial_indent="  ", subsequent_indent="  ", break_on_hyphens=False)
                for detail in finding.details
            )
            blocks.append(f"{escape_controls(finding.title)}\n{escape_controls_but_newlines(body)}\n")
    return "\n".join(blocks)


def escape_controls_but_newlines(text: str) -> str:
    """Wrapped text for a terminal: its own line breaks kept, every other control character escaped."""
    return "\n".join(escape_controls(line) for line in text.split("\n"))
