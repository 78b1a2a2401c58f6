"""Match a trace against assertions: a pure function from (trace, assertion) to mismatches.

Rules a reader can rely on:

* A sequence matches greedily: each step matches the *earliest* event of
  the role after the previous step's event.  A capture (``$conn``) is bound
  by the first event that matches its step and never rebound, so a later
  ``close($conn)`` must close exactly that descriptor.  With ``adjacent``,
  the steps must match consecutive events of the role, anywhere in it.
* A result of ``EINTR`` matches what the *program* saw: a call that returned
  ERESTARTSYS (or another restart code) to the tracer, after which the
  signal handler's ``rt_sigreturn`` returned EINTR, matches ``-> EINTR``
  as well as ``-> ERESTARTSYS``.
* Only the events after the file's ``start_after`` marker are matched,
  unless an assertion asks for the ``whole_trace`` or has a marker of its own.
* ``each`` (:func:`check_each`) is a sequence per occurrence: its ``then``
  steps match between one occurrence and the next, with the occurrence's
  captures bound afresh, and its ``child`` steps in the process a capture
  names.  ``never`` and ``count`` look inside their window (:func:`windows`).
* A path that crosses an array (``fds.fd``) or names a set of descriptors
  (``readfds``) holds when one of its elements matches.

Everything runs in one pass over the trace per assertion: linear in its
length (an ``adjacent`` sequence tries each start, so times its number of
steps).  A failure is returned as a :class:`Mismatch` — data, not text;
:mod:`harness.analysis.failure_text` renders it.
"""

from __future__ import annotations

import typing
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from harness.analysis.facts import FACT_CHECKS, TraceIndex, disposition_at, freed_between
from harness.analysis.interruptions import by_call, interruptions
from harness.model import frames, kernel
from harness.model.amounts import parse_amount
from harness.model.events import Event, ExecEvent, ExitEvent, SignalEvent, SpawnEvent, SyscallEvent
from harness.model.expectations import (
    FACTS,
    Check,
    CountCheck,
    EachCheck,
    FactCheck,
    InForceCheck,
    NeverCheck,
    RoleSelector,
    SequenceCheck,
    Window,
    spawned_capture,
)
from harness.model.roles import process_role
from harness.model.steps import (
    AnyStep,
    Capture,
    ChildPid,
    ErrnoName,
    ExecStep,
    ExitStep,
    Flags,
    Literal,
    NoResult,
    Restarted,
    Result,
    SignalStep,
    SpawnStep,
    Step,
    SyscallStep,
    Value,
    Wildcard,
)
from harness.model.syscalls import catalogued
from harness.model.trace import Trace

Bindings = Mapping[str, Any]
#: What the program saw of a restarted call, when it was not an error: the call was entered again.
RESTARTED = "restarted"


@dataclass(frozen=True, slots=True)
class Candidate:
    """An event a failure report shows under its step or check, and what to say of it."""

    event: Event
    reason: str
    """The sentence the report prints under it (``it matches, but after the next occurrence #12``)."""
    before: bool = False
    """It lies before the point where matching stopped: it was too early to be used."""
    kind: CandidateKind = "near"
    """Why it is shown, which decides the report's heading for its list."""


#: Why a failure report shows an event: it nearly matched the step (``near``), it matches where it should
#: not have (``matches``: a ``never`` or a count), it is a fact's evidence, or where a disposition was not
#: in force.
CandidateKind = typing.Literal["near", "matches", "evidence", "not_in_force"]

#: What failed: the check of that name, or ``run`` (the run itself failed: nothing to match).
#: (``typing.Literal``: the step language has a ``Literal`` value of its own.)
MismatchKind = typing.Literal["sequence", "count", "never", "each", "fact", "in_force", "golden", "run"]


@dataclass(frozen=True, slots=True)
class Mismatch:
    """Why an assertion does not hold in one role (or in the whole trace)."""

    message: str
    kind: MismatchKind = "run"
    role: str | None = None
    failed_step: str | None = None
    failed_line: int | None = None
    matched: tuple[tuple[str, Event], ...] = ()
    """The steps matched before the failure, each with its event."""
    candidates: tuple[Candidate, ...] = ()
    notes: tuple[str, ...] = ()
    bindings: Mapping[str, Any] = field(default_factory=dict)


# -- what the matcher knows about a trace -------------------------------------------


def _seen_results(index: TraceIndex) -> dict[int, str]:
    """For each call that returned a restart code: what the program saw (``EINTR`` or ``restarted``).

    Read from :func:`harness.analysis.interruptions.interruptions`, the one
    account of every interruption that explain, golden stories and the report
    also read.
    """
    return {seq: account.seen for seq, account in by_call(index).items() if account.seen is not None}


