"""The Trace Event Format export of harness.analysis.trace_event_format, read back from hand-built traces: no ptrace.

The real runs, and Perfetto's own reading of them, are in
tests/integration/test_a_trace_exports_to_the_trace_event_format.py.
"""

from __future__ import annotations

import json
from typing import Any

from support.stories import Story

from harness.analysis.explain import explain
from harness.analysis.trace_event_format import summary, to_json, trace_event_file
from harness.model import record
from harness.model.events import ExecEvent, SignalEvent, SyscallEvent
from harness.model.trace import Trace


def _export(trace: Trace) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(to_json(trace_event_file(trace, source="story", version="0.0")))
    return loaded


def _of(document: dict[str, Any], ph: str, **fields: object) -> list[dict[str, Any]]:
    return [
        event
        for event in document["traceEvents"]
        if event["ph"] == ph and all(event.get(key) == value for key, value in fields.items())
    ]


def _sigchld_story() -> Trace:
    """A fork: main.1 exits while main blocks in accept4, which SIGCHLD interrupts; main reaps it."""
    story = Story()
    story.exec("main", "/usr/bin/python3", ("python3", "server.py"))
    handler = {"handler": "0x401000", "flags": ["SA_RESTORER"], "mask": [], "restorer": "0x402000"}
    story.call("main", "rt_sigaction", 0, signal="SIGCHLD", act=handler, sigsetsize=8)
    story.call("main", "listen", 0, fd=3, backlog=5)
    story.spawn("main", "main.1")
    story.call("main", "clone", 101)
    accept = story.enter()
    story.call("main.1", "close", 0, fd=3)
    story.call("main.1", "exit_group", None, status=0)
    story.exit("main.1", 0)
    story.call("main", "accept4", -512, enter=accept, fd=3)
    story.signal("main", "SIGCHLD", si_code="CLD_EXITED", si_pid=101, si_status=0)
    story.call("main", "wait4", 101, pid=-1)
    story.call("main", "exit_group", None, status=0)
    story.exit("main", 0)
    return story.trace()


def test_two_writes_of_one_trace_are_byte_identical() -> None:
    trace = _sigchld_story()
    first = to_json(trace_event_file(trace, source="story", version="0.0"))
    assert first == to_json(trace_event_file(trace, source="story", version="0.0"))
    assert len(first.splitlines()) == len(json.loads(first)["traceEvents"]) + 2  # one event a line


def test_each_task_is_a_track_named_from_its_role_and_its_command() -> None:
    document = _export(_sigchld_story())
    names = {(event["pid"], event["tid"]): event["args"]["name"] for event in _of(document, "M", name="thread_name")}
    assert names == {(100, 100): "main", (101, 101): "main.1"}
    processes = {event["pid"]: event["args"]["name"] for event in _of(document, "M", name="process_name")}
    assert processes == {100: "main python3 server.py", 101: "main.1 python3 server.py"}  # the child inherits it
    order = {event["pid"]: event["args"]["sort_index"] for event in _of(document, "M", name="process_sort_index")}
    assert order == {100: 0, 101: 1}


def test_a_trace_without_times_is_drawn_in_the_runs_order() -> None:
    trace = _sigchld_story()
    document = _export(trace)
    accept = _of(document, "X", name="accept4")[0]
    event = next(e for e in trace if isinstance(e, SyscallEvent) and e.name == "accept4")
    assert (accept["ts"], accept["dur"]) == (event.enter_seq, event.seq - event.enter_seq)
    assert "no times" in document["otherData"]["clock"]


def test_times_are_microseconds_since_the_command_started() -> None:
    trace = Trace(
        tuple(
            record.replace(event, time=event.seq / 1000, duration=0.0005)
            if isinstance(event, SyscallEvent)
            else record.replace(event, time=event.seq / 1000)
            for event in _sigchld_story()
        )
    )
    document = _export(trace)
    listen = _of(document, "X", name="listen")[0]
    assert (listen["ts"], listen["dur"]) == (4500, 500)  # exit at seq 5 (5 ms), entered 0.5 ms before
    assert document["otherData"]["clock"] == "microseconds since the traced command started"


def test_an_interrupted_call_says_so_in_its_category_and_args() -> None:
    document = _export(_sigchld_story())
    accept = _of(document, "X", name="accept4")[0]
    assert accept["cat"].split(",") == ["syscall", "interrupted"]
    assert accept["args"]["interrupted"] == "ERESTARTSYS"
    assert accept["args"]["strace"].startswith("[pid 100 main] accept4(")


def test_a_call_that_never_returned_is_drawn_to_its_end_and_says_which() -> None:
    story = Story()
    story.call("main", "listen", 0, fd=3, backlog=5)
    story.spawn("main", "main.1")
    story.call("main.1", "exit_group", None, status=0)
    story.exit("main.1", 0)
    accept = story.enter()
    story.call("main", "accept4", None, enter=accept, fd=3)  # the run was cut short
    document = _export(story.trace())
    exit_group = _of(document, "X", name="exit_group")[0]
    assert exit_group["args"]["unfinished"] == "never returned: drawn to its task's end (#6)"
    assert exit_group["ts"] + exit_group["dur"] == 6
    cut_short = _of(document, "X", name="accept4")[0]
    assert cut_short["args"]["unfinished"] == "never returned: drawn to the end of the trace (#8)"
    assert "unfinished" in cut_short["cat"].split(",")


