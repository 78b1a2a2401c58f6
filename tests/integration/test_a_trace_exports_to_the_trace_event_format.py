"""``harness report --format tef`` writes real runs as Perfetto and chrome://tracing read them.

Each source is run under real ptrace by the command line, as a person runs
it: three bundled variants (a forking server whose accept4 SIGCHLD
interrupts, one whose children start threads, the C echo server) and socat
from examples/, a real server written elsewhere.  Every file is checked
strictly against the format's rules (JSON; each complete event on a named
track with times >= 0; no two calls of a track overlapping; each arrow's
start and end with one id and category, the end no earlier, each on
something drawn on its track), then against the story of its run.  Then
Perfetto's own trace processor loads it (the WebAssembly build its UI runs,
driven by the ``perfetto`` package: tests/support/perfetto_wasm.py) and the
slices, threads, processes and arrows are queried back.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.capability import missing
from support.nested_trace import NESTED
from support.perfetto_wasm import trace_processor

pytestmark = [pytest.mark.ptrace, pytest.mark.usefixtures("ptrace_permitted")]

EXAMPLES = Path(__file__).parents[2] / "examples"
#: The sources exported, each as the command line names it.
SOURCES = {
    "fork_sigchld": ("fork_sigchld", "--connections", "2"),
    "fork_threads": ("fork_threads", "--connections", "2"),
    "c/echo_server": ("c/echo_server", "--connections", "2"),
    "socat": (str(EXAMPLES / "socat" / "socat.expect.yaml"),),
}
SUMMARY = re.compile(r"wrote (.+): (\d+) tracks, (\d+) calls, (\d+) instants, (\d+) arrows, (\d+) findings")


def _harness(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *argv], capture_output=True, text=True, timeout=300, check=False
    )


@dataclass(frozen=True)
class Export:
    """A file the command wrote, what it said, and the file's events sorted by kind."""

    source: str
    path: Path
    stdout: str
    document: dict[str, Any]

    @property
    def events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.document["traceEvents"]
        return events

    def of(self, ph: str, **fields: object) -> list[dict[str, Any]]:
        return [e for e in self.events if e["ph"] == ph and all(e.get(k) == v for k, v in fields.items())]

    def tid_of(self, role: str) -> int:
        (name,) = self.of("M", name="thread_name", args={"name": role})
        tid: int = name["tid"]
        return tid

    def flows(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        ends = {event["id"]: event for event in self.of("f")}
        for start in self.of("s"):
            yield start, ends[start["id"]]


def _export(source: str, folder: Path) -> Export:
    if source == "socat" and shutil.which("socat") is None:
        missing("socat is not installed: apt-get install socat")
    path = folder / "trace.json"
    done = _harness("report", *SOURCES[source], "--format", "tef", "-o", str(path))
    assert done.returncode == 0, done.stderr
    return Export(source, path, done.stdout, json.loads(path.read_text()))


#: What the ``exports`` fixture gives: the export of a source, made when a test first asks for it.
Exports = Callable[[str], Export]


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Exports:
    """One real run of each source, exported by ``harness report --format tef`` when a test first asks for it."""
    made: dict[str, Export] = {}

    def export(source: str) -> Export:
        if source not in made:
            made[source] = _export(source, tmp_path_factory.mktemp("tef"))
        return made[source]

    return export


each_source = pytest.mark.parametrize("source", list(SOURCES))


def _covers(slices: list[dict[str, Any]], ts: int) -> bool:
    return any(s["ts"] <= ts <= s["ts"] + s.get("dur", 0) for s in slices)


@each_source
def test_the_file_keeps_every_rule_of_the_format(exports: Exports, source: str) -> None:
    export = exports(source)
    assert set(export.document) == {"traceEvents", "displayTimeUnit", "otherData", "metadata"}
    assert export.document["displayTimeUnit"] == "ms"
    other = export.document["otherData"]
    assert other["producer"] == "syscall-harness" and other["harness_version"] and other["source"]
    assert other["clock"] == "microseconds since the traced command started"
    assert {event["ph"] for event in export.events} <= {"M", "X", "i", "s", "f"}
    threads = {(e["pid"], e["tid"]) for e in export.of("M", name="thread_name")}
    processes = {e["pid"] for e in export.of("M", name="process_name")}
    assert {pid for pid, _ in threads} == processes
    on_tracks: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for event in export.events:
        if event["ph"] == "M" or event.get("s") == "g":
            continue
        assert (event["pid"], event["tid"]) in threads, event  # every event on a named track
        assert isinstance(event["ts"], int) and event["ts"] >= 0, event
        if event["ph"] == "X":
            assert isinstance(event["dur"], int) and event["dur"] >= 0, event
            assert event["args"]["strace"].startswith(f"[pid {event['args']['strace'].split()[1]} "), event
        if event["ph"] == "i":
            assert event["s"] == "t", event
        if event["ph"] in "Xi":
            on_tracks.setdefault((event["pid"], event["tid"]), []).append(event)
    for slices in on_tracks.values():
        calls = sorted((e for e in slices if e["ph"] == "X"), key=lambda e: (e["ts"], e["args"]["seq"]))
        for before, after in itertools.pairwise(calls):
            assert before["ts"] + before["dur"] <= after["ts"], (before, after)  # one call at a time
    assert Counter(e["id"] for e in export.of("s")) == Counter(e["id"] for e in export.of("f"))
    assert all(count == 1 for count in Counter(e["id"] for e in export.of("s")).values())
    for start, end in export.flows():
        assert (start["cat"], start["name"]) == (end["cat"], end["name"])
        assert end["bp"] == "e" and end["ts"] >= start["ts"]
        assert _covers(on_tracks[(start["pid"], start["tid"])], start["ts"]), start  # it starts on something drawn
        assert _covers(on_tracks[(end["pid"], end["tid"])], end["ts"]), end
    said = SUMMARY.fullmatch(export.stdout.strip())
    assert said is not None, export.stdout
    tracks, called, instants, arrows, findings = map(int, said.groups()[1:])
    assert export.stdout.count("\n") == 1
    assert (tracks, called, arrows) == (len(threads), len(export.of("X")), len(export.of("s")))
    assert (instants + findings, findings) == (len(export.of("i")), len(export.document["metadata"]["findings"]))


@each_source
def test_each_task_has_a_track_named_from_its_role_and_a_spawn_arrow_from_its_creator(
    exports: Exports, source: str
) -> None:
    export = exports(source)
    names = {e["args"]["name"]: (e["pid"], e["tid"]) for e in export.of("M", name="thread_name")}
    assert "main" in names and "main.1" in names and "main.2" in names
    for role, (pid, tid) in names.items():
        process = role.split("/")[0]
        assert pid == names[process][0]  # a thread is on its process's pid
        assert (tid == pid) == (role == process)
        process_names = [e["args"]["name"] for e in export.of("M", name="process_name", pid=pid)]
        assert len(process_names) == 1 and process_names[0].startswith(f"{process} ")  # the command follows
    spawned = {end["tid"]: start for start, end in export.flows() if start["cat"] == "spawn"}
    for role, (_, tid) in names.items():
        if role == "main":
            continue
        creator = spawned[tid]  # every task but main has its spawn arrow, from its creator's clone
        assert creator["name"] == f"spawn {role}"
        parent = role.rsplit("/", 1)[0] if "/" in role else role.rsplit(".", 1)[0]
        assert creator["tid"] == names[parent][1]
        clones = [e for e in export.of("X", tid=creator["tid"]) if e["name"] in ("clone", "clone3", "fork", "vfork")]
        assert _covers(clones, creator["ts"])


def test_fork_threads_draws_its_threads_on_their_process(exports: Exports) -> None:
    export = exports("fork_threads")
    threads = [e for e in export.of("M", name="thread_name") if "/" in e["args"]["name"]]
    assert {e["args"]["name"] for e in threads} >= {"main.1/t1", "main.1/t2", "main.2/t1", "main.2/t2"}
    for thread in threads:
        process = thread["args"]["name"].split("/")[0]
        assert thread["pid"] == export.of("M", name="thread_name", args={"name": process})[0]["pid"]
        assert thread["tid"] != thread["pid"]


@pytest.mark.parametrize("source", ["fork_sigchld", "c/echo_server"])
def test_the_accept_that_sigchld_interrupts_is_marked_interrupted(exports: Exports, source: str) -> None:
    export = exports(source)
    interrupted = [
        e
        for e in export.of("X", tid=export.tid_of("main"))
        if e["name"] in ("accept", "accept4") and "interrupted" in e["cat"].split(",")
    ]
    assert interrupted and all(e["args"]["interrupted"] == "ERESTARTSYS" for e in interrupted)
    assert all("= ? ERESTARTSYS" in e["args"]["strace"] for e in interrupted)


@each_source
def test_each_sigchld_is_on_its_parents_track_with_an_arrow_from_the_childs_exit(exports: Exports, source: str) -> None:
    export = exports(source)
    roles = {e["tid"]: e["args"]["name"] for e in export.of("M", name="thread_name")}
    exited = [e for e in export.of("i", name="SIGCHLD") if "si_code=CLD_EXITED" in e["args"]["strace"]]
    assert exited
    arrows = {(end["tid"], end["ts"]): start for start, end in export.flows() if start["cat"] == "signal"}
    for signal in exited:
        start = arrows[(signal["tid"], signal["ts"])]
        child = start["name"].removeprefix("SIGCHLD from ")
        assert start["tid"] == export.tid_of(child)
        assert child.rsplit(".", 1)[0] == roles[signal["tid"]].split("/")[0]  # delivered to its parent's track
        assert any(e["ts"] == start["ts"] for e in export.of("i", tid=start["tid"]) if e["cat"] == "exit")


@each_source
def test_the_findings_of_explain_are_annotations(exports: Exports, source: str) -> None:
    export = exports(source)
    findings = export.document["metadata"]["findings"]
    annotations = export.of("i", s="g")
    assert findings and len(annotations) == len(findings)
    assert sorted(e["name"] for e in annotations) == sorted(f["title"] for f in findings)
    assert all(e["args"]["text"].startswith(e["name"]) for e in annotations)
    if source == "fork_sigchld":
        assert {f["kind"] for f in findings} >= {"interrupted", "zombie"}


@each_source
def test_perfetto_reads_back_every_slice_thread_process_and_arrow(exports: Exports, source: str) -> None:
    export = exports(source)
    processor = trace_processor(export.path)
    try:

        def rows(sql: str) -> list[dict[str, Any]]:
            return [dict(row.__dict__) for row in processor.query(sql)]

        problems = rows("select name, idx, value from stats where value > 0 and severity in ('error', 'data_loss')")
        assert problems == []
        on_threads = rows(
            "select s.name, s.ts, s.dur, s.category, t.tid from slice s "
            "join thread_track tt on s.track_id = tt.id join thread t using (utid)"
        )
        expected = [
            (e["name"], e["ts"] * 1000, e.get("dur", 0) * 1000, e["cat"], e["tid"])
            for e in export.events
            if e["ph"] in "Xi" and e.get("s") != "g"
        ]
        assert Counter(tuple(row.values()) for row in on_threads) == Counter(expected)
        findings = rows("select name from slice where category like 'finding,%'")
        assert sorted(row["name"] for row in findings) == sorted(e["name"] for e in export.of("i", s="g"))
        threads = {row["tid"]: row["name"] for row in rows("select tid, name from thread where tid != 0")}
        assert threads == {e["tid"]: e["args"]["name"] for e in export.of("M", name="thread_name")}
        processes = {row["pid"]: row["name"] for row in rows("select pid, name from process where pid != 0")}
        assert processes == {e["pid"]: e["args"]["name"] for e in export.of("M", name="process_name")}
        flows = rows(
            "select so.ts out_ts, tout.tid out_tid, si.ts in_ts, tin.tid in_tid from flow f "
            "join slice so on f.slice_out = so.id join thread_track tto on so.track_id = tto.id "
            "join thread tout on tto.utid = tout.utid "
            "join slice si on f.slice_in = si.id join thread_track tti on si.track_id = tti.id "
            "join thread tin on tti.utid = tin.utid"
        )
        assert Counter((row["out_tid"], row["in_tid"]) for row in flows) == Counter(
            (start["tid"], end["tid"]) for start, end in export.flows()
        )
        if source == "fork_sigchld":
            (accept,) = rows(
                "select extract_arg(arg_set_id, 'args.interrupted') as code, t.name as thread from slice s "
                "join thread_track tt on s.track_id = tt.id join thread t using (utid) "
                "where s.name = 'accept4' and s.category like '%interrupted%'"
            )
            assert accept == {"code": "ERESTARTSYS", "thread": "main"}
            spawn_parents = rows(
                "select p.name from flow f join slice s on f.slice_out = s.id join slice p on s.parent_id = p.id "
                "where s.name like 'spawn %'"
            )
            assert [row["name"] for row in spawn_parents] == ["clone", "clone"]  # the arrow leaves from the clone
    finally:
        processor.close()


def test_two_exports_of_one_trace_are_byte_identical(tmp_path: Path) -> None:
    jsonl = tmp_path / "run.jsonl"
    ran = _harness("run", "fork_sigchld", "--connections", "2", "--jsonl", str(jsonl), "-o", str(tmp_path / "run.txt"))
    assert ran.returncode == 0, ran.stderr
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    for path in (first, second):
        done = _harness("report", str(jsonl), "--format", "tef", "-o", str(path))
        assert done.returncode == 0, done.stderr
        assert SUMMARY.fullmatch(done.stdout.strip()) and done.stdout.count("\n") == 1
    assert first.read_bytes() == second.read_bytes()
    assert json.loads(first.read_text())["otherData"]["source"] == str(jsonl)


def test_a_format_it_does_not_know_is_refused_by_argparse(tmp_path: Path) -> None:
    done = _harness("report", "fork_sigchld", "--format", "svg", "-o", str(tmp_path / "t.svg"))
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "harness report: error: argument --format: invalid choice: 'svg' (choose from 'html', 'tef')"
    )
    assert not (tmp_path / "t.svg").exists()


@pytest.mark.parametrize(
    ("path", "reason"), [("/dev/full", "No space left on device"), ("/proc/self/stat", "Invalid argument")]
)
def test_an_export_that_cannot_be_written_is_one_line(path: str, reason: str, tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    trace.write_text("".join(json.dumps(event) + "\n" for event in NESTED))
    done = _harness("report", str(trace), "--format", "tef", "-o", path)
    assert done.returncode == 74, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [f"harness: cannot write {path}: {reason}"]
