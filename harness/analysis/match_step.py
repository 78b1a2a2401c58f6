"""One step of the expectation language against one event: the matcher's innermost question.

Every check (a sequence, a count, a ``never``, an ``each``, a window's edges,
the start marker) asks it of event after event, so it answers with the
captures the match binds or with a short reason it fails, which failure
reports print under the event.  It needs of the trace only what
:class:`StepContext` names (the program-seen results, the children, the index
of descriptors), so it stands below the context that prepares a trace.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any, Protocol

from harness.analysis.facts import TraceIndex, freed_between
from harness.model import frames
from harness.model.events import Event, ExecEvent, ExitEvent, SignalEvent, SpawnEvent, SyscallEvent
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

Bindings = Mapping[str, Any]
#: What the program saw of a restarted call, when it was not an error: the call was entered again.
RESTARTED = "restarted"


class StepContext(Protocol):
    """What matching one step needs of the trace beyond the event; a :class:`.match_context.MatchContext` has it."""

    @property
    def index(self) -> TraceIndex:
        """The trace grouped by process: whether a captured descriptor still refers to its file."""

    @property
    def seen(self) -> Mapping[int, str]:
        """What the program saw of each call that returned a restart code (``EINTR`` or ``restarted``), by seq."""

    @property
    def children(self) -> Mapping[int, set[int]]:
        """The pids of each process's children, by its pid."""


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
    ctx: StepContext,
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


def _match_result(pattern: Result, event: SyscallEvent, bindings: Bindings, ctx: StepContext) -> Bindings | str:
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


def _result_text(event: SyscallEvent, ctx: StepContext) -> str:
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


def try_step(step: Step, event: Event, bindings: Bindings, ctx: StepContext) -> Bindings | str:
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


def _try_step(step: Step, event: Event, bindings: Bindings, ctx: StepContext) -> Bindings | str:
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


# -- how near an event comes to a step ------------------------------------------------


def closeness(step: Step, event: Event, bindings: Bindings, ctx: StepContext) -> tuple[bool, ...]:
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