def _tracer_artefacts(index: TraceIndex) -> dict[int, str]:
    """The events of tracer-only interruptions (an ignored signal stopping a call), each with the reason."""
    found: dict[int, str] = {}
    for account in interruptions(index):
        if not account.tracer_only or account.signal is None or account.disposition is None:
            continue
        how = account.disposition.handler
        reason = (
            f"a tracer artefact: {account.signal.name} is ignored ({how}), so untraced it would not have interrupted "
            f"{account.call_name or 'the call'} (kernel/signal.c, sig_ignored)"
        )
        for event in (account.call, account.signal, account.evidence):
            if event is not None:
                found[event.seq] = reason
    return found


def _artefact_notes(events: Iterable[Event], ctx: MatchContext) -> tuple[str, ...]:
    """A note for each event a check rests on that exists only under ptrace."""
    return tuple(f"#{event.seq} is {ctx.artefacts[event.seq]}" for event in events if event.seq in ctx.artefacts)


class MatchContext:
    """A trace prepared for matching: events per role after the start marker, children, program-seen results."""

    def __init__(
        self,
        trace: Trace,
        *,
        start_after: Step | None = None,
        connections: int | None = None,
        base_dir: str | None = None,
        known: Bindings | None = None,
    ) -> None:
        self.trace = trace
        self.known: Bindings = known or {}
        """Captures visible before the start marker is looked for (an assertion's own marker sees the file's)."""
        self._after: dict[Step, MatchContext] = {}
        self.connections = connections
        self.base_dir = base_dir
        self._index: TraceIndex | None = None
        self.seen = _seen_results(self.index)
        self.artefacts = _tracer_artefacts(self.index)
        """Events that exist only because the process is traced, by seq, with why: reports say so."""
        self.children: dict[int, set[int]] = defaultdict(set)
        for event in trace:
            if isinstance(event, SpawnEvent) and not event.thread:
                self.children[event.pid].add(event.child_pid)
        self.bindings: dict[str, Any] = {}
        self.start_event: Event | None = None
        self.start_error: str | None = None
        events: Iterable[Event] = trace
        if start_after is not None:
            index = self._find_start(start_after)
            events = trace.events[index + 1 :] if index is not None else ()
        self.by_role: dict[str, list[Event]] = defaultdict(list)
        for event in events:
            self.by_role[event.role].append(event)
        self.roles = [role for role in trace.roles() if role in self.by_role]
        self._whole: dict[str, list[Event]] | None = None

    @property
    def index(self) -> TraceIndex:
        """The trace grouped by process, built the first time a fact needs it."""
        if self._index is None:
            self._index = TraceIndex(self.trace)
        return self._index

    def after(self, step: Step) -> MatchContext:
        """This trace with ``step`` as its start marker, found with this context's captures visible."""
        if step not in self._after:
            self._after[step] = MatchContext(
                self.trace,
                start_after=step,
                connections=self.connections,
                base_dir=self.base_dir,
                known=self.bindings,
            )
        return self._after[step]

    def _find_start(self, step: Step) -> int | None:
        for index, event in enumerate(self.trace):
            got = try_step(step, event, self.known, self)
            if not isinstance(got, str):
                self.start_event = event
                self.bindings = dict(got)
                return index
        self.start_error = f"the start marker {step.text!r} matched no event, so nothing was matched after it"
        return None

    def events_of(self, role: str, *, whole_trace: bool = False) -> list[Event]:
        """The role's events after the start marker (or all of them)."""
        if not whole_trace:
            return self.by_role.get(role, [])
        if self._whole is None:
            self._whole = defaultdict(list)
            for event in self.trace:
                self._whole[event.role].append(event)
        return self._whole.get(role, [])


# -- one step against one event ------------------------------------------------------


def _lookup(args: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    value: Any = args
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return False, None
        value = value[key]
    return True, value


def _lookups(args: Mapping[str, Any], path: str) -> list[Any] | None:
    """Every value at ``path``, reaching into each element of an array on the way (None: nowhere).

    ``fds.fd`` is the fd of each of poll's pollfds; a list of descriptors
    (a select set) stands for each descriptor in it, so ``readfds=$listen``
    holds when the set contains it.
    """
    values: list[Any] = [args]
    for key in path.split("."):
        found = []
        for value in values:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict) and key in item:
                    found.append(item[key])
        if not found:
            return None
        values = found
    spread = [item for value in values for item in (value if _descriptor_list(value) else [value])]
    return spread


