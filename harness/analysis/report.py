"""A self-contained HTML timeline of a trace: what ``harness report`` writes.

Why a picture: the lessons of a fork-per-connection server are about *when*
things happen across processes (a child's exit that interrupts the parent's
blocking ``accept4``, the SIGCHLD that follows, a zombie between a child's
exit and its reap), and a text trace spreads those over interleaved lines.
Here every task gets a lane and every event a place on one shared x axis.

Facts about the picture:

* Two x axes, switched on the page: *time* (the default when the trace has
  times), to scale, where a call is as wide as it lasted; and *event order*,
  the global order of the run, where each ``seq`` (an event's, or a call's
  ``enter_seq``) is one column, ranked, so gaps in the numbering do not waste
  space.  This module draws the event-order picture (what a page without
  script shows) and gives the script every seq with its time
  (``data-layout``); the script lays the picture out on the axis shown, and
  again at each zoom.
* The interpreter's start-up before the first ``listen`` is folded when the
  page opens (a band and a note say so, a button shows it), so the page
  opens at the start of the story.
* A call's name is drawn where it fits: in its span, or past its end up to
  the next span of its lane, and never under a marker.
* A call spans from its entry to its return, so a blocking ``accept4`` is
  long; a call that never returned (``exit_group``, or a run cut short) ends
  at its task's exit, or at the end of the trace.
* Every text that comes from the traced program (file names, argv, roles read
  back from a JSON Lines file) is escaped; the page loads nothing from the
  network: CSS and JS are inline, the picture is inline SVG.
* The page stays light for big traces: one SVG element per event, a native
  ``<title>`` tooltip each, and one delegated event handler, not one JS
  object per event.

The DOM contract, relied on by tests and documented in the README:

* ``<svg id="timeline">``; one ``g.lane[data-role][data-label]`` per task in
  tree order;
* ``rect.call[data-seq][data-enter-seq][data-end-seq][data-role][data-name]``
  per call, with the extra class ``interrupted`` (restart code or EINTR),
  ``failed`` (any other errno) or ``no-return`` (never returned);
* ``path.marker.{signal,spawn,exec,exit}[data-seq][data-role]`` per point event
  (a signal's also ``data-name="SIGCHLD"``; a killed task's exit also ``.killed``);
* ``path.arrow.spawn`` and ``path.arrow.signal`` with ``data-from``,
  ``data-to`` (roles), ``data-from-seq``, ``data-to-seq`` and ``data-seq``
  (the spawn or signal event);
* ``rect.zombie[data-role][data-from-seq][data-to-seq][data-until]`` where
  ``data-until`` is ``reap``, ``parent-exit`` or ``end``;
* ``#explanation .finding[data-kind][data-seqs][data-roles]``; clicking one
  (or opening the page at ``#finding-N``) gives its events the class
  ``highlight``; inside it, ``p[data-claim][data-seqs]`` per claim (its kind,
  as ``explain --format json`` names it, and the events that sentence rests on);
* ``svg#timeline[data-axis][data-folded][data-zoom][data-layout]``: the axis
  shown (``time`` or ``order``), whether the start-up is folded, the zoom, and
  the layout data; ``text.call-label[data-seq]`` per call (``.hidden`` where it
  does not fit); ``#fold-note``, ``#fold-band``, ``button#axis-time``,
  ``#axis-order``, ``#zoom-in``, ``#zoom-out``, ``#zoom-reset``, ``#unfold``;
  the page reads ``?axis=order``, ``?startup=shown`` and ``?zoom=N``;
* ``<body data-js-errors="0" data-rendered="1">``: the page's script counts
  JS errors there and sets ``data-rendered`` when it has run to its end.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from importlib import resources
from typing import TYPE_CHECKING, Literal

from harness.analysis.facts import TraceIndex, child_fates
from harness.analysis.golden import role_order
from harness.analysis.interruptions import by_call
from harness.model.events import Event, ExecEvent, ExitEvent, SignalEvent, SpawnEvent, SyscallEvent
from harness.model.frames import user_frame
from harness.model.strace_format import format_event
from harness.model.syscalls import calls_that
from harness.model.trace import Trace

if TYPE_CHECKING:  # harness.analysis.explain is imported when a page is drawn, not when this module is
    from harness.analysis.explain import Finding

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

# -- the layout: pure values computed from the trace ----------------------------------


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
        "shapes": dict(_MARKER_SHAPES),
    }


# -- SVG ---------------------------------------------------------------------------


def _attrs(**values: object) -> str:
    """HTML attributes, every value escaped; ``data_seq`` becomes ``data-seq``, ``class_`` becomes ``class``."""
    return "".join(f' {name.rstrip("_").replace("_", "-")}="{escape(str(value))}"' for name, value in values.items())


def _title(text: str) -> str:
    return f"<title>{escape(text)}</title>"


def _hover(event: Event) -> str:
    """An event's tooltip: its strace-like line, then its Python stack (innermost first) when it was read."""
    text = format_event(event)
    if isinstance(event, SyscallEvent | SignalEvent | SpawnEvent) and event.python:
        text += "".join(f"\n  at {frame.file}:{frame.line} in {frame.function}" for frame in event.python)
    return text


