"""A trace in the Trace Event Format: what ``harness report --format tef`` writes, for Perfetto and chrome://tracing.

Why another picture: the HTML report is ours, but the tools people already
open traces in are Perfetto's UI (ui.perfetto.dev, which runs in the browser
and uploads nothing) and Chrome's ``chrome://tracing``.  Both read the Trace
Event Format, a JSON object whose ``traceEvents`` list holds one object per
slice, instant, arrow or name (the format's own document, "Trace Event
Format", Google, 2016, is the reference for every ``ph`` used here).

What the file holds, worked out from the same derivations as the HTML
timeline (:mod:`harness.analysis.timeline`), so that both pictures agree:

* one track per task: ``pid`` is the process's pid, ``tid`` the task's tid,
  named by ``process_name`` / ``thread_name`` metadata (``ph: "M"``) from the
  roles (``main``, ``main.1``, ``main.1/t1``), the process's with its command,
  and put in tree order by ``process_sort_index`` / ``thread_sort_index``;
* each call as a complete event (``ph: "X"``) from its entry to its return,
  ``ts`` and ``dur`` in microseconds since the traced command started; its
  strace line in ``args``; an interrupted call (a restart code such as
  ERESTARTSYS, or EINTR) has ``interrupted`` in its category; a call that
  never returned is drawn to its task's end, or to the trace's, and says so;
* signals, spawns, execs and exits as instant events (``ph: "i"``, scope
  thread) on the task's track;
* arrows (``ph: "s"`` then ``ph: "f"`` with ``bp: "e"``, one ``id``) from a
  spawn to the new task's first event, and from a signal's sender to its
  delivery, where the trace knows the sender: the exit of the child a
  SIGCHLD's ``si_pid`` names, else the sender's last kill, tkill or tgkill
  of that signal;
* the findings of ``harness explain`` as global instant events (``s: "g"``)
  at the time of their first event, with their text, and whole under the
  top-level ``metadata`` key;
* ``displayTimeUnit`` and ``otherData``: the harness's version, the source
  and the clock.

A trace recorded before times were kept gets the event order as its clock
(one microsecond per seq), and ``otherData`` says so.  The output depends on
the trace alone (and the version and source named): two writes of one trace
are byte-identical, one event a line, keys sorted, in time order.
"""

from __future__ import annotations

import bisect
import json
import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.analysis.finding import Finding, render
from harness.analysis.timeline import Axis, Span, lanes, seq_times, spans
from harness.model.events import Event, ExecEvent, ExitEvent, SignalEvent, SpawnEvent, SyscallEvent
from harness.model.roles import parent_role, process_role
from harness.model.strace_format import format_event
from harness.model.syscalls import calls_that
from harness.model.trace import Trace

#: A Trace Event Format event: a JSON object.
TefEvent = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Track:
    """Where a task's events go: its process's pid and its own tid, and the roles that had them.

    One role, but for a pid the kernel gave again within one run: the format
    knows tracks by pid and tid only, so both tasks share the track, named
    by both roles.
    """

    roles: tuple[str, ...]
    pid: int
    tid: int

    @property
    def name(self) -> str:
        """The thread's name: its role (its roles, for a reused pid)."""
        return ", ".join(self.roles)


class _Clock:
    """Microseconds since the traced command started for every seq, or the event order when the trace has no times."""

    def __init__(self, trace: Trace) -> None:
        self.times = seq_times(trace)
        self.timed = bool(self.times)

    def us(self, seq: int) -> int:
        """The time of ``seq`` in whole microseconds (the tracer's clock has µs resolution: nothing is lost)."""
        return round(self.times[seq] * 1_000_000) if self.timed else seq


def tracks(trace: Trace) -> list[Track]:
    """Every (pid, tid) of the trace, spawned-but-silent tasks included (from their spawn), in tree order."""
    roles: dict[tuple[int, int], list[str]] = {}

    def note(pid: int, tid: int, role: str) -> None:
        had = roles.setdefault((pid, tid), [])
        if role not in had:
            had.append(role)

    for event in trace:
        note(event.pid, event.tid, event.role)
        if isinstance(event, SpawnEvent):
            note(event.pid if event.thread else event.child_pid, event.child_tid, event.child_role)
    order = {role: place for place, role in enumerate(lanes(trace))}
    found = [Track(tuple(names), pid, tid) for (pid, tid), names in roles.items()]
    return sorted(found, key=lambda track: (order[track.roles[0]], track.pid, track.tid))


