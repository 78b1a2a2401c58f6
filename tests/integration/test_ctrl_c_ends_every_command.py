"""Ctrl-C and SIGTERM end every command that runs a server: its status is 130 or 143, with no traceback, no survivor."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness.running.ports import free_port

#: Each test here runs a server under the tracer.
pytestmark = pytest.mark.usefixtures("ptrace_permitted")

SERVER = Path(__file__).parent / "servers" / "accepts_then_hangs.py"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _pids_of_server(marker: Path) -> list[int]:
    """The processes running the test server now (its command line names the marker)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if str(marker).encode() in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


#: Execs its arguments with SIGHUP at its default, as a command started from a terminal has it: a suite run
#: under nohup has it ignored, and a harness started with SIGHUP ignored keeps ignoring it (as nohup asks).
_FROM_A_TERMINAL = [
    sys.executable,
    "-c",
    "import os, signal, sys; signal.signal(signal.SIGHUP, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])",
]


def _signal_when_marked(argv: list[str], marker: Path, signum: signal.Signals) -> tuple[int, str, list[int]]:
    """Start the harness, send it ``signum`` once ``marker`` exists: its status, its output, the server's pids then."""
    harness = subprocess.Popen(
        [*_FROM_A_TERMINAL, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        while not marker.exists():  # the run is under way, where the marker says
            assert harness.poll() is None, harness.communicate()
        server_pids = _pids_of_server(marker)
        harness.send_signal(signum)
        out, err = harness.communicate(timeout=60)
    finally:
        if harness.poll() is None:
            os.killpg(harness.pid, signal.SIGKILL)
            harness.communicate()
    return harness.returncode, out + err, server_pids


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["SIGINT", "SIGTERM", "SIGHUP"])
@pytest.mark.parametrize("command", ["run", "explain", "report", "record", "sweep", "trace"])
def test_a_signal_during_the_run_ends_the_command_with_the_shells_status(
    tmp_path: Path, command: str, signum: signal.Signals
) -> None:
    marker = tmp_path / "listening"
    port = free_port()
    server = [sys.executable, str(SERVER), "{port}" if command != "trace" else str(port), str(marker)]
    outputs = {"report": ["-o", str(tmp_path / "r.html")], "record": ["-o", str(tmp_path / "r.golden.yaml")]}
    argv = [sys.executable, "-m", "harness", command, *outputs.get(command, [])]
    if command != "trace":
        argv += ["--connections", "1", "--timeout", "600"]
    status, said, server_pids = _signal_when_marked([*argv, "--", *server], marker, signum)  # once it listens
    assert status == 128 + signum, said
    assert "Traceback" not in said
    assert signum.name in said.strip().splitlines()[-1]  # the last word says what stopped it
    assert server_pids and not any(_alive(pid) for pid in server_pids)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_a_sweeps_parallel_runs_ends_every_run(tmp_path: Path, signum: signal.Signals) -> None:
    marker = tmp_path / "signalled"
    server = [sys.executable, str(SERVER.parent / "hangs_when_signalled.py"), "{port}", str(marker), "{connections}"]
    argv = [sys.executable, "-m", "harness", "sweep", "-j", "2", "--connections", "1", "--timeout", "600"]
    # The marker: a site's run delivered its signal, and that server hangs.
    status, said, server_pids = _signal_when_marked([*argv, "--", *server], marker, signum)
    assert status == 128 + signum, said
    assert "Traceback" not in said
    assert server_pids and not any(_alive(pid) for pid in server_pids)
    assert not _pids_of_server(marker)  # no run left, not even one started as the sweep stopped


#: Listens, then notes its pid: the test, waiting for that line, sends the signal to the pytest process that
#: traces it, while the run is under way.  (It cannot signal its tracer itself: the harness makes that fail.)
_INTERRUPTS_ITS_HARNESS = """\
import os, socket, sys
with socket.socket() as server:
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", int(sys.argv[1])))
    server.listen()
    with open(sys.argv[2], "a") as pids:
        pids.write(f"{os.getpid()}\\n")
    while True:
        server.accept()[0].close()
"""
_INTERRUPTED_FILE = """\
server:
  command: ['{python}', interrupts.py, '{port}', pids]
scenario: {connections: 2}
assertions:
  - name: no zombie is left
    fact: no zombie left
"""
_INTERRUPTED_FIXTURE = """\
import sys

def test_first(harness_run):
    harness_run([sys.executable, "interrupts.py", "{port}", "pids"], connections=2)

def test_second():
    pass
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("where", ["expectation file", "harness_run fixture"])
def test_a_signal_during_a_run_under_pytest_ends_the_session(
    pytester: pytest.Pytester, where: str, signum: signal.Signals
) -> None:
    """Ctrl-C: pytest reports a KeyboardInterrupt and stops; SIGTERM ends pytest as it would untraced.

    Either way no further file or test runs, and the server is gone.
    """
    pytester.makefile(".py", interrupts=_INTERRUPTS_ITS_HARNESS)
    if where == "expectation file":
        pytester.makefile(".expect.yaml", a_interrupted=_INTERRUPTED_FILE, b_never_run=_INTERRUPTED_FILE)
    else:
        pytester.makepyfile(test_interrupted=_INTERRUPTED_FIXTURE)
    pids_file = pytester.path / "pids"
    session = pytester.popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        while not (pids_file.exists() and pids_file.read_text().endswith("\n")):  # the server listens
            assert session.poll() is None, session.communicate()
        session.send_signal(signum)
        out, _ = session.communicate(timeout=120)
    finally:
        if session.poll() is None:
            session.kill()
            session.communicate()
    output = out.decode()
    if signum == signal.SIGINT:
        assert session.returncode == pytest.ExitCode.INTERRUPTED, output
        assert "! KeyboardInterrupt !" in output
        assert "passed" not in output.splitlines()[-1]
    else:
        assert session.returncode == -signal.SIGTERM, output
    pids = [int(line) for line in pids_file.read_text().split()]
    assert len(pids) == 1  # the second file, or test, never ran
    assert not _alive(pids[0])


@pytest.mark.parametrize(("signum", "said"), [(signal.SIGINT, "interrupted"), (signal.SIGTERM, "terminated")])
def test_a_signal_while_the_command_line_is_imported_ends_it_cleanly(signum: int, said: str) -> None:
    """The console script's first lines hold: a real signal, sent while harness.faces.cli is being imported."""
    program = (
        "import os, signal\n"
        "import harness._start as start\n"
        "start.install()\n"
        f"os.kill(os.getpid(), {int(signum)})  # handled at once, before the command line is imported\n"
        "import harness.faces.cli\n"
        "print('imported')\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (128 + signum, "", f"harness: {said}\n")
