"""The lines of an strace log, in order, assembled into the trace the tracer would have recorded.

Each line's task becomes a role as the tracer names it (:mod:`harness.model.roles`):
the first task is ``main``, and a task another one created is named when the
clone, fork or vfork that made it returns its id (or at the task's first
line, when strace prints that first): ``main.1`` for a process,
``main/t1`` for a thread (``CLONE_THREAD``).  A spawn event goes before the
creating call's exit, where the tracer's ``PTRACE_EVENT_CLONE`` stop puts it.
A call split by other tasks' lines (``<unfinished ...>``, then ``<... X
resumed>``) is one event, entered at its first half; a signal that follows a
call which returned a restart code (``= ? ERESTARTSYS``) says it interrupted
that call, as the tracer reads it from the registers at the signal's stop.

The order of the events is the order of the lines: strace prints each
line when it sees the stop, so it is the order the stops were seen in, as the
tracer's ``seq`` is.  Times come from ``-ttt``, ``-tt``, ``-t`` or ``-r``, and
durations from ``-T``; a log without them has none, as an old trace.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.model import kernel
from harness.model.event_contract import check_event
from harness.model.events import (
    Event,
    ExecEvent,
    ExitEvent,
    SignalEvent,
    SpawnEvent,
    SyscallEvent,
    TraceFormatError,
)
from harness.model.record import replace
from harness.model.roles import ROOT_ROLE, RoleBook, process_role
from harness.model.strace_log import forms
from harness.model.strace_log.arguments import ArgumentError, decode_args, siginfo
from harness.model.strace_log.lines import Clock, Line, Result
from harness.model.strace_log.values import array_items, split_top, string
from harness.model.syscalls import calls_that

#: The calls whose result is a new task's id.
SPAWNS = frozenset(calls_that("spawns"))
#: A process's clone flag that makes a thread, not a process (clone(2)).
_THREAD_FLAG = "CLONE_THREAD"


class LogError(ValueError):
    """What is wrong with one line of the log (its number, and the message)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(slots=True)
class _Open:
    """A call's first half, waiting for its ``<... X resumed>``."""

    line: Line
    enter_seq: int
    time: float | None


@dataclass(slots=True)
class _Clock:
    """Turns each line's printed time into seconds since the first one."""

    first: float | None = None
    start_realtime: float | None = None
    last: float | None = None
    days: float = 0.0
    relative: float = 0.0

    def now(self, clock: Clock) -> float | None:
        if clock.absolute is not None:
            moment = clock.absolute
            if clock.of_day and self.last is not None and moment + self.days + 43200 < self.last:
                self.days += 86400  # -t and -tt wrap at midnight
            moment += self.days
            if self.first is None:
                self.first = moment
                self.start_realtime = None if clock.of_day else moment
            self.last = moment
            return round(moment - self.first, 6)
        if clock.relative is not None:
            self.relative += clock.relative
            return round(self.relative, 6)
        return None


