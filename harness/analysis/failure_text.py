"""Render mismatches as text a person understands without opening the trace.

Laid out like a pytest assertion diff: the assertion and where it was
written, then, for each failing role, the steps that matched (with their
events), the step that did not (marked ``>``), the events most like it and
why each one is not it, and the captures bound so far.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.analysis.mismatch import Mismatch
from harness.model.events import Event
from harness.model.expectations import Assertion
from harness.model.strace_format import format_event


def event_line(event: Event) -> str:
    """An event as one line with its place in the run: ``#373 [pid 12 main] accept4(...) = 4``."""
    return f"#{event.seq} {format_event(event)}"


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def format_mismatch(mismatch: Mismatch, *, verbose: bool = False, width: int = 160) -> list[str]:
    """The lines that explain one mismatch; ``verbose`` shows every matched step, not only the last three."""
    lines = [mismatch.message]
    if mismatch.kind in ("sequence", "each") and mismatch.matched:
        shown = mismatch.matched if verbose or len(mismatch.matched) <= 3 else mismatch.matched[-3:]
        if len(shown) < len(mismatch.matched):
            lines.append(f"  ... {len(mismatch.matched) - len(shown)} earlier steps matched (-v shows them)")
        first = len(mismatch.matched) - len(shown) + 1
        step_width = max(len(text) for text, _ in shown)
        for number, (text, event) in enumerate(shown, start=first):
            lines.append(_shorten(f"    {number:>2}  {text:<{step_width}}  {event_line(event)}", width))
    if mismatch.kind in ("sequence", "each") and mismatch.failed_step is not None:
        where = f"  (line {mismatch.failed_line})" if mismatch.failed_line else ""
        lines.append(f"  > {len(mismatch.matched) + 1:>2}  {mismatch.failed_step}{where}")
    if mismatch.candidates:
        kinds = {candidate.kind for candidate in mismatch.candidates}
        if kinds == {"evidence"}:
            heading = "  evidence"
        elif kinds == {"not_in_force"}:
            heading = "  where it was not in force"
        elif kinds == {"matches"}:
            heading = "  matching events"
        elif mismatch.candidates[0].before:
            heading = "  nearest events (all before the point where matching stopped)"
        else:
            heading = "  nearest events"
        lines.append(heading + ":")
        for candidate in mismatch.candidates:
            lines.append(_shorten(f"      {event_line(candidate.event)}", width))
            if candidate.kind != "evidence" and candidate.reason != "matches":  # a bare match needs no words
                lines.append(f"          -- {candidate.reason}")
    lines.extend(f"  {note}" for note in mismatch.notes)
    if mismatch.bindings:
        captures = ", ".join(f"${name}={value!r}" for name, value in mismatch.bindings.items())
        lines.append(f"  captures: {captures}")
    return lines


def format_failure(assertion: Assertion, mismatches: Sequence[Mismatch], *, verbose: bool = False) -> str:
    """The whole report of a failed assertion."""
    where = f"{assertion.location}: " if assertion.location else ""
    lines = [f"{where}{assertion.name!r} failed ({assertion.roles})"]
    for mismatch in mismatches:
        lines.extend("  " + line for line in format_mismatch(mismatch, verbose=verbose))
    return "\n".join(lines)
