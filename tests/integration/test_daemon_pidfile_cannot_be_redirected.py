"""The double-fork daemon writes its pid file only where nobody else could have planted a link."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness.model.variants import find_variant
from harness.running.clients import PROTOCOLS, drive
from harness.running.ports import free_port

SERVER = find_variant("daemon_double_fork").source


#: Runs the launcher as a child subreaper, so that the orphaned daemon is re-parented to it
#: and its end is known exactly (waitpid), not guessed; prints each descendant's exit status.
#: On SIGTERM (from the test's cleanup, or as its parent-death signal when the test process
#: is killed) it kills every descendant first: the daemon left its session, so nothing else would.
_SUBREAPER = """
import ctypes, os, signal, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
if os.getppid() != int(sys.argv[1]):  # the test process died before the line above
    sys.exit(1)

def adopted():
    mine = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == os.getpid():
            mine.append(int(entry))
    return mine

def end_all(*_):
    # A killed daemon's own children are re-parented here in turn: repeat until none is left.
    while pids := adopted():
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
    os._exit(1)

signal.signal(signal.SIGTERM, end_all)
launcher = subprocess.Popen(sys.argv[2:])
launcher.wait()
print("launcher", launcher.returncode, flush=True)
sys.stdin.readline()  # the test has talked to the daemon (or seen that it refused)
while True:
    try:
        pid, status = os.waitpid(-1, 0)
    except ChildProcessError:
        break
    print("descendant", os.waitstatus_to_exitcode(status), flush=True)
"""


def _stop(reaper: subprocess.Popen[str]) -> None:
    """End the reaper and, through its SIGTERM handler, every descendant it still has."""
    reaper.terminate()
    reaper.communicate()


def _launch(tmp_path: Path, *extra: str) -> tuple[int, subprocess.Popen[str]]:
    port = free_port()
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    # Two connections: the daemon is still serving (its pid file in place) between the first and the second.
    argv = [sys.executable, str(SERVER), "--port", str(port), "--connections", "2", *extra]
    reaper = subprocess.Popen(
        [sys.executable, "-c", _SUBREAPER, str(os.getpid()), *argv],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reaper.stdout is not None
    try:
        lines = [reaper.stdout.readline(), reaper.stdout.readline()]
        # The launcher announces the port, then returns once the daemon is on its own.
        assert lines == [f"listening on 127.0.0.1:{port}\n", "launcher 0\n"]
    except BaseException:
        _stop(reaper)
        raise
    return port, reaper


def _ends(reaper: subprocess.Popen[str]) -> list[str]:
    """Let the reaper wait for every descendant; their exit statuses, in order."""
    out, _ = reaper.communicate("go\n", timeout=60)
    return out.split()


def test_the_default_pid_file_lives_in_a_private_directory_removed_at_the_end(tmp_path: Path) -> None:
    port, reaper = _launch(tmp_path)
    try:
        # The first client's answer comes from the daemon, after it wrote its pid file; it waits for a second.
        assert drive(("127.0.0.1", port), PROTOCOLS["echo"], connections=1, messages=1).ok
        [private] = tmp_path.iterdir()
        assert private.name.startswith("daemon_double_fork.") and private.stat().st_mode & 0o777 == 0o700
        assert [path.name for path in private.iterdir()] == [f"daemon_double_fork.{port}.pid"]
        assert drive(("127.0.0.1", port), PROTOCOLS["echo"], connections=1, messages=1).ok  # its last
        # The orphaned daemon (its connection child is its own to reap) exits 0.
        assert _ends(reaper) == ["descendant", "0"]
    finally:
        _stop(reaper)
    assert list(tmp_path.iterdir()) == []


def test_a_planted_symlink_is_refused_not_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    link = tmp_path / "planted.pid"
    link.symlink_to(victim)
    _port, reaper = _launch(tmp_path, "--pidfile", str(link))
    try:
        ends = _ends(reaper)
    finally:
        _stop(reaper)
    assert ends == ["descendant", "1"]  # the daemon refused to start: open(2) said ELOOP
    assert victim.read_text() == "precious\n"
    assert link.is_symlink() and sorted(p.name for p in tmp_path.iterdir()) == ["planted.pid", "victim"]
