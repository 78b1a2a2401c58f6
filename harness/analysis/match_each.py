"""``each``: a promise per occurrence, a sequence matched again between one occurrence and the next.

Its own module because an occurrence is more than a sequence: its captures
are bound afresh, its ``then`` steps must come before the next occurrence
(one that comes later is shown as too late), and its ``child`` steps are
matched in the process a capture names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from harness.analysis.match_candidates import candidates_for
from harness.analysis.match_context import MatchContext
from harness.analysis.match_sequence import match_sequence
from harness.analysis.match_step import Bindings, try_step
from harness.analysis.mismatch import Candidate, Mismatch
from harness.model.events import Event
from harness.model.expectations import EachCheck, spawned_capture
from harness.model.record import replace
from harness.model.steps import Step
from harness.model.trace import Trace


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
            candidates=tuple(candidates_for(check.each, events, 0, ctx.bindings, ctx)),
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
