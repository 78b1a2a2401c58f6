"""End-state facts derived from a whole trace: zombies, leaked connections, inherited listeners.

These are the lessons of a fork-per-connection server that no single step
can state, because they are about what did *not* happen before something
else did.  Each fact is a pure function from a trace and a role to the
violations it finds; an empty list means the fact holds.

Facts about processes that they rely on (fork(2), wait(2), signal(7),
close(2)):

* A child that exits stays a zombie until its parent collects it with a
  ``wait`` (here ``wait4`` or ``waitid`` returning its pid) — unless the
  parent set SIGCHLD to SIG_IGN or used SA_NOCLDWAIT, in which case the
  kernel reaps it at once, or the parent exits first, in which case it is
  re-parented to a subreaper or init, which reaps it.
* ``fork`` copies the descriptor table: each copy is a reference to the same
  open socket, and a TCP connection is shut down only when its last
  reference is closed.  The parent must close the connection it handed to a
  child; the child must close the listening socket it does not use.
* ``execve`` closes every descriptor marked close-on-exec (``SOCK_CLOEXEC``,
  ``O_CLOEXEC``, ``fcntl(F_SETFD, FD_CLOEXEC)``, accept4's ``SOCK_CLOEXEC``;
  CPython makes every descriptor so, PEP 446): the new program never holds
  it, so such an exec closes it as surely as ``close``.  Which ones an exec
  closed is read from its event (:attr:`ExecEvent.fds`, the descriptors left
  after it).  After that, the number is free: a later ``close`` of the same
  number (a dynamic loader's own fd 3) is another file's.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.analysis.descriptors import follow
from harness.model import kernel
from harness.model.events import Event, ExecEvent, ExitEvent, SpawnEvent, SyscallEvent
from harness.model.expectations import Fact
from harness.model.roles import parent_role, process_role
from harness.model.syscalls import calls_that
from harness.model.trace import Trace

#: The calls that take a connection, and those that reap a child (the catalogue's traits).
ACCEPT_CALLS = calls_that("accepts")
WAIT_CALLS = calls_that("reaps")


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a fact does not hold, with the events that show it."""

    role: str
    message: str
    events: tuple[Event, ...] = ()
    fd: int | None = field(default=None, compare=False)
    """The descriptor the violation is about, when it is about one (detail for readers, not identity)."""


class TraceIndex:
    """A trace's events grouped once by process, with each task's exit: keeps every fact linear."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.by_process: dict[str, list[Event]] = {}
        self.exits: dict[str, ExitEvent] = {}
        self.cache: dict[tuple[str, str], Any] = {}
        self.dispositions: dict[tuple[str, str, int], Disposition] = {}
        """Dispositions found by :func:`disposition_at`, by (process, signal, seq): each ancestor is read once."""
        self.spawns: dict[str, SpawnEvent] = {}
        """The event that created each task, by the new task's role."""
        for event in trace:
            self.by_process.setdefault(process_role(event.role), []).append(event)
            if isinstance(event, ExitEvent):
                self.exits[event.role] = event
            elif isinstance(event, SpawnEvent):
                self.spawns[event.child_role] = event

    def events_of(self, process: str) -> list[Event]:
        """Every event of every task of one process, in order."""
        return self.by_process.get(process, [])


@dataclass(frozen=True, slots=True)
class DescriptorEnd:
    """How a process stopped holding a descriptor: its own ``close``, or an exec that closed it (close-on-exec)."""

    fd: int
    event: SyscallEvent | ExecEvent

    @property
    def by_exec(self) -> bool:
        """The kernel closed it at an execve, the descriptor being close-on-exec."""
        return isinstance(self.event, ExecEvent)


def descriptor_ends(index: TraceIndex, process: str, fds: Iterable[int]) -> dict[int, DescriptorEnd]:
    """For each of ``fds``, held as ``process`` starts, the event that freed its last number, if it was freed.

    Numbers are followed as the kernel keeps them (:func:`descriptors.follow`):
    a descriptor dup'd to another number is held until both are freed, by a
    ``close``, a ``dup2`` onto it, a ``close_range``, or an exec that closed
    it (close-on-exec).
    """
    table = {fd: fd for fd in fds}
    ends: dict[int, DescriptorEnd] = {}
    for event in index.events_of(process):
        for _, first in follow(table, event):
            if first not in table.values() and isinstance(event, SyscallEvent | ExecEvent):
                ends[first] = DescriptorEnd(first, event)
    return ends


