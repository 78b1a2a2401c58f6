"""Match a trace against assertions: a pure function from (trace, assertion) to mismatches.

Rules a reader can rely on:

* A sequence matches greedily: each step matches the *earliest* event of
  the role after the previous step's event.  A capture (``$conn``) is bound
  by the first event that matches its step and never rebound, so a later
  ``close($conn)`` must close exactly that descriptor.  With ``adjacent``,
  the steps must match consecutive events of the role, anywhere in it.
* A result of ``EINTR`` matches what the *program* saw: a call that returned
  ERESTARTSYS (or another restart code) to the tracer, after which the
  signal handler's ``rt_sigreturn`` returned EINTR, matches ``-> EINTR``
  as well as ``-> ERESTARTSYS``.
* Only the events after the file's ``start_after`` marker are matched,
  unless an assertion asks for the ``whole_trace`` or has a marker of its own.
* ``each`` (:func:`~harness.analysis.match_each.check_each`) is a sequence
  per occurrence: its ``then`` steps match between one occurrence and the
  next, with the occurrence's captures bound afresh, and its ``child`` steps
  in the process a capture names.  ``never`` and ``count`` look inside their
  window (:func:`~harness.analysis.match_context.windows`).
* A path that crosses an array (``fds.fd``) or names a set of descriptors
  (``readfds``) holds when one of its elements matches.

Everything runs in one pass over the trace per assertion: linear in its
length (an ``adjacent`` sequence tries each start, so times its number of
steps).  A failure is returned as a :class:`~harness.analysis.mismatch.Mismatch`
— data, not text; :mod:`harness.analysis.failure_text` renders it.

This module is where a check meets the roles a selector picks, with its
quantifier, and where the checks that are no sequence (a count, a
``never``, a fact, a disposition in force) are applied; the matcher's
pieces beside it each answer one question: one step against one event
(:mod:`~harness.analysis.match_step`), where to look
(:mod:`~harness.analysis.match_context`), steps in order
(:mod:`~harness.analysis.match_sequence`), a promise per occurrence
(:mod:`~harness.analysis.match_each`), and what a failure shows
(:mod:`~harness.analysis.match_candidates`).
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.analysis.facts import FACT_CHECKS, disposition_at
from harness.analysis.match_candidates import artefact_notes, candidates_for, why_it_matches
from harness.analysis.match_context import MatchContext, windows
from harness.analysis.match_each import check_each
from harness.analysis.match_sequence import find_events, match_sequence
from harness.analysis.match_step import try_step
from harness.analysis.mismatch import Candidate, Mismatch
from harness.model.amounts import parse_amount
from harness.model.events import Event, SyscallEvent
from harness.model.expectations import (
    FACTS,
    Check,
    CountCheck,
    EachCheck,
    FactCheck,
    InForceCheck,
    NeverCheck,
    RoleSelector,
    SequenceCheck,
    Window,
)
from harness.model.record import replace
from harness.model.roles import process_role
from harness.model.steps import Step


def _compare(count: int, check: CountCheck, ctx: MatchContext) -> tuple[bool, str]:
    amount = parse_amount(check.value)
    if amount.uses_connections:
        if ctx.connections is None:
            return False, "the scenario's number of connections is not known here"
        target = amount.value(ctx.connections)
        label = f"{target} ({amount})" if amount.text != str(target) else str(target)
    else:
        target, label = amount.value(0), str(amount)
    holds = {"==": count == target, ">=": count >= target, "<=": count <= target}[check.operator]
    return holds, f"expected {check.operator} {label}, counted {count}"


def _find_in_windows(step: Step, events: Sequence[Event], window: Window, ctx: MatchContext) -> list[Event]:
    return [
        events[index]
        for stretch, bindings in windows(events, window, ctx)
        for index in stretch
        if not isinstance(try_step(step, events[index], bindings, ctx), str)
    ]


def _within(window: Window) -> str:
    return f" ({window})" if window.bounded else ""


def _untimed(check: CountCheck | NeverCheck, events: Sequence[Event], role: str) -> Mismatch | None:
    """A time window on a trace without times cannot be checked: say so, never pass it silently."""
    if check.window.within is None or all(event.time is not None for event in events):
        return None
    return Mismatch(
        f"{check.step.text!r} in {role}{_within(check.window)}: this trace holds no times (recorded before the "
        "tracer kept them), so a window in time cannot be checked; record the trace again",
        kind="count" if isinstance(check, CountCheck) else "never",
        role=role,
        failed_step=check.step.text,
    )


def _check_role(check: Check, role: str, ctx: MatchContext, whole_trace: bool) -> Mismatch | None:
    events = ctx.events_of(role, whole_trace=whole_trace)
    match check:
        case SequenceCheck():
            return match_sequence(events, check.steps, ctx, adjacent=check.adjacent, role=role, lines=check.lines)
        case CountCheck():
            untimed = _untimed(check, events, role)
            if untimed is not None:
                return untimed
            found = _find_in_windows(check.step, events, check.window, ctx)
            holds, text = _compare(len(found), check, ctx)
            if holds:
                return None
            misses = candidates_for(check.step, events, 0, ctx.bindings, ctx)
            return Mismatch(
                f"count of {check.step.text!r} in {role}{_within(check.window)}: {text}",
                kind="count",
                role=role,
                failed_step=check.step.text,
                matched=tuple((check.step.text, event) for event in found),
                candidates=tuple(misses),
                notes=artefact_notes(found, ctx),
            )
        case NeverCheck():
            untimed = _untimed(check, events, role)
            if untimed is not None:
                return untimed
            found = _find_in_windows(check.step, events, check.window, ctx)
            if not found:
                return None
            return Mismatch(
                f"{check.step.text!r} happened {len(found)} time{'s' if len(found) != 1 else ''} in {role}"
                + _within(check.window),
                kind="never",
                role=role,
                failed_step=check.step.text,
                candidates=tuple(Candidate(event, why_it_matches(event, ctx), kind="matches") for event in found[:5]),
                notes=(f"and {len(found) - 5} more",) if len(found) > 5 else (),
            )
        case EachCheck():
            return check_each(check, role, events, ctx)
        case FactCheck():
            violations = FACT_CHECKS[check.fact](ctx.index, role)
            if not violations:
                return None
            return Mismatch(
                f"{role}: {len(violations)} violation{'s' if len(violations) != 1 else ''} of {check.fact!r}",
                kind="fact",
                role=role,
                notes=(f"the fact: {FACTS[check.fact]}", *(violation.message for violation in violations)),
                candidates=tuple(
                    Candidate(event, "evidence", kind="evidence")
                    for violation in violations
                    for event in violation.events
                )[:9],
            )
        case InForceCheck():
            return _check_in_force(check, role, events, ctx)
    raise TypeError(f"not a per-role check: {check!r}")


def _check_in_force(check: InForceCheck, role: str, events: list[Event], ctx: MatchContext) -> Mismatch | None:
    """At each event matching ``check.at``: the rt_sigaction in force for the signal matches ``check.disposition``."""
    points = find_events(check.at, events, ctx)
    what = f"{check.signal} as {check.disposition.text!r} at every {check.at.text!r} in {role}"
    if not points:
        return Mismatch(f"{what}: no event of {role} matches {check.at.text!r}", kind="in_force", role=role)
    wrong: list[Candidate] = []
    for event in points:
        entered = event.enter_seq if isinstance(event, SyscallEvent) else event.seq
        disposition = disposition_at(ctx.index, process_role(role), check.signal, entered)
        if disposition.evidence is None:
            wrong.append(Candidate(event, f"there {disposition.describe(check.signal)}", kind="not_in_force"))
            continue
        got = try_step(check.disposition, disposition.evidence, ctx.bindings, ctx)
        if isinstance(got, str):
            wrong.append(Candidate(event, f"there {disposition.describe(check.signal)}: {got}", kind="not_in_force"))
    if not wrong:
        return None
    return Mismatch(
        f"{what}: {len(wrong)} of {len(points)} did not have it in force",
        kind="in_force",
        role=role,
        failed_step=check.disposition.text,
        candidates=tuple(wrong[:5]),
        notes=(f"and {len(wrong) - 5} more",) if len(wrong) > 5 else (),
    )


def check_roles(
    check: Check, selector: RoleSelector, ctx: MatchContext, *, whole_trace: bool = False
) -> list[Mismatch]:
    """Apply a per-role check to the roles a selector picks, with its quantifier."""
    roles = selector.select(ctx.trace.roles() if whole_trace else ctx.roles)
    if not roles:
        known = ", ".join(ctx.roles) or "none"
        return [Mismatch(f"no role matches {selector.text!r} (roles in the trace: {known})")]
    results = [(role, _check_role(check, role, ctx, whole_trace)) for role in roles]
    failures = [mismatch for _, mismatch in results if mismatch is not None]
    if selector.quantifier == "any":
        if len(failures) < len(results):
            return []
        closest = max(failures, key=lambda mismatch: len(mismatch.matched))
        note = f"no role of {selector.text!r} ({', '.join(roles)}) satisfies it; the closest is {closest.role}"
        return [replace(closest, notes=(note, *closest.notes))]
    return failures
