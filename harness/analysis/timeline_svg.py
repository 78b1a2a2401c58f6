"""The timeline drawn as inline SVG: one lane per task, a shape per event, arrows on top.

The picture a page without script shows, in event order; the page's
script moves these same elements for the time axis and the zoom, so each
carries its seqs and roles in data attributes (the DOM contract in
:mod:`harness.analysis.report`).

Facts about the drawing:

* A call's name is drawn where it fits: in its span, or past its end up to
  the next span of its lane, and never under a marker.
* Every text that comes from the traced program (file names, argv, roles read
  back from a JSON Lines file) is escaped.
* The page stays light for big traces: one SVG element per event, a native
  ``<title>`` tooltip each, and one delegated event handler, not one JS
  object per event.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

from harness.analysis.timeline import (
    AXIS_HEIGHT,
    CHAR_WIDTH,
    FOLD_WIDTH,
    LANE_HEIGHT,
    MARKER_HALF,
    MARKER_SHAPES,
    SPAN_HEIGHT,
    STEP,
    TICK_EVERY,
    Arrow,
    Axis,
    MarkerKind,
    Span,
    ZombieBand,
    arrows,
    lane_labels,
    spans,
    timeline_data,
    zombie_bands,
)
from harness.model.events import Event, ExecEvent, ExitEvent, SignalEvent, SpawnEvent, SyscallEvent
from harness.model.frames import user_frame
from harness.model.strace_format import format_event
from harness.model.trace import Trace


def html_attrs(**values: object) -> str:
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
        f"<rect{html_attrs(class_=classes, x=f'{x:g}', y=f'{top:g}', width=f'{width:g}', height=SPAN_HEIGHT)}"
        f"{html_attrs(data_seq=event.seq, data_enter_seq=event.enter_seq, data_end_seq=span.end_seq)}"
        f"{html_attrs(data_role=event.role, data_name=event.name)}>{_title(_hover(event))}</rect>"
    )
    label = _span_label(event, room)
    where = html_attrs(
        class_="call-label" if label is not None else "call-label hidden",
        x=f"{x + 2:g}",
        y=f"{top + SPAN_HEIGHT - 4:g}",
        data_seq=event.seq,
    )
    return f"{rect}<text{where}>{escape(label or event.name)}</text>"


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
    d = f"M{axis.center(event.seq):g},{y + LANE_HEIGHT / 2:g} {MARKER_SHAPES[kind]}"
    cy = f"{y + LANE_HEIGHT / 2:g}"
    attrs = html_attrs(class_=f"marker {kind}{extra}", d=d, data_seq=event.seq, data_role=event.role, data_cy=cy)
    if isinstance(event, SignalEvent):
        attrs += html_attrs(data_name=event.name)
    return f"<path{attrs}>{_title(_hover(event))}</path>"


def _svg_zombie(band: ZombieBand, axis: Axis, y: float, label: str) -> str:
    x = axis.x(band.from_seq)
    width = axis.x(band.to_seq) + STEP - x
    how = {"reap": "reaped by its parent's wait", "parent-exit": "its parent exited", "end": "the trace ended"}
    text = f"{label}: a zombie from its exit (#{band.from_seq}) until #{band.to_seq}, when {how[band.until]}"
    attrs = html_attrs(class_="zombie", x=f"{x:g}", y=f"{y + 2:g}", width=f"{width:g}", height=LANE_HEIGHT - 4)
    data = html_attrs(data_role=band.role, data_from_seq=band.from_seq, data_to_seq=band.to_seq, data_until=band.until)
    return f"<rect{attrs}{data}>{_title(text)}</rect>"


def _svg_arrow(arrow: Arrow, axis: Axis, rows: Mapping[str, int], text: str) -> str:
    x1, x2 = axis.center(arrow.from_seq), axis.center(arrow.to_seq)
    y1, y2 = _lane_y(rows[arrow.from_role]) + LANE_HEIGHT / 2, _lane_y(rows[arrow.to_role]) + LANE_HEIGHT / 2
    # Stop short of the target's centre so the head does not hide the marker there.
    y2 += -6 if y2 > y1 else 6
    d = f"M{x1:g},{y1:g} L{x2:g},{y2:g}"
    attrs = html_attrs(class_=f"arrow {arrow.kind}", d=d, marker_end=f"url(#head-{arrow.kind})")
    data = html_attrs(
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
    return f"<g{html_attrs(class_='lane', data_role=role, data_label=label)}>" + "".join(body) + "</g>"


def _arrow_text(arrow: Arrow, by_seq: Mapping[int, Event]) -> str:
    event = format_event(by_seq[arrow.seq])
    if arrow.kind == "signal":
        return f"{event}  (sent when {arrow.from_role} exited at #{arrow.from_seq})"
    return event


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
        + html_attrs(data_layout=json.dumps(timeline_data(trace), separators=(",", ":")))
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
