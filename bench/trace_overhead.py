"""How much tracing slows a fork-per-connection server: the harness beside strace, in one run.

The workload is the C echo server (servers/c/echo_server.c) serving N
connections, each a client that sends one line and reads the echo, either
one client at a time or K at a time.  Every tracer records the same calls
(accept, accept4, clone, close, wait4, rt_sigaction, rt_sigreturn).  The
commands are run in alternation, round after round, so that a change in the
machine's load falls on all of them alike; the table gives medians and the
ratio of each median to the untraced one.

    python bench/trace_overhead.py                      # 100, 300, 1000 connections; sequential and 20 at a time
    python bench/trace_overhead.py --sizes 300 --rounds 9 --json bench-300.json

Also measured, once per size with the harness in this process: ptrace stops
handled and stops per second.  With --memory-events N, the peak memory of the
harness while it records N events (a program closing a bad descriptor N
times).

Not part of the test suite: timings belong here, never in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from harness.running.clients import drive, echo_client
from harness.running.run import free_port
from harness.running.tracer import Tracer
from harness.running.variants import build_c, find_variant

SYSCALLS = "accept,accept4,clone,close,wait4,rt_sigaction,rt_sigreturn"


def tracers() -> dict[str, Callable[[list[str]], list[str]]]:
    """Each way of running the server, as a function from the server's command to the full command."""
    found: dict[str, Callable[[list[str]], list[str]]] = {
        "untraced": lambda command: command,
        "harness trace": lambda command: [
            sys.executable,
            "-m",
            "harness",
            "trace",
            "-o",
            os.devnull,
            "--syscalls",
            SYSCALLS,
            "--",
            *command,
        ],
    }
    found["harness trace --seccomp"] = lambda command: [
        sys.executable,
        "-m",
        "harness",
        "trace",
        "--seccomp",
        "-o",
        os.devnull,
        "--syscalls",
        SYSCALLS,
        "--",
        *command,
    ]
    strace = shutil.which("strace")
    if strace:
        found["strace -f"] = lambda command: [
            strace,
            "-f",
            "-qq",
            "-o",
            os.devnull,
            "-e",
            f"trace={SYSCALLS}",
            *command,
        ]
        found["strace -f --seccomp-bpf"] = lambda command: [
            strace,
            "-f",
            "-qq",
            "--seccomp-bpf",
            "-o",
            os.devnull,
            "-e",
            f"trace={SYSCALLS}",
            *command,
        ]
    ptrace_strace = shutil.which("strace.py")
    if ptrace_strace:
        found["python-ptrace strace.py -f"] = lambda command: [
            sys.executable,
            ptrace_strace,
            "-f",
            "-q",
            "-o",
            os.devnull,
            "-e",
            SYSCALLS,
            "--",
            *command,
        ]
    return found


def one_run(command: list[str], port: int, connections: int, concurrency: int) -> float:
    """Seconds from starting the command until the server exits, clients included; fails loudly."""
    started = time.perf_counter()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as server:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line.startswith("listening on"):
            server.kill()
            raise RuntimeError(f"{command[0]}: the server did not start ({line!r})")
        report = drive(("127.0.0.1", port), echo_client, connections=connections, messages=1, concurrency=concurrency)
        status = server.wait(timeout=600)
    elapsed = time.perf_counter() - started
    if not report.ok or status != 0:
        raise RuntimeError(f"{command[0]}: clients {report.failures[:3]}, exit status {status}")
    return elapsed


def stops_per_second(server: Path, connections: int, concurrency: int) -> dict[str, float]:
    """Trace one run in this process to count the stops the harness handles, and their rate."""
    port = free_port()
    with tempfile.TemporaryFile() as out:
        read_end, write_end = os.pipe()
        tracer = Tracer(
            [str(server), str(port), str(connections)],
            syscalls=SYSCALLS.split(","),
            stdio=(None, write_end, out.fileno()),
        )
        import threading

        def clients() -> None:
            with os.fdopen(read_end) as lines:
                lines.readline()
                drive(("127.0.0.1", port), echo_client, connections=connections, messages=1, concurrency=concurrency)

        thread = threading.Thread(target=clients)
        thread.start()
        started = time.perf_counter()
        result = tracer.run()
        elapsed = time.perf_counter() - started
        os.close(write_end)
        thread.join()
    return {
        "stops": result.stops,
        "events": len(result.trace),
        "seconds": round(elapsed, 3),
        "stops_per_second": round(result.stops / elapsed),
        "stops_per_connection": round(result.stops / connections, 1),
        "microseconds_per_stop": round(elapsed / result.stops * 1e6, 1),
    }


_CLOSER = r"""
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) { long n = atol(argv[1]); for (long i = 0; i < n; i++) close(-1); return 0; }
"""


def peak_memory(events: int) -> dict[str, float]:
    """Peak resident memory of a harness process that records ``events`` close events."""
    workdir = Path(tempfile.mkdtemp())
    (workdir / "closer.c").write_text(_CLOSER)
    subprocess.run(["cc", "-O1", "-o", str(workdir / "closer"), str(workdir / "closer.c")], check=True)
    probe = (
        "import resource, sys\n"
        "from harness.running.tracer import Tracer\n"
        f"result = Tracer([{str(workdir / 'closer')!r}, '{events}'], syscalls=['close']).run()\n"
        "print(len(result.trace), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    recorded, max_rss_kib = map(int, done.stdout.split())
    shutil.rmtree(workdir)
    return {
        "events": recorded,
        "peak_rss_mib": round(max_rss_kib / 1024, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> int:
    """Run the workloads, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,300,1000", help="connection counts (default 100,300,1000)")
    parser.add_argument("--concurrency", default="1,20", help="clients at a time (default 1,20)")
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds per workload (default 7)")
    parser.add_argument("--only", help="comma-separated tracer names to run (default: all found)")
    parser.add_argument("--memory-events", type=int, default=0, help="also measure peak memory for N events")
    parser.add_argument("--json", default="bench/trace_overhead.json", help="where to write the results")
    args = parser.parse_args()

    server = build_c(find_variant("c/echo_server").source)
    available = tracers()
    if args.only:
        available = {name: make for name, make in available.items() if name in args.only.split(",")}
    results: dict[str, object] = {"syscalls": SYSCALLS, "rounds": args.rounds, "workloads": []}
    workloads: list[dict[str, object]] = []
    for size in map(int, args.sizes.split(",")):
        for concurrency in map(int, args.concurrency.split(",")):
            times: dict[str, list[float]] = {name: [] for name in available}
            for _ in range(args.rounds):
                for name, make in available.items():
                    port = free_port()
                    times[name].append(one_run(make([str(server), str(port), str(size)]), port, size, concurrency))
            medians = {name: statistics.median(values) for name, values in times.items()}
            base = medians.get("untraced")
            row = {
                "connections": size,
                "concurrency": concurrency,
                "median_seconds": {name: round(value, 3) for name, value in medians.items()},
                "ratio_to_untraced": {name: round(value / base, 2) for name, value in medians.items()} if base else {},
                "harness": stops_per_second(server, size, concurrency),
            }
            workloads.append(row)
            print(f"\n{size} connections, {concurrency} at a time ({args.rounds} rounds, medians):")
            for name, value in medians.items():
                ratio = f"{value / base:6.2f}x" if base else ""
                print(f"  {name:28} {value:8.3f} s  {ratio}")
            print(f"  harness: {row['harness']}")
            sys.stdout.flush()
    results["workloads"] = workloads
    if args.memory_events:
        results["memory"] = peak_memory(args.memory_events)
        print(f"\npeak memory while recording: {results['memory']}")
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