def _descriptor_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(type(item) is int for item in value)


class BoundDescriptor(int):
    """A captured descriptor number, with where it was captured: it stands for the open file, not the number.

    It equals the number (an ``int`` to everything else), and a later use
    of the capture at a descriptor holds only while the number still refers
    to that file (:func:`harness.analysis.facts.freed_between`): after an
    exec or a close freed it, the same number is some other file.
    """

    process: str
    seq: int

    def __new__(cls, fd: int, process: str, seq: int) -> BoundDescriptor:
        """The number ``fd``, captured in ``process`` at event ``seq``."""
        bound = super().__new__(cls, fd)
        bound.process, bound.seq = process, seq
        return bound


#: Where a value stands in an event, for a capture of a descriptor: an argument the call uses (the capture
#: must still refer to the same file), a result that is a new descriptor (the capture names the new file from
#: then on: a number handed out again is the same number, which is what the step says), or anything else.
DescriptorUse = typing.Literal["argument", "result", None]


def _match_value(
    pattern: Value,
    actual: Any,
    bindings: Bindings,
    event: Event,
    ctx: MatchContext,
    *,
    descriptor: DescriptorUse = None,
) -> Bindings | str:
    match pattern:
        case Wildcard():
            return bindings
        case Literal(value=int() as number):
            if isinstance(actual, int) and not isinstance(actual, bool) and actual == number:
                return bindings
            if number == 0 and actual == []:
                return bindings
        case Literal(value=str() as name):
            if actual == name or (isinstance(actual, list) and name in actual):
                return bindings
        case Flags(present=present, absent=absent):
            if isinstance(actual, str):  # a name, not a flag list: SIG_DFL, AF_INET
                if all(name == actual for name in present) and actual not in absent:
                    return bindings
            elif isinstance(actual, list):
                missing = [name for name in present if name not in actual]
                extra = [name for name in absent if name in actual]
                if not missing and not extra:
                    return bindings
                return "has " + ", ".join(extra) if extra else "lacks " + ", ".join(missing)
        case Capture(name=name):
            if name not in bindings:
                if descriptor and type(actual) is int:
                    return {**bindings, name: BoundDescriptor(actual, process_role(event.role), event.seq)}
                return {**bindings, name: actual}
            bound = bindings[name]
            if bound != actual:
                return f"${name} is {bound!r}"
            if descriptor == "result" and type(actual) is int:
                return {**bindings, name: BoundDescriptor(actual, process_role(event.role), event.seq)}
            if descriptor == "argument" and isinstance(bound, BoundDescriptor):
                freed = freed_between(ctx.index, bound, bound.process, bound.seq, process_role(event.role), event.seq)
                if freed is not None:
                    how = f"its {freed.name}" if isinstance(freed, SyscallEvent) else "its execve"
                    return (
                        f"${name} is {bound.process}'s fd {bound} of #{bound.seq}, which {how} at #{freed.seq} "
                        f"freed: this fd {actual} is another file"
                    )
            return bindings
        case ChildPid():
            if isinstance(actual, int) and actual in ctx.children.get(event.pid, ()):
                return bindings
            return "not a child's pid"
    return f"expected {pattern}"


def _match_result(pattern: Result, event: SyscallEvent, bindings: Bindings, ctx: MatchContext) -> Bindings | str:
    ok = event.errno is None and event.ret is not None
    match pattern:
        case Wildcard():
            return bindings
        case NoResult():
            return bindings if event.ret is None else "expected -> ?"
        case ErrnoName(name=name):
            if name in (event.errno, ctx.seen.get(event.seq)):
                return bindings
            return f"expected -> {name}"
        case Restarted():
            return bindings if ctx.seen.get(event.seq) == RESTARTED else "expected -> restarted"
        case Literal() | Capture() | ChildPid():
            if not ok:
                return f"expected -> {pattern}"
            use: DescriptorUse = "result" if _returns_descriptor(event) else None
            return _match_value(pattern, event.ret, bindings, event, ctx, descriptor=use)


def _is_descriptor(event: SyscallEvent, path: str) -> bool:
    """Whether the argument at ``path`` is a file descriptor, by the catalogue's kind."""
    entry = catalogued(event.name)
    return entry is not None and path in entry.fd_args(event.args)


def _returns_descriptor(event: SyscallEvent) -> bool:
    """Whether the call's result is a new file descriptor (accept, dup, fcntl's F_DUPFD)."""
    entry = catalogued(event.name)
    if entry is None:
        return False
    return entry.result == "fd" or entry.duplicated(event.args) is not None