def freed_between(index: TraceIndex, fd: int, origin: str, since: int, process: str, at: int) -> Event | None:
    """The event that freed number ``fd`` on its way from ``origin`` at seq ``since`` to ``process`` at seq ``at``.

    ``fd`` referred to an open file in ``origin`` at ``since``; it refers to
    the same file in ``process`` at ``at`` when no event freed it in between:
    in ``origin`` until it created the next process down to ``process`` (the
    number copied with its table at the fork), and so on down, then in
    ``process`` until ``at``.  None when it still refers to it, or when
    ``process`` does not descend from ``origin`` (no path to follow).
    """
    chain = [process]
    while chain[-1] != origin:
        parent = parent_role(chain[-1])
        if parent is None:
            return None
        chain.append(parent)
    chain.reverse()
    start = since
    for hop, holder in enumerate(chain):
        end = index.spawns[chain[hop + 1]].seq if hop + 1 < len(chain) else at
        table = {fd: fd}
        events = index.events_of(holder)  # in seq order: only the span is walked, not the whole process
        for position in range(bisect.bisect_right(events, start, key=_seq), len(events)):
            event = events[position]
            if event.seq >= end:
                break
            if follow(table, event) and fd not in table:
                return event
        start = 0
    return None


def _seq(event: Event) -> int:
    return event.seq


def program_of(index: TraceIndex, process: str) -> str:
    """The program a process runs: its own last exec's, else its nearest ancestor's; "" when the trace shows none."""
    while True:
        execs = [e for e in index.events_of(process) if isinstance(e, ExecEvent)]
        if execs:
            return execs[-1].filename
        parent = parent_role(process)
        if parent is None:
            return ""
        process = parent


#: What a trace shows of the program a process runs, for what only CPython does (PEP 475's retries): CPython by its
#: executable's name (``python3``, ``python3.11``), another program, or none: no exec of the process or of an
#: ancestor is in the trace (an strace log traced without ``execve``, or cut after it).
ProgramKind = Literal["cpython", "other", "not shown"]


def program_kind(index: TraceIndex, process: str) -> ProgramKind:
    """What the trace shows the process runs: CPython, another program, or nothing to tell."""
    program = program_of(index, process)
    if not program:
        return "not shown"
    return "cpython" if os.path.basename(program).startswith("python") else "other"


def runs_cpython(index: TraceIndex, process: str) -> bool:
    """Whether the trace shows the process running CPython (by the name of the program it runs)."""
    return program_kind(index, process) == "cpython"


def succeeded(event: Event, name: str | frozenset[str]) -> bool:
    """Whether ``event`` is a call of that name (or one of those) that returned without an error."""
    names = {name} if isinstance(name, str) else name
    return isinstance(event, SyscallEvent) and event.name in names and event.errno is None and event.ret is not None


# -- dispositions -----------------------------------------------------------------


#: A signal's disposition: the default action, ignored, or a function of the program's (at some address).
HandlerKind = kernel.HandlerKind


@dataclass(frozen=True, slots=True)
class Disposition:
    """How a process will treat a signal, and where the trace says so."""

    handler: HandlerKind
    sa_restart: bool
    evidence: SyscallEvent | None
    """The rt_sigaction that set it; None when the trace never shows one (the default)."""
    inherited_from: str | None = None
    no_child_wait: bool = False
    """SA_NOCLDWAIT: for SIGCHLD, the kernel reaps children itself, as under SIG_IGN."""

    @property
    def kernel_reaps(self) -> bool:
        """For SIGCHLD: whether children are reaped by the kernel at once, never becoming zombies (wait(2))."""
        return self.handler == "SIG_IGN" or self.no_child_wait

    def describe(self, signal: str) -> str:
        """The disposition in words, with its evidence."""
        evidence = self.evidence
        set_at = (evidence.seq, evidence.role) if evidence is not None else None
        return describe_disposition(signal, self.handler, self.sa_restart, set_at, self.inherited_from)


