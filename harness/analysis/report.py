"""A self-contained HTML timeline of a trace: what ``harness report`` writes.

Why a picture: the lessons of a fork-per-connection server are about *when*
things happen across processes (a child's exit that interrupts the parent's
blocking ``accept4``, the SIGCHLD that follows, a zombie between a child's
exit and its reap), and a text trace spreads those over interleaved lines.
Here every task gets a lane and every event a place on one shared x axis.

The page is one self-contained file: it loads nothing from the network, its
CSS and JS are inline (package data in ``report_page/``), the picture is
inline SVG (:mod:`harness.analysis.timeline_svg`, from the layout of
:mod:`harness.analysis.timeline`), and every text from the traced program is
escaped.  This module puts the page together: the picture, its controls,
the legend and the explanations.

The DOM contract, relied on by tests and documented in docs/reference/report.md:

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

from collections.abc import Sequence
from html import escape
from importlib import resources
from typing import TYPE_CHECKING

from harness.analysis.timeline import AXIS_HEIGHT, FOLD_WIDTH, LANE_HEIGHT, lane_labels, lanes, seq_times, startup_fold
from harness.analysis.timeline_svg import html_attrs, render_svg
from harness.model.trace import Trace

if TYPE_CHECKING:  # harness.analysis.explain is imported when a page is drawn, not when this module is
    from harness.analysis.finding import Finding


def _lane_labels_html(trace: Trace) -> str:
    """The lane names, in a column that stays put while the picture scrolls sideways."""
    rows = "".join(
        f'<div{html_attrs(class_="lane-label", data_role=role)} style="height:{LANE_HEIGHT}px">{escape(label)}</div>'
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
    from harness.analysis.explain import explain
    from harness.analysis.finding import render

    findings = explain(trace)
    return findings, render(findings, format="text")


def _finding_html(number: int, finding: Finding) -> str:
    """A finding as a heading and paragraphs; its seqs and roles in data attributes for the script."""
    refs = ", ".join(f"#{seq}" for seq in finding.seqs)
    roles = ", ".join(finding.roles)
    where = " · ".join(part for part in (f"events {refs}" if refs else "", f"roles {roles}" if roles else "") if part)
    attrs = html_attrs(
        id=f"finding-{number}",
        class_="finding",
        tabindex=0,
        data_kind=finding.kind,
        data_seqs=" ".join(str(seq) for seq in finding.seqs),
        data_roles=" ".join(finding.roles),
    )
    # One paragraph per claim, carrying the events that sentence rests on (as explain --format json gives them).
    claims = "".join(
        f"<p{html_attrs(data_claim=claim.name, data_seqs=' '.join(map(str, claim.evidence)))}>"
        f"{escape(claim.render())}</p>"
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