def _span_label(event: SyscallEvent, width: float) -> str | None:
    """What a call's span says, when there is room: the call and the user's function, or the call alone.

    The page's script decides again, by the same rule on the label's text, after each change of axis or zoom.
    """
    user = user_frame(event.python or ())
    labels = [f"{event.name} in {user.function}"] if user is not None else []
    return next((label for label in (*labels, event.name) if len(label) * CHAR_WIDTH + 4 <= width), None)


def _lane_y(index: int) -> float:
    return AXIS_HEIGHT + index * LANE_HEIGHT


def _svg_span(span: Span, axis: Axis, y: float, room: float) -> str:
    """A call's rect and its name; the name is shown when it fits in ``room``, the free space from the span's start.

    The page's script lays the picture out again on either axis and decides again, by the same rule.
    """
    event = span.event
    x = axis.x(event.enter_seq) + 1
    width = axis.x(span.end_seq) + STEP - 1 - x
    top = y + (LANE_HEIGHT - SPAN_HEIGHT) / 2
    classes = " ".join(("call", *span.kinds))
    rect = (
        f"<rect{_attrs(class_=classes, x=f'{x:g}', y=f'{top:g}', width=f'{width:g}', height=SPAN_HEIGHT)}"
        f"{_attrs(data_seq=event.seq, data_enter_seq=event.enter_seq, data_end_seq=span.end_seq)}"
        f"{_attrs(data_role=event.role, data_name=event.name)}>{_title(_hover(event))}</rect>"
    )
    label = _span_label(event, room)
    where = _attrs(
        class_="call-label" if label is not None else "call-label hidden",
        x=f"{x + 2:g}",
        y=f"{top + SPAN_HEIGHT - 4:g}",
        data_seq=event.seq,
    )
    return f"{rect}<text{where}>{escape(label or event.name)}</text>"


MarkerKind = Literal["spawn", "signal", "exec", "exit"]
MARKER_HALF = 6
"""Half the width of the widest marker: a label must end before a marker's centre minus this."""
#: The shape of each kind of point event, as an SVG path around (0, 0).
_MARKER_SHAPES: Mapping[MarkerKind, str] = {
    "spawn": "m-4,0 a4,4 0 1,0 8,0 a4,4 0 1,0 -8,0z",
    "signal": "m0,-6 l6,6 l-6,6 l-6,-6z",
    "exec": "m-5,5 l5,-10 l5,10z",
    "exit": "m-4,-4 h8 v8 h-8z",
}