def _result_text(event: SyscallEvent, ctx: MatchContext) -> str:
    if event.ret is None:
        return "it never returned"
    if event.errno is None:
        return f"it returned {event.ret}"
    seen = ctx.seen.get(event.seq)
    saw = ""
    if seen == RESTARTED:
        saw = " (the kernel restarted it: the program never saw an error)"
    elif seen and seen != event.errno:
        saw = f" (the program saw {seen})"
    return f"it returned {event.errno}{saw}"


def try_step(step: Step, event: Event, bindings: Bindings, ctx: MatchContext) -> Bindings | str:
    """The bindings after ``event`` matches ``step``, or why it does not (a short reason)."""
    got = _try_step(step, event, bindings, ctx)
    if isinstance(got, str) or isinstance(step, AnyStep | ExitStep | ExecStep) or step.where is None:
        return got
    assert isinstance(event, SyscallEvent | SignalEvent | SpawnEvent)  # the step's own kind matched
    if event.python is None:
        return f"its Python frames were not read (python_frames: true, --python-frames), so @ {step.where} cannot hold"
    if not frames.matches(event.python, step.where):
        return f"it was made at {frames.summary(event.python) or 'no Python frame'}, not @ {step.where}"
    return got


def _try_step(step: Step, event: Event, bindings: Bindings, ctx: MatchContext) -> Bindings | str:
    match step:
        case AnyStep():
            reasons = []
            for option in step.options:
                got = try_step(option, event, bindings, ctx)
                if not isinstance(got, str):
                    return got
                if got != "another event":
                    reasons.append(f"{option.text}: {got}")
            return "; ".join(reasons) or "another event"
        case SyscallStep():
            if not isinstance(event, SyscallEvent) or event.name != step.name:
                return "another event"
            for path, pattern in step.args:
                found, actual = _lookup(event.args, path)
                several = _lookups(event.args, path) if not found or _descriptor_list(actual) else None
                if several:  # inside an array (poll's fds.fd), or a set of descriptors (select's readfds)
                    matching = [
                        got
                        for value in several
                        if not isinstance(got := _match_value(pattern, value, bindings, event, ctx), str)
                    ]
                    if not matching:
                        shown = actual if found else several
                        return f"{path} is {shown!r}, expected one of them to be {pattern}"
                    bindings = matching[0]
                    continue
                if not found:
                    root = path.split(".")[0]
                    if root in event.args and not isinstance(event.args[root], dict | list):
                        return f"{root} is {event.args[root] or 'NULL'}, so it has no {path}"
                    return f"{path} was not recorded"
                use: DescriptorUse = "argument" if _is_descriptor(event, path) else None
                got = _match_value(pattern, actual, bindings, event, ctx, descriptor=use)
                if isinstance(got, str):
                    return f"{path} is {actual!r}, expected {pattern}" + (
                        "" if got.startswith("expected") else f" ({got})"
                    )
                bindings = got
            got = _match_result(step.result, event, bindings, ctx)
            if isinstance(got, str):
                detail = "" if got.startswith("expected") else f"; {got}"
                return f"{_result_text(event, ctx)}, expected -> {step.result}{detail}"
            return got
        case SignalStep():
            if not isinstance(event, SignalEvent) or event.name != step.name:
                return "another event"
            for key, pattern in step.fields:
                actual = event.siginfo.get(key)
                got = _match_value(pattern, actual, bindings, event, ctx)
                if isinstance(got, str):
                    return f"{key} is {actual!r}, expected {pattern}"
                bindings = got
            return bindings
        case ExitStep():
            if not isinstance(event, ExitEvent):
                return "another event"
            if step.how == "exited" and event.signal is not None:
                return f"it was killed by {event.signal}"
            if step.how == "killed" and event.signal is None:
                return f"it exited with {event.code}"
            actual = event.signal if event.signal is not None else event.code
            got = _match_value(step.value, actual, bindings, event, ctx)
            return f"it ended with {actual}, expected {step.value}" if isinstance(got, str) else got
        case SpawnStep():
            if not isinstance(event, SpawnEvent):
                return "another event"
            if step.kind is not None and (step.kind == "thread") != event.thread:
                return f"it created a {'thread' if event.thread else 'process'}"
            if isinstance(step.child, Literal):
                return bindings if event.child_role == step.child.value else f"it created {event.child_role}"
            got = _match_value(step.child, event.child_pid, bindings, event, ctx)
            return f"it created pid {event.child_pid}" if isinstance(got, str) else got
        case ExecStep():
            return bindings if isinstance(event, ExecEvent) else "another event"