def _commands(trace: Trace) -> dict[str, str]:
    """The command line each process ran first: its own first exec's, else the one it inherited from its creator."""
    own: dict[str, str] = {}
    for event in trace:
        if isinstance(event, ExecEvent):
            own.setdefault(process_role(event.role), shlex.join(event.argv or (event.filename,)))
    commands: dict[str, str] = {}
    for role in lanes(trace):
        process = process_role(role)
        ancestor: str | None = process
        while ancestor is not None and ancestor not in own:
            ancestor = parent_role(ancestor)
        if ancestor is not None:
            commands[process] = own[ancestor]
    return commands


def _metadata(trace: Trace, found: Sequence[Track]) -> Iterator[TefEvent]:
    """The names and the tree order of the processes and threads."""
    commands = _commands(trace)
    processes: dict[int, list[str]] = {}
    for track in found:
        had = processes.setdefault(track.pid, [])
        had.extend(role for role in map(process_role, track.roles) if role not in had)
    for order, (pid, roles) in enumerate(processes.items()):
        command = next((commands[role] for role in roles if role in commands), None)
        name = ", ".join(roles) + (f" {command}" if command is not None else "")
        yield _meta("process_name", pid, pid, name=name)
        yield _meta("process_sort_index", pid, pid, sort_index=order)
    for order, track in enumerate(found):
        yield _meta("thread_name", track.pid, track.tid, name=track.name)
        yield _meta("thread_sort_index", track.pid, track.tid, sort_index=order)


def _meta(kind: str, pid: int, tid: int, **args: object) -> TefEvent:
    return {"ph": "M", "name": kind, "pid": pid, "tid": tid, "args": args}


def _call(span: Span, clock: _Clock, by_seq: Mapping[int, Event]) -> TefEvent:
    """A call as a complete event from its entry to its return, or to where its task (or the trace) ended."""
    event = span.event
    start = clock.us(event.enter_seq)
    args: dict[str, object] = {"strace": format_event(event), "seq": event.seq, "enter_seq": event.enter_seq}
    categories = ["syscall"]
    if event.errno is not None:
        args["errno"] = event.errno
    if "interrupted" in span.kinds:
        categories.append("interrupted")
        args["interrupted"] = event.errno
    if "tracer-artefact" in span.kinds:
        categories.append("tracer-artefact")
        args["tracer_artefact"] = "an ignored signal stopped this call only because it was traced"
    if "failed" in span.kinds:
        categories.append("failed")
    end = clock.us(event.seq)
    if event.ret is None:
        categories.append("unfinished")
        end = max(end, clock.us(span.end_seq))
        ended = by_seq.get(span.end_seq)
        where = (
            f"its task's end (#{span.end_seq})"
            if isinstance(ended, ExitEvent | ExecEvent) and ended.tid == event.tid
            else f"the end of the trace (#{span.end_seq})"
        )
        args["unfinished"] = f"never returned: drawn to {where}"
    if event.injected:
        categories.append("injected")
    return {
        "ph": "X",
        "name": event.name,
        "cat": ",".join(categories),
        "ts": start,
        "dur": max(end - start, 0),
        "pid": event.pid,
        "tid": event.tid,
        "args": args,
    }


def _nested(calls: list[TefEvent]) -> list[TefEvent]:
    """The calls with no two on one track overlapping: an earlier one is cut where a later one begins.

    A task makes one call at a time, so calls overlap only where a task's
    end was drawn past its next call: a leader's unfinished call drawn to
    the exec that a thread of its made, whose execve the leader's tid goes
    on with (execve(2)).  Both viewers need complete events on one track to
    nest; the cut call says it was cut.
    """
    last: dict[tuple[int, int], TefEvent] = {}
    for call in sorted(calls, key=lambda call: (call["ts"], call["args"]["seq"])):
        track = (call["pid"], call["tid"])
        before = last.get(track)
        if before is not None and before["ts"] + before["dur"] > call["ts"]:
            before["dur"] = call["ts"] - before["ts"]
            before["args"]["cut"] = f"cut where the next call on this track begins (#{call['args']['enter_seq']})"
        last[track] = call
    return calls


