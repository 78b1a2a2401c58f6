"""Kill the harness at random points of a run: nothing of the run's process tree may survive.

SIGINT and SIGTERM make the harness kill the traced tree and reap it itself;
SIGKILL gives it no chance, so PTRACE_O_EXITKILL must make the kernel kill
every tracee.  This test process makes itself the child subreaper, so any
orphan of the run is re-parented to it: after the harness is gone, every
process it adopts must die on its own (it waits for them with a deadline),
and nothing may be left for it to adopt after that.  The kill points come
from a seeded generator: the verdict does not depend on where they fall.
"""

from __future__ import annotations

import json
import os
import pty
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.processes import our_children, processes_holding

KILLS = [
    (signum, delay)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)
    for delay in random.Random(475).sample([i / 100 for i in range(5, 120)], 6)
]


def _reap_adopted(deadline: float) -> list[int]:
    """Wait for every process re-parented to us; return those still alive at the deadline."""
    reaped: list[int] = []
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return []  # no child left at all
        if pid:
            reaped.append(pid)
        else:
            time.sleep(0.01)  # polling our own children until the deadline: not part of any verdict's timing
    return our_children()


@pytest.mark.parametrize(("signum", "delay"), KILLS, ids=[f"{signal.Signals(s).name}-{d}s" for s, d in KILLS])
def test_killing_the_harness_leaves_no_process_of_the_run(
    signum: int, delay: float, adopting: None, ptrace_permitted: None
) -> None:
    marker = f"HARNESS_KILL_TEST={os.getpid()}-{signum}-{delay}"
    env = {**os.environ, "HARNESS_KILL_TEST": marker.split("=", 1)[1]}
    command = [sys.executable, "-m", "harness", "run", "fork_threads", "--connections", "30"]
    command += ["--mode", "free", "--concurrency", "5", "-o", os.devnull]
    # The context manager waits for the harness whatever happens; the finally
    # kills it first when the test failed before the harness ended.
    with subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as harness:
        try:
            time.sleep(delay)  # where the kill falls, not an ordering: any point must do
            harness.send_signal(signum)
            harness.wait(timeout=30)
        finally:
            if harness.poll() is None:
                harness.kill()
    survivors = _reap_adopted(time.monotonic() + 10)
    assert survivors == []
    assert processes_holding(marker) == []


def test_the_check_sees_a_process_left_behind(adopting: None) -> None:
    """The same checks, on a run that does leave an orphan behind: they must report it."""
    marker = f"HARNESS_KILL_TEST=orphan-{os.getpid()}"
    env = {**os.environ, "HARNESS_KILL_TEST": marker.split("=", 1)[1]}
    subprocess.run(["sh", "-c", "sleep 60 & exit 0"], env=env, check=True)
    try:
        survivors = _reap_adopted(time.monotonic() + 0.5)
        assert len(survivors) == 1
        assert processes_holding(marker) == survivors
    finally:
        for pid in processes_holding(marker):
            os.kill(pid, signal.SIGKILL)
        _reap_adopted(time.monotonic() + 5)


# -- an interrupted run ends with 128 + the signal, without a traceback -------------------------------------

#: Where SIGINT or SIGTERM falls: after the Nth line of the live trace, N from a seeded generator, so that
#: the signal lands in every phase of a stop (syscall info, decoding, injection, a fork event, an exit).
LINE_KILLS = [(signal.SIGTERM, line) for line in random.Random(14).sample(range(1, 600), 16)] + [
    (signal.SIGINT, line) for line in random.Random(143).sample(range(1, 600), 4)
]
_SERVERS = Path(__file__).parent.parent.parent / "servers"


