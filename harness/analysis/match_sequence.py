"""Steps in order in one role's events: the matcher's core, which ``each`` applies again per occurrence.

A sequence matches greedily (each step at the earliest event after the
previous step's) and, failing, says how far it got: the steps it matched
with their events, the step that failed, and the events most like it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from harness.analysis.match_candidates import artefact_notes, candidates_for
from harness.analysis.match_context import MatchContext
from harness.analysis.match_step import Bindings, try_step
from harness.analysis.mismatch import Mismatch
from harness.model.events import Event
from harness.model.steps import Step


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
    candidates = candidates_for(step, events, position, bindings, ctx)
    notes = []
    if not candidates:
        notes.append(f"no event of {role or 'the role'} is like this step ({len(events)} events looked at)")
    if adjacent and matched:
        notes.append("steps must match consecutive events (adjacent: true)")
    notes.extend(artefact_notes((event for _, event in matched), ctx))
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


def find_events(step: Step, events: Iterable[Event], ctx: MatchContext) -> list[Event]:
    """Every event that matches the step on its own (with the global captures only)."""
    return [event for event in events if not isinstance(try_step(step, event, ctx.bindings, ctx), str)]