def describe_disposition(
    signal: str, handler: HandlerKind, sa_restart: bool, set_at: tuple[int, str] | None, inherited_from: str | None
) -> str:
    """A disposition in words, with the rt_sigaction that set it (its seq and role), or the default's reason."""
    if set_at is None:
        return f"{signal} had its default disposition (SIG_DFL): no rt_sigaction changed it in the trace"
    where = f"rt_sigaction at #{set_at[0]} in {set_at[1]}"
    if inherited_from:
        where += f", inherited from {inherited_from} across fork"
    if handler == "handler":
        flags = "with SA_RESTART" if sa_restart else "without SA_RESTART"
        return f"{signal} had a handler installed {flags} ({where})"
    return f"{signal} was set to {handler} ({where})"


def disposition_at(index: TraceIndex, process: str, signal: str, seq: int) -> Disposition:
    """The disposition of ``signal`` in ``process`` just before ``seq``: its own history, else its parent's at fork.

    An exec resets handled signals to SIG_DFL and keeps SIG_IGN (execve(2)).
    The walk up the process tree is a loop, not a recursion: a chain of
    thousands of forks is an ordinary trace.
    """
    walked: list[tuple[str, str, int]] = []  # the descendants' questions this walk also answers
    while True:
        key = (process, signal, seq)
        found = index.dispositions.get(key) or _own_disposition(index, process, signal, seq)
        parent, spawn = parent_role(process), index.spawns.get(process)
        if found is None and (parent is None or spawn is None):
            found = Disposition("SIG_DFL", False, None)
        if found is not None:
            index.dispositions[key] = found
            for depth, below in enumerate(walked):
                # Each descendant inherited it from its own parent: the next process up the walk.
                its_parent = walked[depth + 1][0] if depth + 1 < len(walked) else process
                index.dispositions[below] = (
                    found
                    if found.evidence is None
                    else Disposition(found.handler, found.sa_restart, found.evidence, its_parent, found.no_child_wait)
                )
            return index.dispositions[walked[0] if walked else key]
        assert parent is not None and spawn is not None
        walked.append(key)
        process, seq = parent, spawn.seq


def _own_disposition(index: TraceIndex, process: str, signal: str, seq: int) -> Disposition | None:
    """The disposition ``process`` itself set for ``signal`` before ``seq`` (None: it set none)."""
    found: Disposition | None = None
    for event in index.events_of(process):
        if event.seq >= seq:
            break
        if isinstance(event, ExecEvent) and found is not None and found.handler == "handler":
            found = Disposition("SIG_DFL", False, None)
        elif (
            isinstance(event, SyscallEvent)
            and event.name == "rt_sigaction"
            and event.errno is None
            and event.args.get("signal") == signal
            and isinstance(event.args.get("act"), dict)
        ):
            act = event.args["act"]
            handler = act.get("handler")
            kind: HandlerKind = handler if handler in ("SIG_DFL", "SIG_IGN") else "handler"
            flags = act.get("flags") or ()
            found = Disposition(kind, "SA_RESTART" in flags, event, no_child_wait="SA_NOCLDWAIT" in flags)
    return found


# -- what became of each child -----------------------------------------------------


#: What became of a child that exited (see :class:`ChildFate`).
Fate = Literal["re-parented", "reaped", "auto-reaped", "zombie"]


@dataclass(frozen=True, slots=True)
class ChildFate:
    """What became of one child process that exited: who collected its exit status, and when.

    ``outcome`` is, in this order of precedence: ``re-parented`` (its parent
    exited first: the subreaper or init reaped it), ``reaped`` (a wait of its
    parent returned its pid), ``auto-reaped`` (the parent's SIGCHLD was
    SIG_IGN or had SA_NOCLDWAIT when it exited), else ``zombie`` (never
    collected while its parent lived).
    """

    spawn: SpawnEvent
    exit: ExitEvent
    outcome: Fate
    reap: SyscallEvent | None
    parent_exit: ExitEvent | None
    disposition: Disposition
    """The parent's SIGCHLD disposition when the child exited."""


def reaped_pid(event: SyscallEvent) -> int | None:
    """The pid a successful wait4 or waitid collected (waitid says it in its siginfo); None when it collected none."""
    if event.errno is not None or event.ret is None:
        return None
    if event.name == "wait4":
        return event.ret or None
    infop = event.args.get("infop")
    pid = infop.get("si_pid") if isinstance(infop, dict) else None
    return pid if isinstance(pid, int) else None