def _marker_kind(event: Event) -> MarkerKind:
    kinds: dict[type[Event], MarkerKind] = {
        SignalEvent: "signal",
        SpawnEvent: "spawn",
        ExecEvent: "exec",
        ExitEvent: "exit",
    }
    return kinds[type(event)]


def _svg_marker(event: Event, axis: Axis, y: float) -> str:
    kind = _marker_kind(event)
    extra = " killed" if isinstance(event, ExitEvent) and event.signal is not None else ""
    d = f"M{axis.center(event.seq):g},{y + LANE_HEIGHT / 2:g} {_MARKER_SHAPES[kind]}"
    cy = f"{y + LANE_HEIGHT / 2:g}"
    attrs = _attrs(class_=f"marker {kind}{extra}", d=d, data_seq=event.seq, data_role=event.role, data_cy=cy)
    if isinstance(event, SignalEvent):
        attrs += _attrs(data_name=event.name)
    return f"<path{attrs}>{_title(_hover(event))}</path>"


def _svg_zombie(band: ZombieBand, axis: Axis, y: float, label: str) -> str:
    x = axis.x(band.from_seq)
    width = axis.x(band.to_seq) + STEP - x
    how = {"reap": "reaped by its parent's wait", "parent-exit": "its parent exited", "end": "the trace ended"}
    text = f"{label}: a zombie from its exit (#{band.from_seq}) until #{band.to_seq}, when {how[band.until]}"
    attrs = _attrs(class_="zombie", x=f"{x:g}", y=f"{y + 2:g}", width=f"{width:g}", height=LANE_HEIGHT - 4)
    data = _attrs(data_role=band.role, data_from_seq=band.from_seq, data_to_seq=band.to_seq, data_until=band.until)
    return f"<rect{attrs}{data}>{_title(text)}</rect>"


def _svg_arrow(arrow: Arrow, axis: Axis, rows: Mapping[str, int], text: str) -> str:
    x1, x2 = axis.center(arrow.from_seq), axis.center(arrow.to_seq)
    y1, y2 = _lane_y(rows[arrow.from_role]) + LANE_HEIGHT / 2, _lane_y(rows[arrow.to_role]) + LANE_HEIGHT / 2
    # Stop short of the target's centre so the head does not hide the marker there.
    y2 += -6 if y2 > y1 else 6
    d = f"M{x1:g},{y1:g} L{x2:g},{y2:g}"
    attrs = _attrs(class_=f"arrow {arrow.kind}", d=d, marker_end=f"url(#head-{arrow.kind})")
    data = _attrs(
        data_from=arrow.from_role,
        data_to=arrow.to_role,
        data_from_seq=arrow.from_seq,
        data_to_seq=arrow.to_seq,
        data_seq=arrow.seq,
        data_y1=f"{y1:g}",
        data_y2=f"{y2:g}",
    )
    return f"<path{attrs}{data}>{_title(text)}</path>"


def _svg_axis(axis: Axis, height: float) -> str:
    """The event-order ticks; the page's script redraws them for the axis shown."""
    parts = []
    for column in range(0, len(axis.seqs), TICK_EVERY):
        x = column * STEP
        parts.append(f'<line class="grid" x1="{x:g}" y1="{AXIS_HEIGHT - 4}" x2="{x:g}" y2="{height:g}"/>')
        parts.append(f'<text class="tick" x="{x + 2:g}" y="{AXIS_HEIGHT - 8}">#{axis.seqs[column]}</text>')
    return f'<g class="axis" data-height="{height:g}">' + "".join(parts) + "</g>"


_SVG_DEFS = (
    "<defs>"
    '<marker id="head-spawn" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
    'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10z" fill="#2e8b57"/></marker>'
    '<marker id="head-signal" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
    'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10z" fill="#c0392b"/></marker>'
    '<pattern id="zombie-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
    '<rect width="6" height="6" fill="#e6d5ee"/><line x1="0" y1="0" x2="0" y2="6" stroke="#8e44ad" stroke-width="2"/>'
    "</pattern>"
    "</defs>"
)


