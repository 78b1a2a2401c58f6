"""What a source argument names, and the traces the commands get from each kind (real runs where they run)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness.model.errors import HarnessError, PortInUse, TraceInputError, UsageError
from harness.model.events import Event, Listener, SyscallEntry
from harness.model.scenario import Scenario
from harness.running.sources import read_trace, run_variant, source_kind, trace_of, variant_trace


def test_the_suffix_tells_a_golden_file_from_a_trace_and_anything_else_is_a_variant(tmp_path: Path) -> None:
    assert source_kind("expectations/golden/fork_sigchld.golden.yaml") == "golden"
    assert source_kind("expectations/fork_sigchld.expect.yaml") == "expectation"
    assert source_kind(str(tmp_path / "missing.jsonl")) == "trace"
    assert source_kind("fork_sigchld") == "variant"
    assert source_kind("c/echo_server") == "variant"


def test_an_existing_file_of_another_kind_or_any_other_yaml_is_refused_not_guessed(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a trace\n")
    with pytest.raises(TraceInputError, match=r"notes.txt: not a golden file \(\*.golden.yaml\), an expectation file"):
        source_kind(str(notes))
    with pytest.raises(TraceInputError, match=r"other.yml: not a golden file .* nor a JSON Lines trace"):
        source_kind("other.yml")


def test_a_golden_file_has_no_trace_to_explain(tmp_path: Path) -> None:
    with pytest.raises(TraceInputError, match="a golden file holds normalized stories, not a trace"):
        trace_of(str(tmp_path / "x.golden.yaml"))


def test_an_unreadable_trace_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    with pytest.raises(TraceInputError, match=r"bad\.jsonl:1: not JSON"):
        read_trace(str(bad))


class Outputs:
    """A context like ``harness run``'s files: it notes whether it was entered, and what it was given."""

    def __init__(self) -> None:
        self.entered = False
        self.points: list[SyscallEntry | Event] = []

    @contextmanager
    def __call__(self) -> Iterator[Listener]:
        self.entered = True
        yield self.points.append


@pytest.mark.ptrace
def test_a_variant_run_is_watched_live_and_its_trace_is_the_one_seen(ptrace_permitted: None) -> None:
    outputs = Outputs()
    run = run_variant("fork_sigchld", Scenario(connections=2), outputs=outputs())
    assert run.name == "fork_sigchld" and run.result.ok
    seen = [point for point in outputs.points if not isinstance(point, SyscallEntry)]
    assert tuple(seen) == tuple(run.result.trace)


def test_a_refused_run_never_opens_its_outputs() -> None:
    outputs = Outputs()
    with pytest.raises(UsageError, match="did you mean 'fork_sigchld'"):
        run_variant("fork_sigchd", outputs=outputs())
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        with pytest.raises(PortInUse, match="already taken"):
            run_variant("fork_sigchld", port=holder.getsockname()[1], outputs=outputs())
    assert not outputs.entered


@pytest.mark.ptrace
def test_a_failed_run_gives_its_error_not_a_trace(
    ptrace_permitted: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "gives_up.py").write_text("import sys\nsys.exit(3)\n")  # exits before it listens
    monkeypatch.setenv("HARNESS_SERVERS", str(tmp_path))
    with pytest.raises(HarnessError, match="exited with 3") as caught:
        variant_trace("gives_up")
    assert caught.value.exit_status == 70