@dataclass(slots=True)
class Assembly:
    """The state of the assembly, line after line: tasks and their roles, calls still open, events made."""

    children: dict[int, tuple[int, str, bool]]
    """Each task some traced call created: its creator, the call, and whether it is a thread."""
    root: int | None
    events: list[Event] = field(default_factory=list)
    seq: int = 0
    roles: dict[int, str] = field(default_factory=dict)
    processes: dict[int, int] = field(default_factory=dict)
    """Each task's thread group (its process's id)."""
    alive: dict[int, None] = field(default_factory=dict)
    open: dict[int, _Open] = field(default_factory=dict)
    restart: dict[int, tuple[str, str]] = field(default_factory=dict)
    """A task whose last event was a call that returned a restart code: the call and the code."""
    former: dict[int, int] = field(default_factory=dict)
    book: RoleBook = field(default_factory=RoleBook)
    clock: _Clock = field(default_factory=_Clock)
    anchored: bool = False

    def next_seq(self) -> int:
        """The next place in the run's order."""
        self.seq += 1
        return self.seq

    # -- tasks ------------------------------------------------------------------------------------------

    def task(self, line: Line) -> int:
        """The task a line is of: its leader's pid, or the only task there is when it has none."""
        if line.tid is not None:
            tid = line.tid
        elif len(self.alive) == 1:
            tid = next(iter(self.alive))
        elif not self.roles:
            tid = self.root if self.root is not None else 0
        else:
            raise LogError(line.number, "a line without a pid while several tasks run: was the log cut and joined?")
        if tid not in self.roles:
            self.first_line_of(tid, line)
        return tid

    def first_line_of(self, tid: int, line: Line) -> None:
        """A task seen for the first time: the root, or a task whose creation is known; else the log lacks it."""
        created = self.children.get(tid)
        if created is not None and created[0] in self.roles:
            self.spawn(created[0], tid, created[1], created[2], self.clock.now(line.clock))
        elif not self.roles:
            self.roles[tid], self.processes[tid] = ROOT_ROLE, tid
            self.alive[tid] = None
        else:
            raise LogError(
                line.number,
                f"task {tid} appears without the clone, fork or vfork that created it: capture the log with "
                "those calls traced (strace's default, or -e trace=process plus your calls), from the first task on",
            )

    def spawn(self, creator: int, child: int, via: str, thread: bool, time: float | None) -> None:
        """A task created by ``creator``: its spawn event, and its role in the book."""
        if child in self.roles:
            return
        role = self.book.child(process_role(self.roles[creator]), thread=thread)
        pid = self.processes[creator] if thread else child
        self.roles[child], self.processes[child] = role, pid
        self.alive[child] = None
        self.add(
            SpawnEvent(
                seq=self.next_seq(),
                pid=self.processes[creator],
                tid=creator,
                role=self.roles[creator],
                time=time,
                child_pid=pid,
                child_tid=child,
                child_role=role,
                via=via,
                thread=thread,
            )
        )

    # -- events -----------------------------------------------------------------------------------------

    def add(self, event: Event) -> None:
        """Append an event; the first one carries the time of day the log began at (``-ttt``)."""
        if not self.anchored and self.clock.start_realtime is not None:
            event = _with_anchor(event, self.clock.start_realtime)
        self.anchored = True
        self.events.append(event)

    def line(self, line: Line) -> None:
        """Take the next line of the log."""
        tid = self.task(line)
        time = self.clock.now(line.clock)
        if line.kind == "unfinished":
            if tid in self.open:
                raise LogError(
                    line.number,
                    f"task {tid} begins {line.name} while its {self.open[tid].line.name} is "
                    "unfinished (lines of two logs mixed?)",
                )
            self.open[tid] = _Open(line, self.next_seq(), time)
        elif line.kind == "call":
            exec_done = line.name in forms.EXEC_CALLS and line.result is not None and line.result.value == 0
            # An exec is one event, at the new program's start, as the tracer records it: no entry of its own.
            self.call(tid, line, [line.text], line.result, 0 if exec_done else self.next_seq(), time, time)
        elif line.kind == "resumed":
            begun = self.open.pop(tid, None)
            if begun is None:
                raise LogError(
                    line.number,
                    f"'<... {line.name} resumed>' without its '{line.name}(... <unfinished ...>' "
                    "line before it (a log cut at its start, or two logs mixed)",
                )
            if begun.line.name != line.name and line.name != "???":
                raise LogError(
                    line.number,
                    f"'<... {line.name} resumed>' where task {tid}'s unfinished call is "
                    f"{begun.line.name} (line {begun.line.number})",
                )
            self.call(tid, line, [begun.line.text, line.text], line.result, begun.enter_seq, begun.time, time)
        elif line.kind == "signal":
            self.signal(tid, line, time)
        elif line.kind in ("exited", "killed"):
            self.end(tid, line, time)
        elif line.kind == "superseded":
            self.superseded(tid, line)
        # "stopped": a group stop, which the tracer records as no event

    def call(
        self,
        tid: int,
        line: Line,
        texts: Sequence[str],
        result: Result | None,
        enter_seq: int,
        entered: float | None,
        now: float | None,
    ) -> None:
        """A call's event (and its spawn's, or an exec's), from its text on one line or its two halves."""
        name = line.name
        items = [item for text in texts for item in split_top(text)]
        if name in forms.EXEC_CALLS and result is not None and result.value == 0:
            self.exec(tid, line, items, now)
            return
        try:
            args = decode_args(name, items, result)
        except (ArgumentError, ValueError) as error:
            raise LogError(line.number, f"{name}: {error}") from None
        ret, errno = _returned(line, result)
        duration = result.duration if result is not None else None
        if duration is not None and entered is not None and line.kind == "call":
            now = round(entered + duration, 6)  # a whole line's time is its entry's
        elif duration is None and entered is not None and now is not None and line.kind == "resumed":
            duration = round(now - entered, 6)
        if name in SPAWNS and ret is not None and ret > 0:
            thread = _THREAD_FLAG in _all_flags(args)
            self.spawn(tid, ret, name, thread, now)
        event = SyscallEvent(
            seq=self.next_seq(),
            pid=self.processes[tid],
            tid=tid,
            role=self.roles[tid],
            time=now,
            name=name,
            args=args,
            ret=ret,
            errno=errno,
            enter_seq=enter_seq,
            injected=result is not None and result.injected,
            duration=duration,
        )
        self.checked(event, line)
        if errno is not None and kernel.is_restart_code(errno):
            self.restart[tid] = (name, errno)
        else:
            self.restart.pop(tid, None)

    def exec(self, tid: int, line: Line, items: list[str], now: float | None) -> None:
        """A successful execve: the exec event the tracer records at the new program's start."""
        filename = string(items[0]) if items else None
        argv = array_items(items[1]) if len(items) > 1 else []
        event = ExecEvent(
            seq=self.next_seq(),
            pid=self.processes[tid],
            tid=tid,
            role=self.roles[tid],
            time=now,
            filename=filename if filename is not None else (items[0] if items else ""),
            argv=tuple(text if (text := string(item)) is not None else item for item in argv or () if item != "..."),
            former_tid=self.former.pop(self.processes[tid], None),
        )
        self.checked(event, line)
        self.restart.pop(tid, None)

    def signal(self, tid: int, line: Line, now: float | None) -> None:
        """A signal delivered, naming the call it interrupted when the task's last call returned a restart code."""
        try:
            info = siginfo(line.text) if line.text.startswith("{") else {}
        except (ArgumentError, ValueError) as error:
            raise LogError(line.number, f"{line.name}'s siginfo: {error}") from None
        interrupted = self.restart.pop(tid, None)
        name = line.name if line.name.startswith("SIG") else kernel.signal_name(int(line.name))
        event = SignalEvent(
            seq=self.next_seq(),
            pid=self.processes[tid],
            tid=tid,
            role=self.roles[tid],
            time=now,
            name=name,
            siginfo=info if isinstance(info, dict) else {},
            injected=line.injected,
            syscall=interrupted[0] if interrupted else None,
            syscall_errno=interrupted[1] if interrupted else None,
        )
        self.checked(event, line)

    def end(self, tid: int, line: Line, now: float | None) -> None:
        """A task's end; a call it was still in ends with it, never having returned."""
        begun = self.open.pop(tid, None)
        if begun is not None:  # strace printed no resumed line: the call never returned
            self.call(tid, begun.line, [begun.line.text], None, begun.enter_seq, begun.time, now)
        signal = line.signal
        if signal is not None and not signal.startswith("SIG"):
            signal = kernel.signal_name(int(signal))
        event = ExitEvent(
            seq=self.next_seq(),
            pid=self.processes[tid],
            tid=tid,
            role=self.roles[tid],
            time=now,
            code=line.code,
            signal=signal,
            core_dumped=line.core_dumped,
        )
        self.checked(event, line)
        self.alive.pop(tid, None)
        self.restart.pop(tid, None)

    def superseded(self, tid: int, line: Line) -> None:
        """The leader's own thread ended: the thread that exec'd takes its id (execve(2)); its open exec moves over."""
        former = line.former
        assert former is not None
        self.former[self.processes[tid]] = former
        begun = self.open.pop(former, None)
        if begun is not None:
            self.open[tid] = begun
        self.alive.pop(former, None)

    def checked(self, event: Event, line: Line) -> None:
        """Add an event that holds to the JSON Lines contract, as every trace read back must."""
        try:
            check_event(event)
        except TraceFormatError as error:
            raise LogError(line.number, f"reads as an event the harness does not record: {error}") from None
        self.add(event)

    def finish(self) -> list[Event]:
        """The events, with each call still open at the log's end as a call that never returned."""
        for tid, begun in sorted(self.open.items(), key=lambda item: item[1].enter_seq):
            self.call(tid, begun.line, [begun.line.text], None, begun.enter_seq, begun.time, begun.time)
        self.open.clear()
        return self.events


