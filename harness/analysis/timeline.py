"""The report's timeline as pure values: lanes, spans, arrows, zombie bands, the x axis and the folded start-up.

Worked out from the trace apart from any drawing, so that tests read the
layout as data, the SVG (:mod:`harness.analysis.timeline_svg`) draws what it
is given, and the page's script receives the same numbers (``data-layout``)
to lay the picture out again.

Facts about the picture:

* Two x axes, switched on the page: *time* (the default when the trace has
  times), to scale, where a call is as wide as it lasted; and *event order*,
  the global order of the run, where each ``seq`` (an event's, or a call's
  ``enter_seq``) is one column, ranked, so gaps in the numbering do not waste
  space.  The SVG draws the event-order picture (what a page without script
  shows); :func:`timeline_data` gives the script every seq with its time, and
  the script lays the picture out on the axis shown, and again at each zoom.
* The interpreter's start-up before the first ``listen`` is folded when the
  page opens (a band and a note say so, a button shows it), so the page
  opens at the start of the story.
* A call spans from its entry to its return, so a blocking ``accept4`` is
  long; a call that never returned (``exit_group``, or a run cut short) ends
  at its task's exit, or at the end of the trace.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from harness.analysis.facts import TraceIndex, child_fates
from harness.analysis.golden import role_order
from harness.analysis.interruptions import by_call
from harness.model.events import ExecEvent, ExitEvent, SignalEvent, SpawnEvent, SyscallEvent
from harness.model.syscalls import calls_that
from harness.model.trace import Trace

#: Geometry, in CSS pixels.
STEP = 14
"""Width of one column of the x axis (one seq)."""
LANE_HEIGHT = 26
AXIS_HEIGHT = 24
SPAN_HEIGHT = 16
CHAR_WIDTH = 6.7
"""Width of one character of the 11px monospace call labels: decides whether a name fits its span."""
TICK_EVERY = 5
"""An axis label every this many columns (70 px apart)."""

MarkerKind = Literal["spawn", "signal", "exec", "exit"]
MARKER_HALF = 6
"""Half the width of the widest marker: a label must end before a marker's centre minus this."""
#: The shape of each kind of point event, as an SVG path around (0, 0).
MARKER_SHAPES: Mapping[MarkerKind, str] = {
    "spawn": "m-4,0 a4,4 0 1,0 8,0 a4,4 0 1,0 -8,0z",
    "signal": "m0,-6 l6,6 l-6,6 l-6,-6z",
    "exec": "m-5,5 l5,-10 l5,10z",
    "exit": "m-4,-4 h8 v8 h-8z",
}

FOLD_WIDTH = 56
"""Room at the left of the picture for the folded start-up's band."""

#: The extra CSS class of a call that did not simply return.
SpanKind = Literal["interrupted", "tracer-artefact", "failed", "no-return"]


@dataclass(frozen=True, slots=True)
class Span:
    """A call drawn from its entry to its return (or to where its task ended)."""

    event: SyscallEvent
    end_seq: int
    kinds: tuple[SpanKind, ...]


@dataclass(frozen=True, slots=True)
class Arrow:
    """A spawn or a SIGCHLD drawn from the lane that caused it to the lane it reached."""

    kind: Literal["spawn", "signal"]
    from_role: str
    from_seq: int
    to_role: str
    to_seq: int
    seq: int
    """The spawn or signal event the arrow stands for."""


@dataclass(frozen=True, slots=True)
class ZombieBand:
    """The time a process spent exited but not yet reaped by its parent."""

    role: str
    from_seq: int
    to_seq: int
    until: str
    """``reap`` (a wait of the parent collected it), ``parent-exit`` or ``end`` (of the trace)."""


class Axis:
    """Maps a seq to its column: its rank among every seq the trace uses."""

    def __init__(self, trace: Trace) -> None:
        seqs = {event.seq for event in trace}
        seqs.update(event.enter_seq for event in trace if isinstance(event, SyscallEvent))
        self.seqs = sorted(seqs)

    def column(self, seq: int) -> int:
        """The column of ``seq`` (a seq between two used ones takes the later one's column)."""
        return bisect.bisect_left(self.seqs, seq)

    def x(self, seq: int) -> float:
        """Left edge of the column of ``seq``."""
        return self.column(seq) * STEP

    def center(self, seq: int) -> float:
        """Middle of the column of ``seq``: where a point event sits."""
        return self.x(seq) + STEP / 2

    @property
    def width(self) -> int:
        """Width of the whole picture."""
        return max(len(self.seqs), 1) * STEP

    @property
    def last_seq(self) -> int:
        """The last seq of the trace: where a task that never ended stops."""
        return self.seqs[-1] if self.seqs else 0


def lanes(trace: Trace) -> list[str]:
    """Every task of the trace, spawned-but-silent ones included, in tree order (main, main.1, main.1/t1, main.2)."""
    roles = set(trace.roles())
    roles.update(event.child_role for event in trace if isinstance(event, SpawnEvent))
    return sorted(roles, key=role_order)


def lane_labels(trace: Trace) -> dict[str, str]:
    """``main [pid 1234]`` for each lane: the role and the task id strace would print."""
    tids: dict[str, int] = {}
    for event in trace:
        tids.setdefault(event.role, event.tid)
        if isinstance(event, SpawnEvent):
            tids.setdefault(event.child_role, event.child_tid)
    return {role: f"{role} [pid {tids[role]}]" if role in tids else role for role in lanes(trace)}


def _exits(trace: Trace) -> dict[str, ExitEvent]:
    return {event.role: event for event in trace if isinstance(event, ExitEvent)}