_INSTANT_KINDS = {SignalEvent: "signal", SpawnEvent: "spawn", ExecEvent: "exec", ExitEvent: "exit"}


def _instant_name(event: SignalEvent | SpawnEvent | ExecEvent | ExitEvent) -> str:
    match event:
        case SignalEvent():
            return event.name
        case SpawnEvent():
            return f"spawn {event.child_role}"
        case ExecEvent():
            return f"exec {event.filename.rsplit('/', 1)[-1]}"
        case ExitEvent():
            return f"killed by {event.signal}" if event.signal is not None else f"exit {event.code}"


def _instant(event: SignalEvent | SpawnEvent | ExecEvent | ExitEvent, clock: _Clock) -> TefEvent:
    """A point event on its task's track (scope thread)."""
    args: dict[str, object] = {"strace": format_event(event), "seq": event.seq}
    category = _INSTANT_KINDS[type(event)]
    if isinstance(event, SignalEvent):
        if event.injected:
            category += ",injected"
        if event.from_harness:
            args["sender"] = "the harness"
        if event.syscall_errno is not None:
            args["interrupted"] = f"{event.syscall} returning {event.syscall_errno}"
    return {
        "ph": "i",
        "s": "t",
        "name": _instant_name(event),
        "cat": category,
        "ts": clock.us(event.seq),
        "pid": event.pid,
        "tid": event.tid,
        "args": args,
    }


def _seq(event: Event) -> int:
    return event.seq


def _start_seq(event: Event) -> int:
    """Where an event begins in the run's order: a call at its entry."""
    return event.enter_seq if isinstance(event, SyscallEvent) else event.seq


def _first_events(trace: Trace) -> dict[str, Event]:
    """Each task's first event, by where it begins."""
    first: dict[str, Event] = {}
    for event in trace:
        known = first.get(event.role)
        if known is None or _start_seq(event) < _start_seq(known):
            first[event.role] = event
    return first


def signal_sender(trace: Trace, signal: SignalEvent) -> Event | None:
    """The event that sent ``signal``, when the trace shows it; None for the kernel's own signals and the harness's.

    ``si_pid`` names the sending process (sigaction(2), for SI_USER,
    SI_TKILL and the CLD_* codes of SIGCHLD).  For a SIGCHLD it names the
    child whose change of state it reports: its exit, when it came before.
    Otherwise the sender is that process's last kill, tkill or tgkill of
    this signal before the delivery.
    """
    pid = signal.siginfo.get("si_pid")
    if signal.from_harness or not isinstance(pid, int) or pid <= 0:
        return None
    role = trace.role_of_pid(pid)
    if role is None:
        return None
    if signal.name == "SIGCHLD":
        child_exit = trace.exit_of(role)
        if child_exit is not None and child_exit.seq <= signal.seq:
            return child_exit
    senders = calls_that("signals")
    return next(
        (
            event
            for event in reversed(trace[: bisect.bisect_left(trace, signal.seq, key=_seq)])
            if isinstance(event, SyscallEvent)
            and event.name in senders
            and event.pid == pid
            and event.args.get("signal") == signal.name
        ),
        None,
    )


def _flow(kind: str, name: str, flow_id: int, source: tuple[int, Event], target: tuple[int, Event]) -> list[TefEvent]:
    """An arrow: its start on the source's track, its end bound to the target's enclosing slice."""
    (start, origin), (end, goal) = source, target
    common = {"name": name, "cat": kind, "id": flow_id}
    return [
        {"ph": "s", **common, "ts": start, "pid": origin.pid, "tid": origin.tid},
        {"ph": "f", "bp": "e", **common, "ts": end, "pid": goal.pid, "tid": goal.tid},
    ]


def _flows(trace: Trace, clock: _Clock) -> Iterator[TefEvent]:
    """Spawn arrows (the creator's spawn to the new task's first event), signal arrows (sender to delivery).

    Ids are stable: twice the seq of the spawn or signal, plus one for a signal.
    """
    first = _first_events(trace)
    for event in trace:
        if isinstance(event, SpawnEvent) and event.child_role in first:
            child = first[event.child_role]
            spawned: tuple[int, Event] = (clock.us(event.seq), event)
            first_of_child = (_begin(child, clock), child)
            yield from _flow("spawn", f"spawn {event.child_role}", 2 * event.seq, spawned, first_of_child)
        elif isinstance(event, SignalEvent):
            sender = signal_sender(trace, event)
            if sender is not None:
                source = (_begin(sender, clock), sender)
                target = (clock.us(event.seq), event)
                yield from _flow("signal", f"{event.name} from {sender.role}", 2 * event.seq + 1, source, target)