def _with_anchor(event: Event, start_realtime: float) -> Event:
    return replace(event, start_realtime=start_realtime)


def _returned(line: Line, result: Result | None) -> tuple[int | None, str | None]:
    """The raw value the kernel returned and its errno, as the tracer records them (``-4``, ``EINTR``)."""
    if result is None or line.died:
        return None, None
    if result.errno is not None:
        number = kernel.ERRNO_NUMBERS.get(result.errno)
        if number is None:
            raise LogError(line.number, f"unknown errno {result.errno}")
        return -number, result.errno
    return result.value, None


def _all_flags(args: dict[str, Any]) -> list[str]:
    flags = args.get("flags")
    return flags if isinstance(flags, list) else []


def created_tasks(lines: Iterable[Line]) -> dict[int, tuple[int, str, bool]]:
    """Each task a traced call created, from the calls' results: its creator, the call, and whether it is a thread.

    Read before the assembly, because strace may print a new task's first
    line before the line where its creator's call returns.  Only the lines
    with a pid count: a creator's clone line always has one (two tasks run).
    """
    children: dict[int, tuple[int, str, bool]] = {}
    begun: dict[int, Line] = {}
    for line in lines:
        if line.tid is None:
            continue
        if line.kind == "unfinished":
            begun[line.tid] = line
            continue
        if line.kind not in ("call", "resumed") or line.name not in SPAWNS:
            continue
        result = line.result
        if result is None or result.value is None or result.value <= 0 or result.errno is not None:
            continue
        texts = [line.text] if line.kind == "call" else [begun.get(line.tid, line).text, line.text]
        try:
            args = decode_args(line.name, [item for text in texts for item in split_top(text)], result)
        except (ArgumentError, ValueError):
            args = {}  # the assembly says what is wrong with this line, at its turn
        children[result.value] = (line.tid, line.name, _THREAD_FLAG in _all_flags(args))
    return children