# -- checks ------------------------------------------------------------------------


def _closeness(step: Step, event: Event, bindings: Bindings, ctx: MatchContext) -> tuple[bool, ...]:
    """Which of a step's argument patterns (then its result) an event satisfies, each on its own.

    Compared as a tuple, so an earlier argument weighs more than all later
    ones: ``rt_sigaction(SIGCHLD, ...)`` is nearer to another SIGCHLD call
    than to a SIGPIPE call with the right flags.
    """
    if not isinstance(step, SyscallStep) or not isinstance(event, SyscallEvent):
        return ()
    scores = []
    for path, pattern in step.args:
        found, actual = _lookup(event.args, path)
        scores.append(found and not isinstance(_match_value(pattern, actual, bindings, event, ctx), str))
    scores.append(not isinstance(_match_result(step.result, event, bindings, ctx), str))
    return tuple(scores)


def _candidates(
    step: Step, events: Sequence[Event], stop: int, bindings: Bindings, ctx: MatchContext
) -> list[Candidate]:
    """The events most like the step: the closest ones after ``stop``, else the closest before it.

    Closest means satisfying the step's patterns, earlier arguments first
    (see :func:`_closeness`); ties go to the event nearest where matching stopped.
    """
    for window, before in ((range(stop, len(events)), False), (range(stop - 1, -1, -1), True)):
        alike: list[tuple[tuple[bool, ...], int, Candidate]] = []
        for index in window:
            event = events[index]
            reason = try_step(step, event, bindings, ctx)
            if reason == "another event" or (not before and not isinstance(reason, str)):
                continue
            text = reason if isinstance(reason, str) else "too early"
            alike.append((_closeness(step, event, bindings, ctx), index, Candidate(event, text, before=before)))
        if alike:
            # Closest first; among equals, the nearest to where matching stopped.
            best = sorted(alike, key=lambda item: (tuple(not hit for hit in item[0]), abs(item[1] - stop)))[:3]
            return [candidate for _, _, candidate in sorted(best, key=lambda item: item[1])]
    return []


def match_sequence(
    events: Sequence[Event],
    steps: Sequence[Step],
    ctx: MatchContext,
    *,
    adjacent: bool = False,
    role: str | None = None,
    lines: Sequence[int] = (),
    bindings: Bindings | None = None,
) -> Mismatch | None:
    """Match the steps in order in one role's events; None when they all match.

    ``bindings`` are the captures known before the first step (default: the start marker's).
    """
    initial: Bindings = ctx.bindings if bindings is None else bindings
    attempts = range(len(events)) if adjacent else range(1)
    best: tuple[list[tuple[str, Event]], Bindings, int] = ([], initial, 0)  # the attempt that got furthest
    for start in attempts:
        bindings = initial
        matched: list[tuple[str, Event]] = []
        position = start
        for step in steps:
            window = events[position : position + 1] if adjacent else events[position:]
            for offset, event in enumerate(window):
                got = try_step(step, event, bindings, ctx)
                if not isinstance(got, str):
                    bindings = got
                    matched.append((step.text, event))
                    position += offset + 1
                    break
            else:
                break
        if len(matched) == len(steps):
            return None
        if len(matched) > len(best[0]) or start == 0:
            best = (matched, bindings, position)
    matched, bindings, position = best
    index = len(matched)
    step = steps[index]
    where = f"after #{matched[-1][1].seq}" if matched else "from the start"
    candidates = _candidates(step, events, position, bindings, ctx)
    notes = []
    if not candidates:
        notes.append(f"no event of {role or 'the role'} is like this step ({len(events)} events looked at)")
    if adjacent and matched:
        notes.append("steps must match consecutive events (adjacent: true)")
    notes.extend(_artefact_notes((event for _, event in matched), ctx))
    return Mismatch(
        f"step {index + 1} of {len(steps)} was not matched {where}",
        kind="sequence",
        role=role,
        failed_step=step.text,
        failed_line=lines[index] if index < len(lines) else None,
        matched=tuple(matched),
        candidates=tuple(candidates),
        notes=tuple(notes),
        bindings=dict(bindings),
    )


def _why_it_matches(event: Event, ctx: MatchContext) -> str:
    artefact = f" ({ctx.artefacts[event.seq]})" if event.seq in ctx.artefacts else ""
    if isinstance(event, SyscallEvent) and kernel.is_restart_code(event.errno) and event.seq in ctx.seen:
        return f"matches: {event.errno} to the tracer, {ctx.seen[event.seq]} to the program{artefact}"
    return f"matches{artefact}"


