"""Explain what each process did with what it made: the children it collected or not, the descriptors it kept.

Accounts of a process, not of a call: each child's end (reaped, a zombie
until its parent's exit, reaped by the kernel, re-parented) and each
descriptor held past its use (an accepted connection, an inherited
listening socket, or one an ``execve`` closed).  The facts are in
:mod:`harness.analysis.facts`; this module words them as claims, with the
lessons (fork(2), wait(2), socket(7)) that fit them.
"""

from __future__ import annotations

from harness.analysis import claims as c
from harness.analysis.explain_interrupted import disposition_claim, duration_words
from harness.analysis.facts import (
    ACCEPT_CALLS,
    ChildFate,
    TraceIndex,
    child_fates,
    closes_the_listening_socket,
    descriptor_ends,
    disposition_at,
    inherited_listeners,
    next_accept_after,
    no_accepted_descriptor_left_open,
    runs_cpython,
    succeeded,
)
from harness.analysis.finding import Finding
from harness.model.events import Event, ExecEvent, SignalEvent, SyscallEvent
from harness.model.frames import Stack, summary
from harness.model.roles import process_role
from harness.model.strace_format import escape_controls
from harness.model.syscalls import calls_that
from harness.model.trace import Trace

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


def _user_path(stack: Stack, limit: int = 4) -> str:
    """The program's own frames of a stack, innermost first: the code path that made a call."""
    own = [str(frame) for frame in stack if not frame.in_stdlib][:limit]
    return " <- ".join(own) if own else summary(stack)


def _between(earlier: Event, later: Event) -> str | None:
    """The time from one event to a later one, in words; None when the trace holds no times."""
    if earlier.time is None or later.time is None:
        return None
    return duration_words(max(later.time - earlier.time, 0.0))


# -- children ----------------------------------------------------------------------


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
    described = disposition_claim(process, "SIGCHLD", signal.seq, disposition).describe()
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
        described = disposition_claim(process, "SIGCHLD", child_exit.seq, disposition).describe()
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


def explain_children(trace: Trace, index: TraceIndex) -> list[Finding]:
    """The end of every child of every process: reaped, a zombie, reaped by the kernel, or re-parented."""
    return [
        _explain_child(index, process, fate)
        for process in dict.fromkeys(process_role(role) for role in trace.roles())
        for fate in child_fates(index, process)
    ]


# -- descriptors -------------------------------------------------------------------


def explain_descriptors(trace: Trace, index: TraceIndex) -> list[Finding]:
    """Every accepted connection kept past the next accept, and every inherited listening socket kept or closed."""
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
