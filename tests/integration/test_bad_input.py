"""Every mistake in the input ends in one clear line and its own exit status, never a traceback.

Each case runs the real command line (``harness.faces.cli.main``); the statuses
are those docs/reference/exit-statuses.md lists.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from support.programs import PYTHON

from harness.faces.cli import main


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    status = main(argv)
    err = capsys.readouterr().err
    assert not re.search(r'File ".*/harness/', err), err  # a server's own traceback may be shown, never ours
    return status, [line for line in err.splitlines() if line.startswith("harness:")]


@pytest.fixture
def servers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A servers/ directory of the test's own, for servers that misbehave on purpose."""
    directory = tmp_path / "servers"
    directory.mkdir()
    monkeypatch.setenv("HARNESS_SERVERS", str(directory))
    return directory


def test_an_unknown_variant_is_a_usage_error_with_the_nearest_name(capsys: pytest.CaptureFixture[str]) -> None:
    status, lines = _run(["run", "fork_sigchd"], capsys)
    assert status == 2
    assert lines == ["harness: unknown server variant 'fork_sigchd'; did you mean 'fork_sigchld'?"]


def test_an_unknown_syscall_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, lines = _run(["trace", "--syscalls", "acept4", "--", "true"], capsys)
    assert status == 2
    assert lines == ["harness: unknown syscall 'acept4'; did you mean 'accept4'?"]


def test_a_missing_server_program_is_127(ptrace_permitted: None, capsys: pytest.CaptureFixture[str]) -> None:
    status, lines = _run(["trace", "--", "./no-such-server", "--port", "1"], capsys)
    assert status == 127
    assert lines == ["harness: ./no-such-server: command not found (check the name, or give its path)"]


def test_a_server_that_crashes_at_start_is_70(
    ptrace_permitted: None, servers: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (servers / "crashes.py").write_text("raise SystemExit('cannot read my config file')\n")
    status, lines = _run(["run", "crashes", "-o", os.devnull], capsys)
    assert status == 70
    assert lines == ["harness: the server exited with 1 before it listened: cannot read my config file"]


def test_a_server_that_never_listens_is_124_and_says_where_it_was(
    ptrace_permitted: None, servers: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (servers / "hangs.py").write_text("import os\nr, w = os.pipe()\nos.read(r, 1)  # waits forever, never listens\n")
    # A time limit shorter than the stall detector's second of quiet ends the run first on every run, however
    # loaded the machine (with both at 1 s, the stall came first once in 11 runs under load).
    status, lines = _run(["run", "hangs", "--timeout", "0.5", "-o", os.devnull], capsys)
    assert status == 124
    assert len(lines) == 1
    assert lines[0].startswith("harness: the server never waited for a connection before the time limit")


def test_a_port_already_taken_is_75(ptrace_permitted: None, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        status, lines = _run(["run", "fork_sigchld", "--port", str(port), "-o", os.devnull], capsys)
    assert status == 75
    assert lines == [
        f"harness: port {port} is already taken by another process: choose another --port, "
        "or leave --port out to get a free one"
    ]


def test_a_server_that_finds_its_port_taken_is_75(
    ptrace_permitted: None, servers: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        (servers / "fixed_port.py").write_text(f"import socket\ns = socket.socket()\ns.bind(('127.0.0.1', {taken}))\n")
        status, lines = _run(["run", "fixed_port", "-o", os.devnull], capsys)
    assert status == 75
    assert lines[0].startswith("harness: the server could not listen: its port is taken: OSError: [Errno ")
    assert str(errno.EADDRINUSE) in lines[0]


def test_a_c_variant_without_a_compiler_is_69(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no cc, no gcc
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # nothing built before
    status, lines = _run(["run", "c/echo_server"], capsys)
    assert status == 69
    assert lines == [
        "harness: echo_server.c is a C variant and there is no C compiler: install one (apt-get install gcc)"
    ]


def test_ptrace_refused_is_77_with_the_fix(tmp_path: Path) -> None:
    """A container whose seccomp profile forbids ptrace, reproduced with a filter that makes it fail with EPERM."""
    wrapper = tmp_path / "no_ptrace.py"
    wrapper.write_text(
        "import errno, os, sys\nimport pyseccomp as seccomp\n"
        "f = seccomp.SyscallFilter(seccomp.ALLOW)\nf.add_rule(seccomp.ERRNO(errno.EPERM), 'ptrace')\nf.load()\n"
        "os.execv(sys.executable, [sys.executable, '-m', 'harness', *sys.argv[1:]])\n"
    )
    done = subprocess.run([PYTHON, str(wrapper), "trace", "--", "true"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 77
    assert done.stderr.startswith("harness: ptrace is not permitted here (PTRACE_TRACEME failed: ")
    assert "CAP_SYS_PTRACE" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert sys.executable  # the wrapper runs the same interpreter