def _signal_at_line(args: list[str], env: dict[str, str], signum: int, line: int) -> tuple[int | None, str]:
    """Run the harness with a terminal as stdout and stderr (so it writes each trace line at once).

    Send ``signum`` once its output has ``line`` lines; return its exit status and its whole output, or
    None for the status when the run ended before that line.  The select timeout only fences a hang.
    """
    leader, follower = pty.openpty()
    try:
        harness = subprocess.Popen(
            [sys.executable, "-m", "harness", *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=follower,
            stderr=follower,
        )
    finally:
        os.close(follower)
    output = bytearray()
    lines = 0
    sent = False
    try:
        while True:
            if not sent and lines >= line:
                harness.send_signal(signum)
                sent = True
            if not select.select([leader], [], [], 60)[0]:
                raise AssertionError(f"no output for 60 s: {bytes(output[-500:])!r}")
            try:
                chunk = os.read(leader, 1 << 16)
            except OSError:  # EIO: the last writer closed the terminal
                chunk = b""
            if not chunk:
                break
            output += chunk
            lines += chunk.count(b"\n")
        status = harness.wait(timeout=60)
    finally:
        if harness.poll() is None:
            harness.kill()
            harness.wait()
        os.close(leader)
    return (status if sent else None), output.decode(errors="replace")


def test_a_signal_ends_harness_run_with_128_plus_it_no_traceback_and_no_process(
    adopting: None, ptrace_permitted: None
) -> None:
    """SIGTERM gives 143 and SIGINT 130 wherever they fall, and the tree is gone when the harness is.

    Each kill falls at a different point of the run, where tasks vanish under the tracer's requests:
    the ESRCH of any of them must not become a traceback.
    """
    for signum, line in LINE_KILLS:
        marker = f"{os.getpid()}-{signum}-line-{line}"
        env = {**os.environ, "HARNESS_KILL_TEST": marker}
        args = ["run", "fork_threads", "--mode", "free", "--connections", "300", "--concurrency", "5"]
        status, output = _signal_at_line(args, env, signum, line)
        name = signal.Signals(signum).name
        assert status == 128 + signum, f"{name} at line {line}: status {status}\n{output[-3000:]}"
        assert "Traceback" not in output, f"{name} at line {line}:\n{output}"
        assert f"interrupted by {name}" in output
        assert processes_holding(f"HARNESS_KILL_TEST={marker}") == []
        assert our_children() == []


def test_a_signal_ends_harness_check_with_128_plus_it(tmp_path: Path, adopting: None, ptrace_permitted: None) -> None:
    """The server tells the test it runs (through a FIFO, a handshake), then the check gets SIGTERM."""
    ready = tmp_path / "ready"
    os.mkfifo(ready)
    server = _SERVERS / "fork_threads.py"
    start = f"echo ready > {ready} && exec {sys.executable} {server} --port {{port}} --connections 300"
    expectation = tmp_path / "interrupted.expect.yaml"
    expectation.write_text(
        f"server:\n  command: [sh, -c, {json.dumps(start)}]\n"
        "scenario:\n  connections: 300\n  mode: free\n"
        "assertions:\n  - name: it accepts\n    sequence:\n      - accept4 -> $conn\n"
    )
    marker = f"{os.getpid()}-check"
    env = {**os.environ, "HARNESS_KILL_TEST": marker}
    harness = subprocess.Popen(
        [sys.executable, "-m", "harness", "check", str(expectation)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        with open(ready) as fifo:  # blocks until the traced shell writes: the run is under way
            assert fifo.read() == "ready\n"
        harness.send_signal(signal.SIGTERM)
        out, err = harness.communicate(timeout=60)
    finally:
        if harness.poll() is None:
            harness.kill()
            harness.communicate()
    assert harness.returncode == 143, (out, err)
    assert b"Traceback" not in err
    assert b"interrupted by SIGTERM" in err
    assert processes_holding(f"HARNESS_KILL_TEST={marker}") == []
    assert our_children() == []


#: Imports the tracer, says "ready", and starts tracing when told: the test's kill then lands in the
#: first milliseconds of the run, around the fork and the child's PTRACE_TRACEME.
_TRACE_ON_GO = """
import sys
from harness.running.tracer import Tracer
print("ready", flush=True)
sys.stdin.readline()
Tracer(sys.argv[1:], syscalls=["exit_group"]).run()
"""


def _survivors(marker: str) -> list[str]:
    """Processes whose command line holds the marker, with their state (t: stopped by a tracer that died)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker.encode() in (proc / "cmdline").read_bytes():
                    state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
                    if state != "Z":
                        found.append(f"{proc.name} ({state})")
            except OSError:
                continue
    return found


def test_a_harness_killed_in_its_first_milliseconds_leaves_no_tracee(ptrace_permitted: None) -> None:
    draw = random.Random(20261201)
    for attempt in range(30):
        marker = f"{1000 + attempt}.{os.getpid()}{draw.randrange(10**6)}"  # a sleep no other process runs
        harness = subprocess.Popen(
            [sys.executable, "-c", _TRACE_ON_GO, "sleep", marker],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert harness.stdout is not None and harness.stdout.readline() == "ready\n"
            assert harness.stdin is not None
            harness.stdin.write("go\n")
            harness.stdin.flush()
            time.sleep(draw.uniform(0, 0.01))  # varies the moment of the kill, orders nothing
            harness.kill()
        finally:
            harness.kill()
            harness.communicate()
        deadline = time.monotonic() + 10
        while (left := _survivors(marker)) and time.monotonic() < deadline:
            pass  # SIGKILL from PR_SET_PDEATHSIG or PTRACE_O_EXITKILL is on its way
        assert left == [], f"attempt {attempt}: {left} outlived the harness"