def _waits(index: TraceIndex, process: str) -> dict[int, list[SyscallEvent]]:
    """Every successful wait of the process by the pid it collected, in order."""
    found: dict[int, list[SyscallEvent]] = {}
    for event in index.events_of(process):
        if isinstance(event, SyscallEvent) and event.name in WAIT_CALLS:
            pid = reaped_pid(event)
            if pid is not None:
                found.setdefault(pid, []).append(event)
    return found


def child_fates(index: TraceIndex, process: str) -> list[ChildFate]:
    """The fate of every child process of ``process`` that exited within the trace, in spawn order."""
    waits = _waits(index, process)
    parent_exit = index.exits.get(process)
    fates = []
    for spawn in index.events_of(process):
        if not isinstance(spawn, SpawnEvent) or spawn.thread:
            continue
        child_exit = index.exits.get(spawn.child_role)
        if child_exit is None:
            continue
        collected = waits.get(spawn.child_pid, [])
        reap = next((wait for wait in collected if wait.seq > child_exit.seq), collected[0] if collected else None)
        disposition = disposition_at(index, process, "SIGCHLD", child_exit.seq)
        outcome: Fate
        if parent_exit is not None and parent_exit.seq < child_exit.seq:
            outcome = "re-parented"
        elif reap is not None:
            outcome = "reaped"
        elif disposition.kernel_reaps:
            outcome = "auto-reaped"
        else:
            outcome = "zombie"
        fates.append(ChildFate(spawn, child_exit, outcome, reap, parent_exit, disposition))
    return fates


# -- no zombie left ---------------------------------------------------------------


def no_zombie_left(index: TraceIndex, role: str) -> list[Violation]:
    """Every child of the role's process that exited was reaped before the parent exited."""
    process = process_role(role)
    violations = []
    for fate in child_fates(index, process):
        if fate.outcome != "zombie":
            continue
        parent_exit = fate.parent_exit
        until = f"when {process} exited at #{parent_exit.seq}" if parent_exit else "at the end of the trace"
        violations.append(
            Violation(
                role,
                f"{fate.spawn.child_role} (pid {fate.spawn.child_pid}) exited at #{fate.exit.seq} and was never "
                f"reaped: still a zombie {until}",
                (fate.spawn, fate.exit) + ((parent_exit,) if parent_exit else ()),
            )
        )
    return violations


# -- reaped before the next accept ------------------------------------------------


def _accepted(index: TraceIndex, process: str) -> list[SyscallEvent]:
    """The process's accepts that returned a connection, in order."""
    return [e for e in index.events_of(process) if isinstance(e, SyscallEvent) and succeeded(e, ACCEPT_CALLS)]


def next_accept_after(index: TraceIndex, process: str, seq: int) -> SyscallEvent | None:
    """The process's first accept that returned a connection after ``seq``."""
    return next((accept for accept in _accepted(index, process) if accept.seq > seq), None)


def reaped_before_the_next_accept(index: TraceIndex, role: str) -> list[Violation]:
    """Every child that exited was reaped before its parent next accepted a connection (or exited).

    Where ``no zombie left`` asks about the end state, this asks how long a
    zombie lived: a server that reaps only at shutdown passes the one and
    fails this one.
    """
    process = process_role(role)
    violations = []
    for fate in child_fates(index, process):
        if fate.outcome in ("re-parented", "auto-reaped"):
            continue
        accept = next_accept_after(index, process, fate.exit.seq)
        if fate.outcome == "reaped" and fate.reap is not None and (accept is None or fate.reap.seq < accept.seq):
            continue
        child = f"{fate.spawn.child_role} (pid {fate.spawn.child_pid})"
        if accept is not None:
            reaped = f"reaped only at #{fate.reap.seq}" if fate.reap is not None else "never reaped"
            message = (
                f"{child} exited at #{fate.exit.seq} and was still a zombie when {process} accepted a connection "
                f"at #{accept.seq}; {reaped}"
            )
            events: tuple[Event, ...] = (fate.exit, accept) + ((fate.reap,) if fate.reap is not None else ())
        else:
            message = f"{child} exited at #{fate.exit.seq} and was never reaped before {process} ended"
            events = (fate.exit,)
        violations.append(Violation(role, message, events))
    return violations


# -- no accepted descriptor left open ----------------------------------------------


