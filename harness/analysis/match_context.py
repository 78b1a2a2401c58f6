"""Where matching looks: a trace prepared once per assertion file, and the stretches a window covers.

Every check of a file reads the same events per role after the same start
marker, the same program-seen results and the same tracer artefacts, so they
are worked out once, in a :class:`MatchContext`, and handed to each check.
A check with a window (``after``, ``before``, ``within``) looks only inside
the stretches :func:`windows` cuts from a role's events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from harness.analysis.facts import TraceIndex
from harness.analysis.interruptions import by_call, interruptions
from harness.analysis.match_step import Bindings, try_step
from harness.model.events import Event, SpawnEvent
from harness.model.expectations import Window
from harness.model.steps import Step
from harness.model.trace import Trace


def _seen_results(index: TraceIndex) -> dict[int, str]:
    """For each call that returned a restart code: what the program saw (``EINTR`` or ``restarted``).

    Read from :func:`harness.analysis.interruptions.interruptions`, the one
    account of every interruption that explain, golden stories and the report
    also read.
    """
    return {seq: account.seen for seq, account in by_call(index).items() if account.seen is not None}


def _tracer_artefacts(index: TraceIndex) -> dict[int, str]:
    """The events of tracer-only interruptions (an ignored signal stopping a call), each with the reason."""
    found: dict[int, str] = {}
    for account in interruptions(index):
        if not account.tracer_only or account.signal is None or account.disposition is None:
            continue
        how = account.disposition.handler
        reason = (
            f"a tracer artefact: {account.signal.name} is ignored ({how}), so untraced it would not have interrupted "
            f"{account.call_name or 'the call'} (kernel/signal.c, sig_ignored)"
        )
        for event in (account.call, account.signal, account.evidence):
            if event is not None:
                found[event.seq] = reason
    return found


class MatchContext:
    """A trace prepared for matching: events per role after the start marker, children, program-seen results."""

    def __init__(
        self,
        trace: Trace,
        *,
        start_after: Step | None = None,
        connections: int | None = None,
        base_dir: str | None = None,
        known: Bindings | None = None,
    ) -> None:
        self.trace = trace
        self.known: Bindings = known or {}
        """Captures visible before the start marker is looked for (an assertion's own marker sees the file's)."""
        self._after: dict[Step, MatchContext] = {}
        self.connections = connections
        self.base_dir = base_dir
        self._index: TraceIndex | None = None
        self.seen = _seen_results(self.index)
        self.artefacts = _tracer_artefacts(self.index)
        """Events that exist only because the process is traced, by seq, with why: reports say so."""
        self.children: dict[int, set[int]] = defaultdict(set)
        for event in trace:
            if isinstance(event, SpawnEvent) and not event.thread:
                self.children[event.pid].add(event.child_pid)
        self.bindings: dict[str, Any] = {}
        self.start_event: Event | None = None
        self.start_error: str | None = None
        events: Iterable[Event] = trace
        if start_after is not None:
            index = self._find_start(start_after)
            events = trace.events[index + 1 :] if index is not None else ()
        self.by_role: dict[str, list[Event]] = defaultdict(list)
        for event in events:
            self.by_role[event.role].append(event)
        self.roles = [role for role in trace.roles() if role in self.by_role]
        self._whole: dict[str, list[Event]] | None = None

    @property
    def index(self) -> TraceIndex:
        """The trace grouped by process, built the first time a fact needs it."""
        if self._index is None:
            self._index = TraceIndex(self.trace)
        return self._index

    def after(self, step: Step) -> MatchContext:
        """This trace with ``step`` as its start marker, found with this context's captures visible."""
        if step not in self._after:
            self._after[step] = MatchContext(
                self.trace,
                start_after=step,
                connections=self.connections,
                base_dir=self.base_dir,
                known=self.bindings,
            )
        return self._after[step]

    def _find_start(self, step: Step) -> int | None:
        for index, event in enumerate(self.trace):
            got = try_step(step, event, self.known, self)
            if not isinstance(got, str):
                self.start_event = event
                self.bindings = dict(got)
                return index
        self.start_error = f"the start marker {step.text!r} matched no event, so nothing was matched after it"
        return None

    def events_of(self, role: str, *, whole_trace: bool = False) -> list[Event]:
        """The role's events after the start marker (or all of them)."""
        if not whole_trace:
            return self.by_role.get(role, [])
        if self._whole is None:
            self._whole = defaultdict(list)
            for event in self.trace:
                self._whole[event.role].append(event)
        return self._whole.get(role, [])


# -- windows ------------------------------------------------------------------------


def windows(events: Sequence[Event], window: Window, ctx: MatchContext) -> list[tuple[range, Bindings]]:
    """The stretches of a role's events a window covers, each with the captures its ``after`` bound.

    A stretch opens after an event matching ``after`` (or at the first event)
    and closes before the next event matching ``before`` (or after the last),
    or at the first event more than ``within`` seconds after the ``after``
    event; then the next ``after`` opens another.  (``within`` needs times:
    :mod:`harness.analysis.match` refuses a trace without them first.)
    """
    if not window.bounded:
        return [(range(len(events)), ctx.bindings)]
    stretches: list[tuple[range, Bindings]] = []
    position = 0
    while position < len(events):
        bindings: Bindings = ctx.bindings
        start = position
        if window.after is not None:
            for index in range(position, len(events)):
                got = try_step(window.after, events[index], ctx.bindings, ctx)
                if not isinstance(got, str):
                    bindings, start = got, index + 1
                    break
            else:
                break
        end = len(events)
        if window.before is not None:
            for index in range(start, len(events)):
                if not isinstance(try_step(window.before, events[index], bindings, ctx), str):
                    end = index
                    break
        if window.within is not None and start > 0:
            closes = (events[start - 1].time or 0.0) + window.within
            end = next((index for index in range(start, end) if (events[index].time or 0.0) > closes), end)
        stretches.append((range(start, end), bindings))
        if window.after is None or end >= len(events):
            break
        position = end + 1
    return stretches