def _thread_ends(trace: Trace) -> dict[int, list[int]]:
    """Where each thread id's task ended, in order: its exit, or the exec that superseded a leader's thread.

    A thread other than the leader that calls execve takes the leader's id
    (execve(2)): the leader's own thread ends at that exec, and the id goes on.
    """
    ends: dict[int, list[int]] = {}
    for event in trace:
        if isinstance(event, ExitEvent) or (isinstance(event, ExecEvent) and event.former_tid is not None):
            ends.setdefault(event.tid, []).append(event.seq)
    return ends


def spans(trace: Trace, axis: Axis) -> list[Span]:
    """Every call as a span, with the classes that tell interrupted, failed and unreturned calls apart."""
    ends = _thread_ends(trace)
    interrupted = by_call(TraceIndex(trace))
    result = []
    for event in trace:
        if not isinstance(event, SyscallEvent):
            continue
        kinds: list[SpanKind] = []
        end = event.seq
        if event.ret is None:
            kinds.append("no-return")
            later = [seq for seq in ends.get(event.tid, ()) if seq > event.seq]
            end = later[0] if later else axis.last_seq
        if event.seq in interrupted or event.errno == "EINTR":
            kinds.append("interrupted")
            if event.seq in interrupted and interrupted[event.seq].tracer_only:
                kinds.append("tracer-artefact")  # an ignored signal stopped it only because it was traced
        elif event.errno is not None:
            kinds.append("failed")
        result.append(Span(event, end, tuple(kinds)))
    return result


def arrows(trace: Trace) -> list[Arrow]:
    """Spawn arrows (creator to new task) and SIGCHLD arrows (the exited child to the task it was delivered to)."""
    exits = _exits(trace)
    result = []
    for event in trace:
        if isinstance(event, SpawnEvent):
            result.append(Arrow("spawn", event.role, event.seq, event.child_role, event.seq, event.seq))
        elif isinstance(event, SignalEvent) and event.name == "SIGCHLD":
            source = _sigchld_source(trace, event, exits)
            if source is not None:
                result.append(Arrow("signal", source.role, source.seq, event.role, event.seq, event.seq))
    return result


def _sigchld_source(trace: Trace, signal: SignalEvent, exits: Mapping[str, ExitEvent]) -> ExitEvent | None:
    """The exit of the child named by the siginfo's ``si_pid``, if it came before the delivery."""
    pid = signal.siginfo.get("si_pid")
    role = trace.role_of_pid(pid) if isinstance(pid, int) else None
    child_exit = exits.get(role) if role is not None else None
    return child_exit if child_exit is not None and child_exit.seq <= signal.seq else None


def zombie_bands(trace: Trace, axis: Axis) -> list[ZombieBand]:
    """From each child process's exit to its reap, or to its parent's exit, or to the end of the trace.

    No band when the kernel reaped the child itself (the parent's SIGCHLD was
    SIG_IGN or had SA_NOCLDWAIT when the child exited) or when the parent
    exited first (the child was re-parented and reaped elsewhere): each
    child's fate is the one harness.analysis.facts gives the ``no zombie left`` fact.
    """
    index = TraceIndex(trace)
    fates = sorted(
        (fate for process in index.by_process for fate in child_fates(index, process)),
        key=lambda fate: fate.spawn.seq,
    )
    bands = []
    for fate in fates:
        role, start = fate.spawn.child_role, fate.exit.seq
        if fate.outcome == "reaped" and fate.reap is not None:
            bands.append(ZombieBand(role, start, fate.reap.seq, "reap"))
        elif fate.outcome == "zombie" and fate.parent_exit is not None:
            bands.append(ZombieBand(role, start, fate.parent_exit.seq, "parent-exit"))
        elif fate.outcome == "zombie":
            bands.append(ZombieBand(role, start, axis.last_seq, "end"))
    return bands


@dataclass(frozen=True, slots=True)
class Fold:
    """The interpreter's start-up before the first ``listen``: folded away when the page opens."""

    seq: int
    """The entry of the first ``listen``: what ended before it is folded."""
    events: int
    """How many events ended before it."""
    seconds: float | None
    """When it was entered (seconds since the command started), if the trace has times."""


def startup_fold(trace: Trace) -> Fold | None:
    """Where the story starts (the first ``listen``), or None when the trace has none or nothing before it."""
    listens = calls_that("listens")
    listen = next((e for e in trace if isinstance(e, SyscallEvent) and e.name in listens), None)
    if listen is None:
        return None
    before = sum(1 for event in trace if event.seq < listen.enter_seq)
    if before == 0:
        return None
    entered = seq_times(trace).get(listen.enter_seq)
    return Fold(listen.enter_seq, before, entered)


def seq_times(trace: Trace) -> dict[int, float]:
    """The time of every seq the axis uses (an event's, or a call's entry: its end minus its duration).

    Empty when the trace holds no times, or only some (a trace edited by hand): the time axis needs all.
    """
    times: dict[int, float] = {}
    for event in trace:
        if event.time is None:
            return {}
        times[event.seq] = event.time
        if isinstance(event, SyscallEvent):
            if event.duration is None:
                return {}
            times[event.enter_seq] = max(event.time - event.duration, 0.0)
    return times


def timeline_data(trace: Trace) -> dict[str, object]:
    """What the page's script needs to lay the picture out on either axis: every seq, its time, the fold."""
    axis = Axis(trace)
    times = seq_times(trace)
    fold = startup_fold(trace)
    return {
        "seqs": axis.seqs,
        "times": [times[seq] for seq in axis.seqs] if times else None,
        "fold": None if fold is None else {"seq": fold.seq, "events": fold.events, "seconds": fold.seconds},
        "step": STEP,
        "charWidth": CHAR_WIDTH,
        "markerHalf": MARKER_HALF,
        "shapes": dict(MARKER_SHAPES),
    }