def test_a_call_drawn_past_the_next_on_its_track_is_cut_where_that_one_begins() -> None:
    """A leader's accept ends at the exec a thread made, whose execve the leader's tid goes on with."""
    story = Story()
    accept = story.enter()  # 1
    story.spawn("main", "main/t1", thread=True)  # 2
    execve = story.enter()  # 3
    story.call("main", "accept", None, enter=accept, fd=3)  # 4: never returns, ends at the exec
    exec_event = story.exec("main")  # 5
    story.events[-1] = record.replace(exec_event, former_tid=101)
    story.call("main", "execve", 0, enter=execve)  # 3 to 6, on the leader's track
    document = _export(story.trace())
    cut = _of(document, "X", name="accept")[0]
    assert (cut["ts"], cut["dur"]) == (1, 2)
    assert cut["args"]["cut"] == "cut where the next call on this track begins (#3)"


def test_a_sigchld_arrow_goes_from_the_childs_exit_to_the_delivery() -> None:
    document = _export(_sigchld_story())
    (start,) = _of(document, "s", cat="signal")
    (finish,) = _of(document, "f", cat="signal")
    exit_instant = _of(document, "i", name="exit 0", tid=101)[0]
    delivery = _of(document, "i", name="SIGCHLD")[0]
    assert (start["tid"], start["ts"]) == (101, exit_instant["ts"])
    assert (finish["tid"], finish["ts"], finish["bp"]) == (100, delivery["ts"], "e")
    assert start["id"] == finish["id"] and start["name"] == finish["name"] == "SIGCHLD from main.1"


def test_a_spawn_arrow_goes_from_the_spawn_to_the_childs_first_event() -> None:
    document = _export(_sigchld_story())
    (start,) = _of(document, "s", cat="spawn")
    (finish,) = _of(document, "f", cat="spawn")
    spawn = _of(document, "i", name="spawn main.1")[0]
    first = _of(document, "X", name="close", tid=101)[0]
    assert (start["tid"], start["ts"]) == (100, spawn["ts"])
    assert (finish["tid"], finish["ts"]) == (101, first["ts"])
    assert start["id"] == finish["id"]


def test_a_kill_is_the_sender_of_the_signal_it_names() -> None:
    story = Story()
    story.spawn("main", "main.1")
    story.call("main.1", "kill", 0, pid=100, signal="SIGUSR1")
    story.call("main.1", "kill", 0, pid=100, signal="SIGTERM")
    story.signal("main", "SIGTERM", si_code="SI_USER", si_pid=101, si_uid=0)
    document = _export(story.trace())
    kill = next(event for event in _of(document, "X", name="kill") if "SIGTERM" in event["args"]["strace"])
    (start,) = _of(document, "s", cat="signal")
    (finish,) = _of(document, "f", cat="signal")
    assert (start["tid"], start["ts"]) == (101, kill["ts"])
    assert (finish["tid"], finish["name"]) == (100, "SIGTERM from main.1")


def test_a_signal_whose_sender_the_trace_does_not_show_has_no_arrow() -> None:
    story = Story()
    story.call("main", "listen", 0, fd=3, backlog=5)
    story.signal("main", "SIGTERM", si_code="SI_USER", si_pid=4242, si_uid=0)  # a process outside the trace
    story.signal("main", "SIGPIPE", si_code="SI_KERNEL")  # the kernel's own
    harness = story.signal("main", "SIGINT", si_code="SI_USER", si_pid=1)
    story.events[-1] = record.replace(harness, from_harness=True)
    document = _export(story.trace())
    assert _of(document, "s") == [] and _of(document, "f") == []
    assert _of(document, "i", name="SIGINT")[0]["args"]["sender"] == "the harness"


def test_the_findings_are_global_annotations_and_metadata() -> None:
    trace = _sigchld_story()
    findings = explain(trace)
    assert findings
    document = _export(trace)
    annotations = _of(document, "i", s="g")
    assert sorted(event["name"] for event in annotations) == sorted(finding.title for finding in findings)
    assert [event["ts"] for event in annotations] == sorted(min(finding.seqs) for finding in findings)
    assert all(event["cat"].startswith("finding,") and event["args"]["text"] for event in annotations)
    assert document["metadata"]["findings"] == [json.loads(json.dumps(f.to_json())) for f in findings]
    signal = next(e for e in trace if isinstance(e, SignalEvent))
    assert any(signal.seq in event["args"]["seqs"] for event in annotations)


def test_the_file_names_its_producer_and_its_source() -> None:
    document = _export(_sigchld_story())
    assert document["displayTimeUnit"] == "ms"
    assert {key: document["otherData"][key] for key in ("producer", "harness_version", "source")} == {
        "producer": "syscall-harness",
        "harness_version": "0.0",
        "source": "story",
    }


def test_the_summary_counts_what_the_file_holds() -> None:
    trace = _sigchld_story()
    document = trace_event_file(trace, source="story", version="0.0")
    calls = sum(1 for event in trace if isinstance(event, SyscallEvent))
    points = sum(1 for event in trace if not isinstance(event, SyscallEvent))
    assert summary(document) == (
        f"2 tracks, {calls} calls, {points} instants, 2 arrows, {len(document['metadata']['findings'])} findings"
    )
    assert not any(isinstance(event, ExecEvent) and event.role == "main.1" for event in trace)


def test_a_pid_given_again_within_a_run_shares_its_track_named_by_both_roles() -> None:
    story = Story(tids={"main.1": 101, "main.2": 101})
    story.spawn("main", "main.1")
    story.exit("main.1", 0)
    story.spawn("main", "main.2")
    story.exit("main.2", 0)
    document = json.loads(to_json(trace_event_file(story.trace(), source="story", version="0.0", findings=())))
    threads = {event["tid"]: event["args"]["name"] for event in _of(document, "M", name="thread_name")}
    assert threads == {100: "main", 101: "main.1, main.2"}
    processes = {event["pid"]: event["args"]["name"] for event in _of(document, "M", name="process_name")}
    assert processes == {100: "main", 101: "main.1, main.2"}
