"""What ``--python-frames`` costs per recorded event.

The workload is a Python program that makes N ``close(-1)`` calls (each one
recorded event, failing with EBADF) from a function D frames deep.  It is
traced with and without Python frames, in alternation, round after round, so
that a change in the machine's load falls on both alike; the table gives the
medians and the difference per event.  Also measured: the stack reader alone,
reading the stack of a process stopped with SIGSTOP at the same depth.

    python bench/python_frames_cost.py                       # 5000 events, depths 5 and 50
    python bench/python_frames_cost.py --events 20000 --depths 5,20,100 --rounds 9

Not part of the test suite: timings belong here, never in tests.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import time

from harness.running.tracer import Tracer
from harness.running.tracer.python_stacks import PythonStacks

PROGRAM = """
import os, sys, signal
def deep(n, then):
    return deep(n - 1, then) if n else then()
def calls():
    for _ in range({events}):
        try:
            os.close(-1)
        except OSError:
            pass
def stop():
    os.kill(os.getpid(), signal.SIGSTOP)
deep({depth}, stop if sys.argv[1:] == ["stop"] else calls)
"""


def traced_seconds(source: str, frames: bool) -> tuple[float, int]:
    """Seconds to trace the program to its end, and the events recorded."""
    started = time.perf_counter()
    result = Tracer([sys.executable, "-I", "-S", "-c", source], syscalls=["close"], python_frames=frames).run()
    return time.perf_counter() - started, len(result.trace)


def reader_microseconds(source: str, reads: int) -> float:
    """Microseconds per stack read of a process stopped at the program's depth."""
    pid = os.fork()
    if pid == 0:
        os.execv(sys.executable, [sys.executable, "-I", "-S", "-c", source, "stop"])
    os.waitpid(pid, os.WUNTRACED)
    try:
        stacks = PythonStacks(lambda text: None)
        if not stacks.read(pid, pid):
            raise RuntimeError("no stack read from the stopped program")
        started = time.perf_counter()
        for _ in range(reads):
            stacks.read(pid, pid)
        return (time.perf_counter() - started) / reads * 1e6
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def main() -> None:
    """Print, for each depth, the traced run's time without and with frames, the cost per event, and the reader's."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--depths", default="5,50")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"{'depth':>5}  {'events':>6}  {'plain s':>8}  {'frames s':>8}  {'us/event':>8}  {'reader us':>9}")
    for depth in (int(text) for text in args.depths.split(",")):
        source = PROGRAM.format(events=args.events, depth=depth)
        plain, framed, events = [], [], 0
        for _ in range(args.rounds):
            seconds, events = traced_seconds(source, frames=False)
            plain.append(seconds)
            seconds, _ = traced_seconds(source, frames=True)
            framed.append(seconds)
        cost = (statistics.median(framed) - statistics.median(plain)) / events * 1e6
        reader = reader_microseconds(source, 2000)
        print(
            f"{depth:>5}  {events:>6}  {statistics.median(plain):>8.3f}  {statistics.median(framed):>8.3f}  "
            f"{cost:>8.1f}  {reader:>9.1f}"
        )


if __name__ == "__main__":
    main()
