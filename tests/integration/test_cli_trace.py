"""`harness trace` as a person runs it: text, JSON Lines, exit status, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.model.trace import Trace

HARNESS = [sys.executable, "-m", "harness"]


def run_own_server(tmp_path: Path, name: str, source: str, *options: str) -> subprocess.CompletedProcess[str]:
    """`harness run NAME` for a server a test writes into its own servers/ directory."""
    servers = tmp_path / "servers"
    servers.mkdir()
    (servers / f"{name}.py").write_text(source)
    return subprocess.run(
        [*HARNESS, "run", name, *options],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "HARNESS_SERVERS": str(servers)},
    )


def test_trace_prints_strace_text_and_writes_the_documented_jsonl(
    ptrace_permitted: None, c_program: Callable[[str], Path], tmp_path: Path
) -> None:
    jsonl = tmp_path / "run.jsonl"
    text = tmp_path / "run.txt"
    done = subprocess.run(
        [*HARNESS, "trace", "--jsonl", str(jsonl), "-o", str(text), "--", str(c_program("sigchld_accept"))],
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0
    assert done.stderr == "accept: Interrupted system call\n"  # the program's own, the trace went to -o
    lines = text.read_text().splitlines()
    # As strace prints it: no buffer for the peer, so both pointers show at entry.
    assert any(
        line.endswith("<... accept resumed>) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)") for line in lines
    )
    assert any("] accept(3, NULL, NULL <unfinished ...>" in line for line in lines)
    assert any("--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=" in line for line in lines)
    assert any(line.endswith("rt_sigreturn({mask=[]}) = -1 EINTR (Interrupted system call)") for line in lines)
    assert lines[-1].endswith("main] +++ exited with 0 +++")
    objects = [json.loads(line) for line in jsonl.read_text().splitlines()]
    seqs = [obj["seq"] for obj in objects]
    assert seqs == sorted(seqs)
    restart = next(obj for obj in objects if obj.get("errno") == "ERESTARTSYS")
    assert restart["ret"] == -512 and restart["enter_seq"] < restart["seq"]
    assert set(restart) == {
        *("seq", "pid", "tid", "role", "type", "time", "name", "args", "ret", "errno", "enter_seq", "duration")
    }
    assert "start_realtime" in objects[0]
    # `harness show` renders the JSON Lines back into the same text.
    shown = subprocess.run([*HARNESS, "show", str(jsonl)], capture_output=True, text=True, check=True)
    assert shown.stdout.splitlines() == lines


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=lambda sig: sig.name)
def test_a_stop_signal_to_the_harness_kills_the_tree_and_keeps_the_trace(
    ptrace_permitted: None, tmp_path: Path, stop: signal.Signals
) -> None:
    jsonl = tmp_path / "run.jsonl"
    server = "import os, socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); os.fork(); s.accept()"
    with subprocess.Popen(
        [*HARNESS, "trace", "--jsonl", str(jsonl), "--", sys.executable, "-c", server],
        stderr=subprocess.PIPE,
    ) as harness:
        assert harness.stderr is not None
        # The text trace is written as it happens, a blocking call as soon as it
        # is entered: read until both processes are inside accept4.
        seen = b""
        while seen.count(b"accept4(") < 2:
            chunk = os.read(harness.stderr.fileno(), 4096)
            assert chunk, seen.decode()
            seen += chunk
        harness.send_signal(stop)
        rest = harness.stderr.read().decode()
        assert harness.wait(timeout=60) == 128 + stop
    assert f"harness: {stop.name} received: the traced processes were killed" in rest
    assert "<... accept4 resumed> <unfinished ...>) = ?" in rest

    trace = Trace.read_jsonl(jsonl)
    exits = {role: trace.exit_of(role) for role in ("main", "main.1")}
    assert {role: (event.signal if event else None) for role, event in exits.items()} == {
        "main": "SIGKILL",
        "main.1": "SIGKILL",
    }
    pids = {event.pid for event in trace}
    assert {pid for pid in pids if os.path.exists(f"/proc/{pid}")} == set()


def test_unknown_syscall_is_refused_with_the_nearest_name() -> None:
    done = subprocess.run(
        [*HARNESS, "trace", "--syscalls", "acept,close", "--", "true"], capture_output=True, text=True, check=False
    )

    assert done.returncode == 2
    assert done.stderr == "harness: unknown syscall 'acept'; did you mean 'accept'?\n"


def test_missing_command_is_named() -> None:
    done = subprocess.run([*HARNESS, "trace", "--", "no-such-server-xyz"], capture_output=True, text=True, check=False)

    assert done.returncode == 127
    assert done.stderr == "harness: no-such-server-xyz: command not found (check the name, or give its path)\n"


def test_no_command_is_a_usage_error() -> None:
    done = subprocess.run([*HARNESS, "trace"], capture_output=True, text=True, check=False)

    assert done.returncode == 2
    assert "no command to trace" in done.stderr


def test_show_names_the_line_of_a_broken_trace(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"seq": 1, "pid": 1, "tid": 1, "role": "main", "type": "exit", "code": 0}\n{"seq": 2,\n')

    done = subprocess.run([*HARNESS, "show", str(broken)], capture_output=True, text=True, check=False)

    assert done.returncode == 65
    assert done.stderr.startswith(f"harness: {broken}:2: not JSON:")
    assert "Traceback" not in done.stderr


def test_run_prints_the_trace_and_a_summary(ptrace_permitted: None, tmp_path: Path) -> None:
    jsonl = tmp_path / "run.jsonl"
    done = subprocess.run(
        [*HARNESS, "run", "fork_sigchld", "--connections", "2", "--jsonl", str(jsonl)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "rt_sigreturn({mask=[]}) = -1 EINTR (Interrupted system call)" in done.stderr
    assert done.stderr.splitlines()[-1].startswith("fork_sigchld: 2 connections, clients ok, server exited with 0, ")
    assert any(line.get("errno") == "ERESTARTSYS" for line in map(json.loads, jsonl.read_text().splitlines()))


def test_run_of_a_failing_server_shows_its_output(ptrace_permitted: None, tmp_path: Path) -> None:
    done = run_own_server(
        tmp_path, "broken", "import sys\nprint('cannot bind: port taken', file=sys.stderr)\nsys.exit(3)\n"
    )

    assert done.returncode == 70  # exited before it listened
    assert "broken: 0 of 3 connections made, server exited with 3" in done.stderr
    assert "server output:\n  cannot bind: port taken\n" in done.stderr
    assert done.stderr.endswith("harness: the server exited with 3 before it listened: cannot bind: port taken\n")


def test_run_refuses_concurrency_in_deterministic_mode() -> None:
    done = subprocess.run(
        [*HARNESS, "run", "fork_sigchld", "--concurrency", "4"], capture_output=True, text=True, check=False
    )

    assert done.returncode == 2
    assert "deterministic mode serves one connection at a time; use --mode free" in done.stderr


def test_a_run_that_times_out_says_where_each_process_was_blocked(ptrace_permitted: None, tmp_path: Path) -> None:
    mute = (
        "import socket, sys\n"
        "port = int(sys.argv[sys.argv.index('--port') + 1])\n"
        "listener = socket.create_server(('127.0.0.1', port))\n"
        "print(f'listening on 127.0.0.1:{port}', flush=True)\n"
        "kept = [listener.accept() for _ in range(100)]  # accepts, never answers\n"
    )
    # The time limit is what the test is about, so it cannot be a handshake; it only has to
    # leave the traced interpreter time to start and block in accept4, even on a loaded machine.
    done = run_own_server(tmp_path, "mute", mute, "--connections", "1", "--timeout", "10", "-o", os.devnull)

    assert done.returncode == 1
    assert "timed out (the whole tree was killed)" in done.stderr
    assert "  main was blocked in accept4(3, ...)\n" in done.stderr


def test_trace_uses_the_prefilter_by_default_and_says_so_with_verbose(ptrace_permitted: None) -> None:
    from harness.running.tracer import Tracer

    expected = "seccomp prefilter" if Tracer(["true"]).uses_seccomp else "every call stepped"
    default = subprocess.run(
        [*HARNESS, "trace", "-v", "-o", os.devnull, "--", "sh", "-c", "exit 3"], capture_output=True, text=True
    )
    stepped = subprocess.run(
        [*HARNESS, "trace", "-v", "--no-seccomp", "-o", os.devnull, "--", "sh", "-c", "exit 3"],
        capture_output=True,
        text=True,
    )

    assert (default.returncode, stepped.returncode) == (3, 3)
    assert default.stderr.startswith(f"harness: {expected}, ")
    assert stepped.stderr.startswith("harness: every call stepped, ")


def test_text_sent_to_dev_null_is_not_rendered_and_the_jsonl_is_whole(
    ptrace_permitted: None, c_program: Callable[[str], Path], tmp_path: Path
) -> None:
    """The same program traced twice, its text discarded and kept: the same events.

    The program orders its child's death against its wait by handshakes (a shell's ``(exit 3)`` did not:
    whether the child's SIGCHLD interrupted the shell's wait4 differed from run to run).
    """
    discarded, kept = tmp_path / "discarded.jsonl", tmp_path / "kept.jsonl"
    command = [str(c_program("killed_child"))]
    for jsonl, text in ((discarded, os.devnull), (kept, str(tmp_path / "run.txt"))):
        done = subprocess.run(
            [*HARNESS, "trace", "--jsonl", str(jsonl), "-o", text, "--", *command], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr

    assert Trace.read_jsonl(discarded).outline() == Trace.read_jsonl(kept).outline()
    written = (tmp_path / "run.txt").read_text()
    assert (written.count("+++ killed by SIGTERM +++"), written.count("+++ exited with 0 +++")) == (1, 1)


def test_trace_starts_without_the_expectation_model_yaml_or_a_library_search(ptrace_permitted: None) -> None:
    """What `harness trace -o /dev/null` does not import: what a run without text, injection or frames never uses.

    Not the expectation model, YAML, importlib.metadata, nor ctypes.util (which would run ``ldconfig -p``
    to find the C library or libseccomp); not python-ptrace with its logging (a run without --inject on a
    kernel with PTRACE_GET_SYSCALL_INFO makes every request directly); not JSON, the event contract, the
    scenario, the injection modules, the text renderer or the frame model; of the analysis, only the
    constants the parser shows (its defaults).
    """
    probe = (
        "import os, sys\n"
        "from harness.faces.cli import main\n"
        "main(['trace', '-o', os.devnull, '--', 'true'])\n"
        "light = 'harness.analysis.defaults'  # constants the parser shows, nothing imported with them\n"
        "heavy = ('yaml', 'subprocess', 'ctypes.util', 'importlib.metadata', 'pyseccomp',\n"
        "         'harness.model.expectations', 'harness.model.steps',\n"
        "         'ptrace', 'logging', 'json', 'harness.model.event_contract', 'harness.model.scenario',\n"
        "         'harness.model.injection', 'harness.running.tracer.injection_policy',\n"
        "         'harness.model.strace_format', 'harness.model.frames')\n"
        "analysis = [name for name in sys.modules if name.startswith('harness.analysis.')]\n"
        "print(sorted([name for name in heavy if name in sys.modules] + [n for n in analysis if n != light]))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"