@dataclass(slots=True)
class _LaneParts:
    """What is drawn on one lane."""

    spans: list[Span]
    points: list[Event]
    bands: list[ZombieBand]


def _svg_lane(role: str, row: int, label: str, axis: Axis, parts: _LaneParts) -> str:
    """One task's lane: its background, zombie bands beneath, then calls, then point events on top."""
    y = _lane_y(row)
    body = [f'<rect class="lane-bg" x="0" y="{y:g}" width="{axis.width}" height="{LANE_HEIGHT}"/>']
    body.extend(_svg_zombie(band, axis, y, label) for band in parts.bands)
    # A name may run past its span's end, up to the next span of the lane, and never under a marker.
    starts = sorted(axis.x(span.event.enter_seq) + 1 for span in parts.spans)
    centres = [axis.center(event.seq) for event in parts.points]
    for span in parts.spans:
        x = axis.x(span.event.enter_seq) + 1
        following = bisect.bisect_right(starts, x)
        room = (starts[following] if following < len(starts) else axis.width) - x
        # The first marker that overlaps the name (or starts after it) bounds the room too.
        for centre in centres:
            if centre + MARKER_HALF > x:
                room = min(room, max(centre - MARKER_HALF - x, 0))
        body.append(_svg_span(span, axis, y, room))
    body.extend(_svg_marker(event, axis, y) for event in parts.points)
    return f"<g{_attrs(class_='lane', data_role=role, data_label=label)}>" + "".join(body) + "</g>"


def _arrow_text(arrow: Arrow, by_seq: Mapping[int, Event]) -> str:
    event = format_event(by_seq[arrow.seq])
    if arrow.kind == "signal":
        return f"{event}  (sent when {arrow.from_role} exited at #{arrow.from_seq})"
    return event


FOLD_WIDTH = 56
"""Room at the left of the picture for the folded start-up's band."""


def _svg_fold_band(height: float) -> str:
    """The band that stands for the folded start-up (shown by the script while it is folded); a click unfolds."""
    return (
        f'<g id="fold-band" display="none"><rect x="0" y="0" width="{FOLD_WIDTH - 10}" height="{height:g}"/>'
        f'<text x="{(FOLD_WIDTH - 10) / 2:g}" y="{AXIS_HEIGHT + 12}" text-anchor="middle">start-up</text>'
        '<text x="23" y="' + f"{AXIS_HEIGHT + 26}" + '" text-anchor="middle">folded</text>'
        "<title>The interpreter's start-up before listen, folded: click to show it</title></g>"
    )


def render_svg(trace: Trace) -> str:
    """The timeline: ``<svg id="timeline">`` with a lane per task, then the arrows on top of every lane."""
    axis = Axis(trace)
    labels = lane_labels(trace)
    rows = {role: row for row, role in enumerate(labels)}
    parts = {role: _LaneParts([], [], []) for role in labels}
    for span in spans(trace, axis):
        parts[span.event.role].spans.append(span)
    for event in trace:
        if not isinstance(event, SyscallEvent):
            parts[event.role].points.append(event)
    for band in zombie_bands(trace, axis):
        parts[band.role].bands.append(band)
    height = AXIS_HEIGHT + len(rows) * LANE_HEIGHT + 4
    by_seq = {event.seq: event for event in trace}
    drawn_arrows = [
        _svg_arrow(arrow, axis, rows, _arrow_text(arrow, by_seq))
        for arrow in arrows(trace)
        if arrow.from_role in rows and arrow.to_role in rows
    ]
    return (
        f'<svg id="timeline" width="{axis.width}" height="{height:g}" viewBox="0 0 {axis.width} {height:g}" '
        'data-axis="order" data-folded="0" data-zoom="1" aria-label="timeline of the trace, one lane per task"'
        + _attrs(data_layout=json.dumps(timeline_data(trace), separators=(",", ":")))
        + ">"
        + _SVG_DEFS
        + _svg_axis(axis, height)
        + _svg_fold_band(height)
        + '<g id="lanes">'
        + "".join(_svg_lane(role, rows[role], labels[role], axis, parts[role]) for role in labels)
        + '</g><g id="arrows">'
        + "".join(drawn_arrows)
        + "</g></svg>"
    )


