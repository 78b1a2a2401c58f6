"""``harness check`` holds a promise against a variant, an expectation file's server, a command or a saved trace.

The bundled ``fork_sigchld.expect.yaml`` passes with its own server; the
user's server here is a copy of ``fork_no_reap`` (which never reaps), so a
failure proves that the user's server, not the file's, was the one checked.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.projects import harness_cli, users_project

from harness.model.variants import expectations_dir

PROMISE = str(expectations_dir() / "fork_sigchld.expect.yaml")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return users_project(tmp_path, "fork_no_reap")


@pytest.mark.parametrize(
    "server",
    [
        ["--server", "fork_no_reap"],
        ["--server", "mine.expect.yaml"],
        ["--server-command", "{python} my_server.py --port {port} --connections {connections}"],
    ],
    ids=["variant", "expectation file", "command"],
)
def test_another_server_breaks_the_promise_the_files_own_keeps(
    ptrace_permitted: None, project: Path, server: list[str]
) -> None:
    done = harness_cli("check", PROMISE, *server, "--traces", "out", cwd=project)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL  no child is left a zombie" in done.stdout
    assert ("my_server.py" in done.stdout.splitlines()[0]) == (server[1] != "fork_no_reap")
    [kept] = (project / "out").glob("fork_sigchld.*.failed.jsonl")  # named for the server that failed
    tag = "fork_no_reap" if server[1] == "fork_no_reap" else "command-"
    assert kept.name.startswith(f"fork_sigchld.{tag}")


def test_a_saved_trace_is_checked_without_a_run(ptrace_permitted: None, project: Path) -> None:
    for variant in ("fork_no_reap", "fork_sigchld"):
        ran = harness_cli("run", variant, "--jsonl", f"{variant}.jsonl", "-o", "/dev/null", cwd=project)
        assert ran.returncode == 0, ran.stderr
    broken = harness_cli("check", "--trace", "fork_no_reap.jsonl", "mine.expect.yaml", cwd=project)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert broken.stdout.startswith("mine.expect.yaml (on the trace fork_no_reap.jsonl; nothing run)\n")
    assert "FAIL  every child is reaped" in broken.stdout
    kept = harness_cli("check", "--trace", "fork_sigchld.jsonl", "mine.expect.yaml", PROMISE, cwd=project)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "0 failed in 2 file(s)" in kept.stdout
    assert not list(project.glob("*.failed.*"))  # nothing ran, so no failing run was kept


def test_a_malformed_trace_is_one_line(project: Path) -> None:
    (project / "bad.jsonl").write_text('{"seq": 1}\n{not json\n')
    done = harness_cli("check", "--trace", "bad.jsonl", "mine.expect.yaml", cwd=project)
    assert (done.returncode, done.stdout) == (65, "")
    assert done.stderr.startswith("harness: bad.jsonl:1: ") and done.stderr.count("\n") == 1


def test_a_saved_trace_runs_no_server(project: Path) -> None:
    done = harness_cli("check", "--trace", "t.jsonl", "--server", "fork_sigchld", "mine.expect.yaml", cwd=project)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "harness: --trace checks a recorded trace and runs nothing: "
        "leave out --server, --server-command, --protocol and --traces\n"
    )


def test_without_an_expectations_directory_the_bundled_ones_are_checked(ptrace_permitted: None, tmp_path: Path) -> None:
    done = harness_cli("check", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == (
        f"harness: no expectations/ here: checking the bundled expectations in {expectations_dir()} "
        "(the traces of failing runs go here, not into the installed package)\n"
    )
    checked = {line.split(" (")[0] for line in done.stdout.splitlines() if not line.startswith(" ")}
    assert str(expectations_dir() / "fork_sigchld.expect.yaml") in checked