def find_events(step: Step, events: Iterable[Event], ctx: MatchContext) -> list[Event]:
    """Every event that matches the step on its own (with the global captures only)."""
    return [event for event in events if not isinstance(try_step(step, event, ctx.bindings, ctx), str)]


def _compare(count: int, check: CountCheck, ctx: MatchContext) -> tuple[bool, str]:
    amount = parse_amount(check.value)
    if amount.uses_connections:
        if ctx.connections is None:
            return False, "the scenario's number of connections is not known here"
        target = amount.value(ctx.connections)
        label = f"{target} ({amount})" if amount.text != str(target) else str(target)
    else:
        target, label = amount.value(0), str(amount)
    holds = {"==": count == target, ">=": count >= target, "<=": count <= target}[check.operator]
    return holds, f"expected {check.operator} {label}, counted {count}"


# -- windows ------------------------------------------------------------------------


def windows(events: Sequence[Event], window: Window, ctx: MatchContext) -> list[tuple[range, Bindings]]:
    """The stretches of a role's events a window covers, each with the captures its ``after`` bound.

    A stretch opens after an event matching ``after`` (or at the first event)
    and closes before the next event matching ``before`` (or after the last),
    or at the first event more than ``within`` seconds after the ``after``
    event; then the next ``after`` opens another.  (``within`` needs times:
    :func:`_check_role` refuses a trace without them first.)
    """
    if not window.bounded:
        return [(range(len(events)), ctx.bindings)]
    stretches: list[tuple[range, Bindings]] = []
    position = 0
    while position < len(events):
        bindings: Bindings = ctx.bindings
        start = position
        if window.after is not None:
            for index in range(position, len(events)):
                got = try_step(window.after, events[index], ctx.bindings, ctx)
                if not isinstance(got, str):
                    bindings, start = got, index + 1
                    break
            else:
                break
        end = len(events)
        if window.before is not None:
            for index in range(start, len(events)):
                if not isinstance(try_step(window.before, events[index], bindings, ctx), str):
                    end = index
                    break
        if window.within is not None and start > 0:
            closes = (events[start - 1].time or 0.0) + window.within
            end = next((index for index in range(start, end) if (events[index].time or 0.0) > closes), end)
        stretches.append((range(start, end), bindings))
        if window.after is None or end >= len(events):
            break
        position = end + 1
    return stretches


def _find_in_windows(step: Step, events: Sequence[Event], window: Window, ctx: MatchContext) -> list[Event]:
    return [
        events[index]
        for stretch, bindings in windows(events, window, ctx)
        for index in stretch
        if not isinstance(try_step(step, events[index], bindings, ctx), str)
    ]


def _within(window: Window) -> str:
    return f" ({window})" if window.bounded else ""


def _untimed(check: CountCheck | NeverCheck, events: Sequence[Event], role: str) -> Mismatch | None:
    """A time window on a trace without times cannot be checked: say so, never pass it silently."""
    if check.window.within is None or all(event.time is not None for event in events):
        return None
    return Mismatch(
        f"{check.step.text!r} in {role}{_within(check.window)}: this trace holds no times (recorded before the "
        "tracer kept them), so a window in time cannot be checked; record the trace again",
        kind="count" if isinstance(check, CountCheck) else "never",
        role=role,
        failed_step=check.step.text,
    )


# -- each: a promise per occurrence ---------------------------------------------------


def _process_roles(trace: Trace) -> dict[int, str]:
    """The role of each process by its pid (the role its first task was given)."""
    roles: dict[int, str] = {}
    for event in trace:
        roles.setdefault(event.pid, event.role if event.pid == event.tid else event.role.split("/")[0])
    return roles


def _occurrence_text(event: Event, bindings: Bindings, ctx: MatchContext) -> str:
    own = {name: value for name, value in bindings.items() if name not in ctx.bindings}
    captures = ", ".join(f"${name}={value!r}" for name, value in own.items())
    return f"#{event.seq}" + (f" ({captures})" if captures else "")