# -- the page -----------------------------------------------------------------------


def _lane_labels_html(trace: Trace) -> str:
    """The lane names, in a column that stays put while the picture scrolls sideways."""
    rows = "".join(
        f'<div{_attrs(class_="lane-label", data_role=role)} style="height:{LANE_HEIGHT}px">{escape(label)}</div>'
        for role, label in lane_labels(trace).items()
    )
    return f'<div id="lane-labels" style="padding-top:{AXIS_HEIGHT}px">{rows}</div>'


def _seconds_words(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.3f} s"


def render_controls(trace: Trace) -> str:
    """The axis switch, its label, the zoom, and the note on the folded start-up, above the picture."""
    timed = bool(seq_times(trace))
    no_times = "" if timed else ' disabled title="this trace holds no times (recorded before the tracer kept them)"'
    controls = (
        '<div id="controls">'
        '<span class="group">x axis: '
        f'<button type="button" id="axis-time"{no_times}>time</button>'
        '<button type="button" id="axis-order">event order</button></span>'
        '<span id="axis-label"></span>'
        '<span class="group">zoom: <button type="button" id="zoom-out" title="zoom out (key -)">&minus;</button>'
        '<button type="button" id="zoom-reset" title="back to the whole story (key 0)">fit</button>'
        '<button type="button" id="zoom-in" title="zoom in (key +)">+</button>'
        '<span class="hint"> or the mouse wheel over the picture; keys + &minus; 0, &larr; &rarr; to move</span></span>'
        "</div>"
    )
    fold = startup_fold(trace)
    if fold is None:
        return controls
    first = trace[0].seq
    spent = f", {_seconds_words(fold.seconds)}" if fold.seconds is not None else ""
    return controls + (
        '<p id="fold-note" data-folded="1">'
        f'<span class="when-folded">The interpreter\'s start-up before <code>listen</code> '
        f"(#{first} to #{fold.seq - 1}: {fold.events} events{spent}) is folded: the picture opens at the start of "
        "the story. </span>"
        f'<span class="when-shown">The start-up before <code>listen</code> (#{fold.seq}) is shown. </span>'
        '<button type="button" id="unfold"><span class="when-folded">Show the start-up</span>'
        '<span class="when-shown">Fold the start-up</span></button></p>'
    )


def _findings(trace: Trace) -> tuple[Sequence[Finding], str]:
    """The explanations of harness.analysis.explain: the findings, and their plain-text rendering."""
    from harness.analysis.explain import explain, render

    findings = explain(trace)
    return findings, render(findings, format="text")


def _finding_html(number: int, finding: Finding) -> str:
    """A finding as a heading and paragraphs; its seqs and roles in data attributes for the script."""
    refs = ", ".join(f"#{seq}" for seq in finding.seqs)
    roles = ", ".join(finding.roles)
    where = " · ".join(part for part in (f"events {refs}" if refs else "", f"roles {roles}" if roles else "") if part)
    attrs = _attrs(
        id=f"finding-{number}",
        class_="finding",
        tabindex=0,
        data_kind=finding.kind,
        data_seqs=" ".join(str(seq) for seq in finding.seqs),
        data_roles=" ".join(finding.roles),
    )
    # One paragraph per claim, carrying the events that sentence rests on (as explain --format json gives them).
    claims = "".join(
        f"<p{_attrs(data_claim=claim.name, data_seqs=' '.join(map(str, claim.evidence)))}>{escape(claim.render())}</p>"
        for claim in finding.claims
    )
    paragraphs = claims + "".join(f"<p>{escape(remark)}</p>" for remark in finding.remarks)
    refs_html = f'<p class="refs">{escape(where)}</p>' if where else ""
    return f"<article{attrs}><h3>{escape(finding.title)}</h3>{paragraphs}{refs_html}</article>"