def no_accepted_descriptor_left_open(index: TraceIndex, role: str) -> list[Violation]:
    """Each descriptor the role's process accepted is closed before its next accept and before it exits.

    A connection is open while any number refers to it (a ``dup`` of it
    too); an exec closes it when it was close-on-exec (``accept4(...,
    SOCK_CLOEXEC)``).
    """
    process = process_role(role)
    open_fds: dict[int, SyscallEvent] = {}
    reported: set[int] = set()
    violations = []
    for event in index.events_of(process):
        follow(open_fds, event)
        if not isinstance(event, SyscallEvent) or event.name not in ACCEPT_CALLS:
            continue
        for accepted in _distinct(open_fds.values()):
            if accepted.seq < event.enter_seq and accepted.seq not in reported:
                reported.add(accepted.seq)
                violations.append(
                    Violation(
                        role,
                        f"{process} accepted fd {accepted.ret} at #{accepted.seq} and had not closed it "
                        f"when it entered {event.name} again at #{event.enter_seq}",
                        (accepted, event),
                    )
                )
        if succeeded(event, ACCEPT_CALLS) and event.ret is not None:
            open_fds[event.ret] = event
    ended = index.exits.get(process)
    for accepted in _distinct(open_fds.values()):
        if accepted.seq not in reported:
            violations.append(
                Violation(
                    role,
                    f"{process} accepted fd {accepted.ret} at #{accepted.seq} and never closed it",
                    (accepted,) + ((ended,) if ended else ()),
                )
            )
    return violations


def _distinct(accepts: Iterable[SyscallEvent]) -> list[SyscallEvent]:
    """Each accepted connection once, however many numbers refer to it (a dup), in the order of their accepts."""
    return sorted({accepted.seq: accepted for accepted in accepts}.values(), key=lambda accepted: accepted.seq)


# -- closes the listening socket ---------------------------------------------------


def _listening_at_spawns(index: TraceIndex, process: str) -> dict[str, dict[int, str]]:
    """For each process that ``process`` created: the listening sockets it held then (fd -> who listened).

    One pass over the process's events, memoized on the index: the socket
    set of every child, however many there are, costs one walk of its parent.
    """
    cached = index.cache.get(("listening", process))
    if cached is not None:
        return cached
    held = dict(inherited_listeners(index, process))
    at_spawn: dict[str, dict[int, str]] = {}
    for event in index.events_of(process):
        follow(held, event)
        if isinstance(event, SyscallEvent) and event.name == "listen" and event.errno is None:
            held[event.args["fd"]] = process
        elif isinstance(event, SpawnEvent) and not event.thread:
            at_spawn[event.child_role] = dict(held)
    index.cache[("listening", process)] = at_spawn
    return at_spawn


def inherited_listeners(index: TraceIndex, process: str) -> dict[int, str]:
    """The listening sockets ``process`` held as it started, inherited across fork: fd -> the process that listened."""
    parent = parent_role(process)
    return {} if parent is None else _listening_at_spawns(index, parent).get(process, {})


def closes_the_listening_socket(index: TraceIndex, role: str) -> list[Violation]:
    """The role closes every listening socket it inherited from its ancestors before it exits."""
    process = process_role(role)
    parent = parent_role(process)
    if parent is None:
        return []
    inherited = inherited_listeners(index, process)
    closed = descriptor_ends(index, process, inherited)
    ended = index.exits.get(process)
    return [
        Violation(
            role,
            f"{process} never closed the listening socket fd {fd} it inherited from {owner}"
            + (f"; it exited at #{ended.seq} still holding it" if ended else "")
            + (f" (as fd {', '.join(map(str, held_as))})" if held_as != [fd] else ""),
            tuple(e for e in (ended,) if e is not None),
            fd,
        )
        for fd, owner in inherited.items()
        if fd not in closed
        for held_as in [_numbers_of(index, process, inherited, fd)]
    ]


def _numbers_of(index: TraceIndex, process: str, held: Mapping[int, str], fd: int) -> list[int]:
    """The numbers that still refer to what ``process`` held at ``fd`` as it started, once its events are done."""
    table = {number: number for number in held}
    for event in index.events_of(process):
        follow(table, event)
    return sorted(number for number, first in table.items() if first == fd)


FACT_CHECKS: dict[Fact, Callable[[TraceIndex, str], list[Violation]]] = {
    "no zombie left": no_zombie_left,
    "reaped before the next accept": reaped_before_the_next_accept,
    "no accepted descriptor left open": no_accepted_descriptor_left_open,
    "closes the listening socket": closes_the_listening_socket,
}