def check_each(check: EachCheck, role: str, events: Sequence[Event], ctx: MatchContext) -> Mismatch | None:
    """Every occurrence of ``check.each`` in the role is followed by its ``then`` and ``child`` steps.

    The first failing occurrence is reported in full (the steps matched, the
    one that did not follow, the events most like it); the others are named
    in the notes with their captures.
    """
    starts = [
        (index, got)
        for index, event in enumerate(events)
        if not isinstance(got := try_step(check.each, event, ctx.bindings, ctx), str)
    ]
    if not starts:  # a promise about no occurrence at all is no promise (as 'every child' with no child)
        return Mismatch(
            f"no event of {role} matches {check.each.text!r}: there is no occurrence to keep the promise for",
            kind="each",
            role=role,
            failed_step=check.each.text,
            failed_line=check.lines[0] if check.lines else None,
            candidates=tuple(_candidates(check.each, events, 0, ctx.bindings, ctx)),
        )
    then_lines, child_lines = check.lines[1 : 1 + len(check.then)], check.lines[1 + len(check.then) :]
    capture = check.in_capture or spawned_capture((check.each, *check.then))
    failures: list[tuple[str, Mismatch]] = []
    processes = _process_roles(ctx.trace) if check.child else {}
    for number, (index, bindings) in enumerate(starts):
        end = starts[number + 1][0] if number + 1 < len(starts) else len(events)
        window = events[index + 1 : end]
        label = _occurrence_text(events[index], bindings, ctx)
        header = f"occurrence {label} of {check.each.text!r}: "
        missed = match_sequence(window, check.then, ctx, role=role, lines=then_lines, bindings=bindings)
        bound = _then_bindings(window, check.then, ctx, bindings)
        in_child = _check_child(check, capture, bound, processes, child_lines, ctx) if check.child else None
        if missed is not None:
            before = f"before the next occurrence #{events[end].seq}" if end < len(events) else "before the role ended"
            message = header + missed.message.replace("was not matched", "did not follow", 1) + f", {before}"
            also = (f"and {in_child.message}: {in_child.failed_step}",) if in_child and in_child.failed_step else ()
            late = _too_late(check.then[len(missed.matched)], missed.bindings, events[end:], ctx)
            if late is not None and not missed.candidates:  # nothing like it in the window: say where it came
                missed = replace(missed, candidates=(late,), notes=())
            failures.append((label, replace(missed, kind="each", message=message, notes=(*missed.notes, *also))))
        elif in_child is not None:
            failures.append((label, replace(in_child, message=header + in_child.message, role=in_child.role or role)))
    if not failures:
        return None
    first = failures[0][1]
    notes = list(first.notes)
    if len(failures) > 1:
        others = ", ".join(label for label, _ in failures[1:])
        notes.append(f"{len(failures)} of {len(starts)} occurrences failed; the others: {others}")
    return replace(first, notes=tuple(notes))


def _too_late(step: Step, bindings: Bindings, after: Sequence[Event], ctx: MatchContext) -> Candidate | None:
    """The first event past the occurrence's window that the step matches: it came, but too late."""
    for event in after:
        if not isinstance(try_step(step, event, bindings, ctx), str):
            return Candidate(event, f"it matches, but after the next occurrence #{after[0].seq}")
    return None


def _check_child(
    check: EachCheck,
    capture: str | None,
    bound: Bindings,
    processes: Mapping[int, str],
    lines: Sequence[int],
    ctx: MatchContext,
) -> Mismatch | None:
    """The ``child`` steps in the process the capture names, with the occurrence's captures; None when they hold."""
    pid = bound.get(capture) if capture else None
    child_role = processes.get(pid) if isinstance(pid, int) else None
    if child_role is None:
        named = f"${capture} is {pid!r}, which names no traced process" if capture else "no capture names a process"
        return Mismatch(named, kind="each", bindings=dict(bound))
    events = ctx.events_of(child_role, whole_trace=True)
    missed = match_sequence(events, check.child, ctx, role=child_role, lines=lines, bindings=bound)
    if missed is None:
        return None
    where = f"in {child_role} (the process ${capture} names), "
    return replace(missed, kind="each", message=where + missed.message.replace("was not matched", "did not follow", 1))


def _then_bindings(events: Sequence[Event], steps: Sequence[Step], ctx: MatchContext, bindings: Bindings) -> Bindings:
    """The captures after the ``then`` steps matched (greedily, as :func:`match_sequence` matches them)."""
    position = 0
    for step in steps:
        for offset, event in enumerate(events[position:]):
            got = try_step(step, event, bindings, ctx)
            if not isinstance(got, str):
                bindings, position = got, position + offset + 1
                break
    return bindings