def render_explanation(findings: Sequence[Finding], text: str) -> str:
    """The explanation panel: one article per finding, and the same findings as text to copy."""
    articles = "".join(_finding_html(number, finding) for number, finding in enumerate(findings, start=1))
    if not articles:
        articles = '<p class="none">Nothing to explain in this trace.</p>'
    hint = '<p class="hint">Click a finding to highlight its events in the timeline.</p>' if findings else ""
    return (
        '<section id="explanation"><h2>What happened</h2>'
        + hint
        + articles
        + f"<details><summary>As text</summary><pre>{escape(text)}</pre></details></section>"
    )


_LEGEND = (
    '<ul id="legend">'
    '<li><span class="swatch sw-call"></span>call, from entry to return</li>'
    '<li><span class="swatch sw-interrupted"></span>interrupted by a signal: a restart code '
    "(ERESTARTSYS, ...) only a tracer sees, or EINTR</li>"
    '<li><span class="swatch sw-interrupted sw-tracer-artefact"></span>interrupted only because it was traced: '
    "an ignored signal (SIGCHLD at SIG_DFL...) that untraced would have been discarded</li>"
    '<li><span class="swatch sw-failed"></span>failed with another errno</li>'
    '<li><span class="swatch sw-no-return"></span>never returned (exit_group, or cut off)</li>'
    '<li><span class="swatch sw-zombie"></span>zombie: exited, not yet reaped by its parent</li>'
    '<li><span class="swatch sw-spawn"></span>spawn: creator to new task</li>'
    '<li><span class="swatch sw-signal"></span>SIGCHLD: exited child to the task it was delivered to</li>'
    "<li>markers: ● spawn ◆ signal ▲ exec ■ exit</li>"
    "</ul>"
)

#: The page's style and behaviour, files of this package read as the page is made, so that they are linted
#: and diffed as the CSS and JavaScript they are; the page stays one self-contained file.  error_catcher.js
#: counts errors into <body data-js-errors>, which a headless browser test reads from the DOM; report.js
#: holds one delegated handler per kind of interaction (no per-event objects).
_ASSETS = resources.files("harness.analysis") / "report_page"


def _asset(name: str) -> str:
    return (_ASSETS / name).read_text(encoding="utf-8")


def _script() -> str:
    """The page's behaviour, with the layout's numbers it needs put in."""
    return _asset("report.js").replace("__FOLD_WIDTH__", str(FOLD_WIDTH)).replace("__AXIS_HEIGHT__", str(AXIS_HEIGHT))


def render_report(trace: Trace, *, title: str = "trace") -> str:
    """The whole page for ``trace``: timeline, legend and explanations, in one self-contained HTML text."""
    findings, text = _findings(trace)
    summary = f"{len(lanes(trace))} lanes, {len(trace)} events"
    if len(trace):
        summary += f", #{trace[0].seq} to #{trace[-1].seq}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>harness report: {escape(title)}</title>"
        f"<style>{_asset('report.css')}</style><script>{_asset('error_catcher.js')}</script></head>\n"
        '<body data-js-errors="0" data-rendered="0">'
        f"<h1>harness report: {escape(title)}</h1>"
        f'<p id="summary">{escape(summary)}. Hover a call or a marker to read it as strace prints it.</p>'
        + _LEGEND
        + render_controls(trace)
        + '<div id="timeline-box">'
        + _lane_labels_html(trace)
        + '<div id="timeline-scroll">'
        + render_svg(trace)
        + "</div></div>"
        + '<div id="details">Hover a call, a marker, an arrow or a zombie band to read it here.</div>'
        + render_explanation(findings, text)
        + f"<script>{_script()}</script></body></html>\n"
    )