def _begin(event: Event, clock: _Clock) -> int:
    return clock.us(_start_seq(event))


def _finding(finding: Finding, clock: _Clock, anchor: Track) -> TefEvent:
    """A finding as a global instant at its first event, with its text."""
    return {
        "ph": "i",
        "s": "g",
        "name": finding.title,
        "cat": f"finding,{finding.kind}",
        "ts": clock.us(min(finding.seqs)),
        "pid": anchor.pid,
        "tid": anchor.tid,
        "args": {
            "kind": finding.kind,
            "text": render([finding], format="text"),
            "seqs": list(finding.seqs),
            "roles": list(finding.roles),
        },
    }


#: At one time, slices come before instants, and both before arrows: Perfetto binds an arrow's end to the
#: slice open on its track when it reads the arrow (reading events in time order, and in the file's order at
#: one time), so an arrow read before the call it starts from would bind to another, or to none.
_PHASES = "Xisf"


def _order(event: TefEvent) -> tuple[int, int, int, int, int, str]:
    """Metadata first, then time order; at one time slices, instants, arrows; the rest by seq, then by text."""
    if event["ph"] == "M":
        return (0, 0, 0, 0, 0, "")
    seq = event.get("args", {}).get("seq", 0)
    phase = _PHASES.index(event["ph"])
    return (1, event["ts"], phase, -event.get("dur", 0), seq, json.dumps(event, sort_keys=True))


def trace_event_file(
    trace: Trace, *, source: str, version: str, findings: Sequence[Finding] | None = None
) -> dict[str, Any]:
    """The Trace Event Format object for ``trace``: its events, and what made it.

    ``findings`` default to ``harness explain``'s for the trace (imported
    here: the explanation is the costly part).
    """
    if findings is None:
        from harness.analysis.explain import explain

        findings = explain(trace)
    clock = _Clock(trace)
    by_seq = {event.seq: event for event in trace}
    found = tracks(trace)
    events: list[TefEvent] = list(_metadata(trace, found))
    events.extend(_nested([_call(span, clock, by_seq) for span in spans(trace, Axis(trace))]))
    events.extend(_instant(event, clock) for event in trace if not isinstance(event, SyscallEvent))
    events.extend(_flows(trace, clock))
    if found:
        events.extend(_finding(finding, clock, found[0]) for finding in findings)
    events.sort(key=_order)
    return {
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {
            "producer": "syscall-harness",
            "harness_version": version,
            "source": source,
            "clock": "microseconds since the traced command started"
            if clock.timed
            else "no times in this trace: one microsecond per event, in the run's order",
            "findings": str(len(findings)),
        },
        "metadata": {"findings": [finding.to_json() for finding in findings]},
    }


def to_json(document: Mapping[str, Any]) -> str:
    """The file's text: one event a line, keys sorted, so that two writes of one trace are byte-identical."""
    events = ",\n".join(json.dumps(event, sort_keys=True) for event in document["traceEvents"])
    rest = {key: value for key, value in document.items() if key != "traceEvents"}
    tail = json.dumps(rest, sort_keys=True)[1:]
    return '{"traceEvents": [\n' + events + "\n]" + (", " + tail if tail != "}" else "}") + "\n"


def summary(document: Mapping[str, Any]) -> str:
    """What the file holds, in the words of the command's one line: tracks, slices, instants, arrows, findings."""
    events = document["traceEvents"]
    count = {phase: sum(1 for event in events if event["ph"] == phase) for phase in ("X", "i", "s")}
    tracks = sum(1 for event in events if event["ph"] == "M" and event["name"] == "thread_name")
    findings = len(document["metadata"]["findings"])
    instants = count["i"] - findings
    return f"{tracks} tracks, {count['X']} calls, {instants} instants, {count['s']} arrows, {findings} findings"