def _check_role(check: Check, role: str, ctx: MatchContext, whole_trace: bool) -> Mismatch | None:
    events = ctx.events_of(role, whole_trace=whole_trace)
    match check:
        case SequenceCheck():
            return match_sequence(events, check.steps, ctx, adjacent=check.adjacent, role=role, lines=check.lines)
        case CountCheck():
            untimed = _untimed(check, events, role)
            if untimed is not None:
                return untimed
            found = _find_in_windows(check.step, events, check.window, ctx)
            holds, text = _compare(len(found), check, ctx)
            if holds:
                return None
            misses = _candidates(check.step, events, 0, ctx.bindings, ctx)
            return Mismatch(
                f"count of {check.step.text!r} in {role}{_within(check.window)}: {text}",
                kind="count",
                role=role,
                failed_step=check.step.text,
                matched=tuple((check.step.text, event) for event in found),
                candidates=tuple(misses),
                notes=_artefact_notes(found, ctx),
            )
        case NeverCheck():
            untimed = _untimed(check, events, role)
            if untimed is not None:
                return untimed
            found = _find_in_windows(check.step, events, check.window, ctx)
            if not found:
                return None
            return Mismatch(
                f"{check.step.text!r} happened {len(found)} time{'s' if len(found) != 1 else ''} in {role}"
                + _within(check.window),
                kind="never",
                role=role,
                failed_step=check.step.text,
                candidates=tuple(Candidate(event, _why_it_matches(event, ctx), kind="matches") for event in found[:5]),
                notes=(f"and {len(found) - 5} more",) if len(found) > 5 else (),
            )
        case EachCheck():
            return check_each(check, role, events, ctx)
        case FactCheck():
            violations = FACT_CHECKS[check.fact](ctx.index, role)
            if not violations:
                return None
            return Mismatch(
                f"{role}: {len(violations)} violation{'s' if len(violations) != 1 else ''} of {check.fact!r}",
                kind="fact",
                role=role,
                notes=(f"the fact: {FACTS[check.fact]}", *(violation.message for violation in violations)),
                candidates=tuple(
                    Candidate(event, "evidence", kind="evidence")
                    for violation in violations
                    for event in violation.events
                )[:9],
            )
        case InForceCheck():
            return _check_in_force(check, role, events, ctx)
    raise TypeError(f"not a per-role check: {check!r}")


def _check_in_force(check: InForceCheck, role: str, events: list[Event], ctx: MatchContext) -> Mismatch | None:
    """At each event matching ``check.at``: the rt_sigaction in force for the signal matches ``check.disposition``."""
    points = find_events(check.at, events, ctx)
    what = f"{check.signal} as {check.disposition.text!r} at every {check.at.text!r} in {role}"
    if not points:
        return Mismatch(f"{what}: no event of {role} matches {check.at.text!r}", kind="in_force", role=role)
    wrong: list[Candidate] = []
    for event in points:
        entered = event.enter_seq if isinstance(event, SyscallEvent) else event.seq
        disposition = disposition_at(ctx.index, process_role(role), check.signal, entered)
        if disposition.evidence is None:
            wrong.append(Candidate(event, f"there {disposition.describe(check.signal)}", kind="not_in_force"))
            continue
        got = try_step(check.disposition, disposition.evidence, ctx.bindings, ctx)
        if isinstance(got, str):
            wrong.append(Candidate(event, f"there {disposition.describe(check.signal)}: {got}", kind="not_in_force"))
    if not wrong:
        return None
    return Mismatch(
        f"{what}: {len(wrong)} of {len(points)} did not have it in force",
        kind="in_force",
        role=role,
        failed_step=check.disposition.text,
        candidates=tuple(wrong[:5]),
        notes=(f"and {len(wrong) - 5} more",) if len(wrong) > 5 else (),
    )


def check_roles(
    check: Check, selector: RoleSelector, ctx: MatchContext, *, whole_trace: bool = False
) -> list[Mismatch]:
    """Apply a per-role check to the roles a selector picks, with its quantifier."""
    roles = selector.select(ctx.trace.roles() if whole_trace else ctx.roles)
    if not roles:
        known = ", ".join(ctx.roles) or "none"
        return [Mismatch(f"no role matches {selector.text!r} (roles in the trace: {known})")]
    results = [(role, _check_role(check, role, ctx, whole_trace)) for role in roles]
    failures = [mismatch for _, mismatch in results if mismatch is not None]
    if selector.quantifier == "any":
        if len(failures) < len(results):
            return []
        closest = max(failures, key=lambda mismatch: len(mismatch.matched))
        note = f"no role of {selector.text!r} ({', '.join(roles)}) satisfies it; the closest is {closest.role}"
        return [replace(closest, notes=(note, *closest.notes))]
    return failures
