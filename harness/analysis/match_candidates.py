"""What a failure report shows under a step: the events most like it, and why each matches or not.

A bare "step 3 was not matched" sends the reader back to the trace; the
events nearest the step, each with the reason it fails (or that it came too
early), and a note on events that exist only under ptrace, usually say what
went wrong.  Every kind of check picks its candidates the same way, here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from harness.analysis.match_context import MatchContext
from harness.analysis.match_step import Bindings, closeness, try_step
from harness.analysis.mismatch import Candidate
from harness.model import kernel
from harness.model.events import Event, SyscallEvent
from harness.model.steps import Step


def artefact_notes(events: Iterable[Event], ctx: MatchContext) -> tuple[str, ...]:
    """A note for each event a check rests on that exists only under ptrace."""
    return tuple(f"#{event.seq} is {ctx.artefacts[event.seq]}" for event in events if event.seq in ctx.artefacts)


def candidates_for(
    step: Step, events: Sequence[Event], stop: int, bindings: Bindings, ctx: MatchContext
) -> list[Candidate]:
    """The events most like the step: the closest ones after ``stop``, else the closest before it.

    Closest means satisfying the step's patterns, earlier arguments first
    (see :func:`harness.analysis.match_step.closeness`); ties go to the
    event nearest where matching stopped.
    """
    for window, before in ((range(stop, len(events)), False), (range(stop - 1, -1, -1), True)):
        alike: list[tuple[tuple[bool, ...], int, Candidate]] = []
        for index in window:
            event = events[index]
            reason = try_step(step, event, bindings, ctx)
            if reason == "another event" or (not before and not isinstance(reason, str)):
                continue
            text = reason if isinstance(reason, str) else "too early"
            alike.append((closeness(step, event, bindings, ctx), index, Candidate(event, text, before=before)))
        if alike:
            # Closest first; among equals, the nearest to where matching stopped.
            best = sorted(alike, key=lambda item: (tuple(not hit for hit in item[0]), abs(item[1] - stop)))[:3]
            return [candidate for _, _, candidate in sorted(best, key=lambda item: item[1])]
    return []


def why_it_matches(event: Event, ctx: MatchContext) -> str:
    """What a report says of an event a ``never`` or a count found: it matches, with what the program saw."""
    artefact = f" ({ctx.artefacts[event.seq]})" if event.seq in ctx.artefacts else ""
    if isinstance(event, SyscallEvent) and kernel.is_restart_code(event.errno) and event.seq in ctx.seen:
        return f"matches: {event.errno} to the tracer, {ctx.seen[event.seq]} to the program{artefact}"
    return f"matches{artefact}"
