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
    disposition_at,
    no_accepted_descriptor_left_open,
)
from harness.model import kernel
from harness.model.events import Event, ExecEvent, ExitEvent, SignalEvent, SyscallEvent
from harness.model.roles import parent_role, process_role
from harness.model.strace_format import format_args, format_result
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
UNREAPED_LESSON = (
    "A server that runs for long fills the process table this way; once it exits, its zombies are re-parented "
    "and reaped by the subreaper or init."
)
_LESSONS = frozenset({ZOMBIE_LESSON, UNREAPED_LESSON, CONNECTION_LESSON, LISTENER_LESSON})


#: What a finding is about: an interrupted call, a child's fate, or a descriptor kept open.
FindingKind = Literal["interrupted", "zombie", "auto-reaped", "re-parented", "leaked-connection", "kept-listener"]
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

#: Signals whose default action is to ignore them (signal(7), "Ign").
_IGNORED_BY_DEFAULT = frozenset({"SIGCHLD", "SIGURG", "SIGWINCH"})


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


def _call_text(event: SyscallEvent) -> str:
    return f"{event.name}({format_args(event.name, event.args)}){format_result(event)}"


def _sender(trace: Trace, signal: SignalEvent) -> str:
    info = signal.siginfo
    pid = info.get("si_pid")
    role = trace.role_of_pid(pid) if isinstance(pid, int) else None
    who = f"{role} (pid {pid})" if role else f"pid {pid}" if pid else "the kernel"
    code = info.get("si_code")
    if code == "CLD_EXITED":
        return f"sent because {who} exited with status {info.get('si_status')}"
    if code in kernel.CLD_STATUS_IS_SIGNAL:
        return f"sent because {who} was {str(code).removeprefix('CLD_').lower()} by {info.get('si_status')}"
    if code in kernel.SI_CODES_WITH_SENDER:
        return f"sent by {who} with kill ({code})"
    return f"si_code {code}"


def _explain_interruption(trace: Trace, index: TraceIndex, events: Sequence[Event], position: int) -> Finding:
    call = events[position]
    assert isinstance(call, SyscallEvent) and call.errno is not None
    code = call.errno
    process = process_role(call.role)
    python = _is_python(index, process)
    details: list[str] = [
        f"{call.role} was blocked in {call.name} (entered at #{call.enter_seq}); at #{call.seq} the kernel stopped it "
        f"with {code}, a code only a tracer sees: {kernel.RESTART_RULES.get(code, kernel.errno_text(code))}."
    ]
    seqs = [call.seq]
    roles = {call.role}
    rest = events[position + 1 :]
    signal = next((e for e in rest if isinstance(e, SignalEvent)), None)
    if signal is not None:
        seqs.append(signal.seq)
        details.append(f"The signal was {signal.name} at #{signal.seq}, {_sender(trace, signal)}.")
        pid = signal.siginfo.get("si_pid")
        sender = trace.role_of_pid(pid) if isinstance(pid, int) else None
        if sender:
            roles.add(sender)
        disposition = disposition_at(index, process, signal.name, call.seq)
        if disposition.evidence is not None:
            seqs.append(disposition.evidence.seq)
        details.append(f"At that moment {disposition.describe(signal.name)}.")
        handler = disposition.handler == "handler"
        expected = kernel.restart_outcome(code, handler=handler, sa_restart=disposition.sa_restart)
    else:
        details.append("No signal delivery follows it in the trace (the task ended, or the trace stops).")
        expected = None

    outcome, evidence = _observed_outcome(call, rest)
    if evidence is not None:
        seqs.append(evidence.seq)
    if outcome == "EINTR":
        details.append(
            f"So the kernel turned {code} into EINTR: rt_sigreturn at #{evidence.seq if evidence else '?'} "
            f"returned -EINTR, which is what {call.name} returned to the program."
        )
        details.append(_after_eintr(call, rest, python))
    elif outcome == "restart":
        via = (
            f"rt_sigreturn at #{evidence.seq} returned the call's own number (the kernel put orig_ax back)"
            if isinstance(evidence, SyscallEvent) and evidence.name == "rt_sigreturn"
            else "no handler ran"
        )
        again = next((e for e in rest if isinstance(e, SyscallEvent) and e.name == call.name), None)
        entered = f" and {call.name} was entered again at #{again.enter_seq}" if again else ""
        details.append(f"So the call was restarted transparently: {via}{entered}; the program never saw it fail.")
        if signal is not None and signal.name in _IGNORED_BY_DEFAULT and via == "no handler ran":
            details.append(
                f"{signal.name}'s default action is to ignore it (signal(7)); a tracer still sees it delivered, "
                "which is the only reason the call stopped at all."
            )
        if again is not None:
            seqs.append(again.seq)
    elif outcome == "restart_syscall":
        details.append(
            f"So the call resumed through restart_syscall at #{evidence.seq if evidence else '?'}, "
            "with the time it had left; the program never saw it fail."
        )
    else:
        details.append("What followed is not in the trace: the task ended before the call's fate was decided.")
    if expected is not None and outcome is not None and outcome != expected:
        details.append(
            f"(The rule predicts {expected} for this disposition; the trace shows {outcome} — the disposition "
            "may have been set before the trace began.)"
        )
    verb = {"EINTR": "failed with EINTR", "restart": "was restarted", "restart_syscall": "resumed"}.get(
        outcome or "", "was interrupted"
    )
    title = f"#{call.seq} {call.role}: {call.name} {verb} ({code}"
    title += f", {signal.name})" if signal else ")"
    return Finding("interrupted", title, tuple(details), tuple(sorted(set(seqs))), tuple(sorted(roles)))


