"""Golden traces of real runs: stable from run to run, and a diff that shows a server's change of behaviour.

Every run here is a bundled variant under real ptrace in deterministic mode,
driven by the same code as ``harness run``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.capability import missing

from harness.analysis.golden import golden_from_trace, read_golden, write_golden
from harness.faces.cli import main
from harness.model.scenario import Scenario
from harness.model.trace import Trace
from harness.model.variants import find_variant
from harness.running.ports import free_port
from harness.running.run import run_server
from harness.running.variants import NoCompiler, variant_command

RUNS = 3


def normalized_run(name: str, connections: int = 3) -> list[tuple[str, tuple[str, ...]]]:
    """One deterministic run of a variant, normalized from its listen; roles in file order."""
    return list(golden_from_trace(variant_run(name, connections)).roles.items())


def variant_run(name: str, connections: int = 3) -> Trace:
    """The trace of one deterministic run of a variant."""
    variant = find_variant(name)
    port = free_port()
    try:
        command = variant_command(variant, port, connections)
    except NoCompiler as error:
        missing(str(error))
    result = run_server(command, variant.protocol, Scenario(connections), port=port)
    assert result.ok, f"{result.summary()}\n{result.clients.failures}\n{result.server_output}"
    return result.trace


@pytest.mark.parametrize("name", ["fork_sigchld", "c/echo_server"])
def test_the_same_variant_normalizes_identically_on_every_run(ptrace_permitted: None, name: str) -> None:
    first = normalized_run(name)
    main_story = dict(first)["main"]
    assert main_story[0] == "listen(3, 128) = 0"
    assert any("ERESTARTSYS" in line for line in main_story)  # the interesting part is in it
    for _ in range(RUNS - 1):
        assert normalized_run(name) == first


def test_goldens_are_equal_across_runs_with_different_timings(ptrace_permitted: None, tmp_path: Path) -> None:
    first, second = variant_run("fork_sigchld"), variant_run("fork_sigchld")
    assert [event.time for event in first] != [event.time for event in second]  # no two runs keep the same time
    assert golden_from_trace(first) == golden_from_trace(second)
    write_golden(tmp_path / "a.golden.yaml", golden_from_trace(first))
    text = (tmp_path / "a.golden.yaml").read_text()
    assert "time" not in text and "duration" not in text and "<0." not in text


def test_diff_shows_eintr_becoming_a_restart_of_accept4(
    ptrace_permitted: None, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["diff", "fork_sigchld", "fork_sigchld_restart"])
    out = capsys.readouterr().out.splitlines()
    assert status == 1
    assert out[:2] == ["--- fork_sigchld", "+++ fork_sigchld_restart"]
    assert any(line.startswith("== main: ") for line in out)
    assert out.count("-rt_sigreturn({mask=[]}) = -1 EINTR (Interrupted system call)") == 2
    assert out.count("+rt_sigreturn({mask=[]}) = (restarts accept4)") == 2
    # The handler's reaping now comes after the restarted accept4 has returned a connection.
    accept = (
        'accept4(3, {sa_family=AF_INET, sin_port=htons(PORT), sin_addr=inet_addr("127.0.0.1")}, [16], SOCK_CLOEXEC) = 4'
    )
    restart = out.index("+rt_sigreturn({mask=[]}) = (restarts accept4)")
    assert out[restart + 1] == "+" + accept
    # The SIGCHLD handler was installed with SA_RESTART: seen when the server puts SIG_DFL back.
    assert any(line.startswith("+rt_sigaction(SIGCHLD") and "SA_RESTART}" in line for line in out)
    assert not any(line.startswith(("== main.1", "== main.2", "== main.3")) for line in out)  # children alike


def test_a_recorded_golden_file_matches_a_new_run(
    ptrace_permitted: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    golden = tmp_path / "echo.golden.yaml"
    assert main(["record", "fork_sigchld", "-o", str(golden), "--connections", "2"]) == 0
    said = capsys.readouterr()
    recorded = read_golden(golden)
    assert list(recorded.roles) == ["main", "main.1", "main.2"]
    counts = ", ".join(f"{role} {len(lines)}" for role, lines in recorded.roles.items())
    assert said.out == f"wrote {golden}: events per role: {counts}\n"
    assert recorded.server == "fork_sigchld"
    assert recorded.scenario == {"connections": 2, "messages": 1, "concurrency": 1, "mode": "deterministic"}
    assert recorded.start_after == "listen"

    # The variant run by diff takes its connections from the golden file's scenario.
    assert main(["diff", str(golden), "fork_sigchld"]) == 0
    events = sum(len(lines) for lines in recorded.roles.values())
    assert capsys.readouterr().out == f"{golden} and fork_sigchld: the same (3 roles, {events} events)\n"
    assert main(["diff", "fork_sigchld", str(golden), "--connections", "3"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "== main.3: only in fork_sigchld (4 events)" in out


def test_record_writes_to_expectations_golden_by_default(
    ptrace_permitted: None, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    try:
        variant_command(find_variant("c/echo_server"), 0, 0)
    except NoCompiler as error:
        missing(str(error))
    assert main(["record", "c/echo_server"]) == 0
    path = Path("expectations/golden/c_echo_server.golden.yaml")
    assert capsys.readouterr().out.startswith(f"wrote {path}: events per role: main ")
    assert read_golden(tmp_path / path).server == "c/echo_server"


def test_a_jsonl_trace_compares_from_its_first_listen(
    ptrace_permitted: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    variant = find_variant("fork_sigchld")
    port = free_port()
    result = run_server(variant_command(variant, port, 3), variant.protocol, Scenario(3), port=port)
    assert result.ok
    jsonl = tmp_path / "run.jsonl"
    with jsonl.open("w", encoding="utf-8") as stream:
        result.trace.write_jsonl(stream)
    assert Trace.read_jsonl(jsonl) == result.trace
    assert main(["diff", str(jsonl), "fork_sigchld"]) == 0
    assert capsys.readouterr().out.startswith(f"{jsonl} and fork_sigchld: the same (4 roles, ")


def test_record_without_the_start_call_starts_at_the_beginning_and_says_so(
    ptrace_permitted: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    golden = tmp_path / "whole.golden.yaml"
    # Python's socket.accept() calls accept4, never accept.
    assert main(["record", "fork_sigchld", "-o", str(golden), "--start-after", "accept"]) == 0
    assert capsys.readouterr().err == (
        "harness: fork_sigchld: no accept call in the trace: the stories start at the beginning\n"
    )
    recorded = read_golden(golden)
    assert recorded.start_after is None
    assert recorded.roles["main"][0].startswith("+++ exec python")


def test_a_failed_run_is_not_recorded(
    ptrace_permitted: None, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    servers = tmp_path / "servers"
    servers.mkdir()
    (servers / "gives_up.py").write_text("import sys\nsys.exit(3)\n")
    monkeypatch.setenv("HARNESS_SERVERS", str(servers))
    golden = tmp_path / "gives_up.golden.yaml"
    assert main(["record", "gives_up", "-o", str(golden)]) == 70  # crashed at start
    err = capsys.readouterr().err.splitlines()
    assert err == ["harness: the server exited with 3 before it listened (it printed nothing)"]
    assert not golden.exists()


@pytest.mark.parametrize(
    ("arguments", "status", "message"),
    [
        (["diff", "{tmp}/missing.golden.yaml", "fork_sigchld"], 65, "missing.golden.yaml: no such golden file"),
        (["diff", "{tmp}/bad.golden.yaml", "fork_sigchld"], 65, "bad.golden.yaml:2:1: not valid YAML: expected"),
        (["diff", "fork_sigchld", "{tmp}/bad.jsonl"], 65, "bad.jsonl:1: not JSON"),
        (["diff", "fork_sigchld", "{tmp}/notes.txt"], 65, "notes.txt: not a golden file (*.golden.yaml)"),
        (["diff", "fork_sigchld", "fork_sigchd"], 2, "unknown server variant 'fork_sigchd'; did you mean"),
        (["record", "fork_sigchd"], 2, "unknown server variant 'fork_sigchd'; did you mean"),
        (["record", "fork_sigchld", "--start-after", "lisen"], 2, "unknown syscall 'lisen'; did you mean 'listen'?"),
    ],
)
def test_bad_inputs_end_in_one_line_and_a_distinct_status(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, arguments: list[str], status: int, message: str
) -> None:
    (tmp_path / "bad.golden.yaml").write_text("roles: [unclosed\n", encoding="utf-8")
    (tmp_path / "bad.jsonl").write_text("{not json\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("hello\n", encoding="utf-8")
    assert main([argument.format(tmp=tmp_path) for argument in arguments]) == status
    said = capsys.readouterr()
    assert said.out == ""
    assert said.err.count("\n") == 1
    assert said.err.startswith("harness: ")
    assert message in said.err