def _observed_outcome(call: SyscallEvent, rest: Sequence[Event]) -> tuple[kernel.RestartOutcome | None, Event | None]:
    """What the kernel did, from the task's next calls: rt_sigreturn's result, or the call re-entered."""
    for event in rest:
        if not isinstance(event, SyscallEvent):
            continue
        if event.name == "rt_sigreturn":
            return ("EINTR" if event.errno == "EINTR" else "restart"), event
        if event.name == "restart_syscall":
            return "restart_syscall", event
        if event.name == call.name and event.enter_seq > call.seq:
            return "restart", None  # entered again with no rt_sigreturn between: no handler ran
    return None, None


def _after_eintr(call: SyscallEvent, rest: Sequence[Event], python: bool) -> str:
    """What the program did with the EINTR: retried (PEP 475, a C loop), or stopped."""
    after = [e for e in rest if isinstance(e, SyscallEvent | ExitEvent)]
    sigreturn = next((i for i, e in enumerate(after) if isinstance(e, SyscallEvent) and e.name == "rt_sigreturn"), 0)
    between: list[str] = []
    for event in after[sigreturn + 1 :]:
        if isinstance(event, ExitEvent):
            how = "killed" if event.signal else "exited"
            return f"The program did not call {call.name} again: the task ended ({how})."
        if event.name == call.name:
            plural = "s" if len(between) != 1 else ""
            names = ", ".join(dict.fromkeys(between))
            other = f" after {len(between)} other traced call{plural} ({names})" if between else ""
            if python:
                return (
                    f"The program then called {call.name} again at #{event.enter_seq}{other}: CPython 3.5+ retries a "
                    "call interrupted by EINTR once the Python signal handler has run (PEP 475); its handler's "
                    "wait4 calls come after rt_sigreturn because CPython's C-level handler only records the signal. "
                    "Python 2 would have raised socket.error (EINTR) here instead."
                )
            return (
                f"The program then called {call.name} again at #{event.enter_seq}{other}: it handles EINTR itself, "
                "as a C accept loop that checks errno == EINTR and continues does."
            )
        between.append(event.name)
    return f"The program never called {call.name} again in the trace."


# -- processes ---------------------------------------------------------------------


def _events(count: int) -> str:
    return f"{count} event{'s' if count != 1 else ''}"


def _explain_child(process: str, fate: ChildFate) -> Finding:
    spawn, child_exit, parent_exit, disposition = fate.spawn, fate.exit, fate.parent_exit, fate.disposition
    role = spawn.child_role
    child = f"{role} (pid {spawn.child_pid})"
    status = f"signal {child_exit.signal}" if child_exit.signal else f"status {child_exit.code}"
    roles = (process, role)
    if fate.outcome == "re-parented":
        assert parent_exit is not None
        return Finding(
            "re-parented",
            f"#{child_exit.seq} {role} outlived its parent {process}",
            (
                f"{process} exited at #{parent_exit.seq} while {child} still ran; the kernel re-parented "
                f"{role} to the nearest child subreaper (the harness, during a run) or to "
                "init, which reaped it when it exited "
                f"at #{child_exit.seq} with {status}. A double-fork daemon does this on purpose: its "
                "grandchild no longer belongs to the process that started it.",
            ),
            (spawn.seq, parent_exit.seq, child_exit.seq),
            roles,
        )
    if fate.outcome == "reaped":
        reap = fate.reap
        assert reap is not None
        return Finding(
            "zombie",
            f"#{child_exit.seq} {role} was a zombie until #{reap.seq}",
            (
                f"{child} exited at #{child_exit.seq} with {status}; {process} reaped it with "
                f"{reap.name} at #{reap.seq} ({_events(reap.seq - child_exit.seq)} later).",
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
    return Finding(
        "zombie",
        f"#{child_exit.seq} {role} was never reaped by {process}",
        (
            f"{child} exited at #{child_exit.seq} with {status} and stayed a zombie, holding its pid "
            f"and exit status, {until}: {process} never collected it with a wait. "
            + (
                "SIGCHLD kept its default disposition, SIG_DFL, whose action is to ignore the signal "
                "but which, unlike SIG_IGN, does not ask the kernel to reap children."
                if disposition.handler == "SIG_DFL"
                else f"{disposition.describe('SIGCHLD')}."
            ),
            ZOMBIE_LESSON,
            UNREAPED_LESSON,
        ),
        (child_exit.seq,) + ((parent_exit.seq,) if parent_exit else ()),
        roles,
    )


def _explain_children(trace: Trace, index: TraceIndex) -> list[Finding]:
    return [
        _explain_child(process, fate)
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
        if not _did_work(index, process):
            continue  # a process that only forked and exited (a daemon's middle one) holds nothing for long
        for violation in closes_the_listening_socket(index, process):
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


def _did_work(index: TraceIndex, process: str) -> bool:
    quick = {"clone", "clone3", "fork", "vfork", "exit", "exit_group"}
    return any(isinstance(e, SyscallEvent) and e.name not in quick for e in index.events_of(process))


def explain(trace: Trace) -> list[Finding]:
    """Every account the trace supports, in the order of the events they are about."""
    index = TraceIndex(trace)
    findings: list[Finding] = []
    by_task: dict[int, list[Event]] = {}
    for event in trace:
        by_task.setdefault(event.tid, []).append(event)
    for events in by_task.values():
        for position, event in enumerate(events):
            if isinstance(event, SyscallEvent) and kernel.is_restart_code(event.errno):
                findings.append(_explain_interruption(trace, index, events, position))
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
            blocks.append(f"{finding.title}\n{body}\n")
    return "\n".join(blocks)
