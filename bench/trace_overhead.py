"""How much tracing slows a fork-per-connection server: the harness beside strace, in one run.

The workload is the C echo server (servers/c/echo_server.c) serving N
connections, each a client that sends one line and reads the echo, either
one client at a time or K at a time.  The client is a small C program
(bench/c/echo_client.c) by default, so that on a two-CPU machine it does not
compete with the tracer for a CPU; ``--client python`` uses the harness's own
Python clients instead.  Every tracer records the same calls (accept,
accept4, clone, close, wait4, rt_sigaction, rt_sigreturn).  The commands are
run in alternation, round after round, so that a change in the machine's
load falls on all of them alike; the table gives medians, the ratio of each
median to the untraced one, and the median of the per-round ratios to
``strace -f --seccomp-bpf`` (paired: each round's runs side by side).

    python bench/trace_overhead.py                      # 100, 300, 1000 connections; sequential and 20 at a time
    python bench/trace_overhead.py --sizes 300,1000 --concurrency 1 --rounds 9 --json bench-seq.json

Also measured, with the harness in this process (the C client in its own),
of three runs the one with the median CPU per stop: ptrace stops per
connection with the seccomp prefilter (the default) and with every call
stepped (``--no-seccomp``), counted as strace's are (a task's end, which
``waitpid`` reports too, is no stop: about one a connection, counted
apart), and the tracer's CPU time per stop (user + system time of this
process, the tracer alone, its work at the ends included); and the stops of
``strace -f --seccomp-bpf``, counted by a second strace that watches its
``wait4``.  Once per run, the start-up pair: ``python -c pass`` against
``harness trace -- true``, both with this interpreter (medians of wall and
CPU time).  With --memory-events N, the peak memory of the harness while it
records N events (a program closing a
bad descriptor N times).

Not part of the test suite: timings belong here, never in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from harness.model.variants import find_variant
from harness.running.clients import drive, echo_client
from harness.running.ports import free_port
from harness.running.tracer import Tracer
from harness.running.variants import build_c

SYSCALLS = "accept,accept4,clone,close,wait4,rt_sigaction,rt_sigreturn"
#: The tracer every other is compared with, round by round.
REFERENCE = "strace -f --seccomp-bpf"
CLIENT_SOURCE = Path(__file__).resolve().parent / "c" / "echo_client.c"
CLOSE_LOOP_SOURCE = Path(__file__).resolve().parent / "c" / "close_loop.c"


def _harness(*options: str) -> Callable[[list[str]], list[str]]:
    def command(server: list[str]) -> list[str]:
        return [
            sys.executable,
            "-m",
            "harness",
            "trace",
            *options,
            "-o",
            os.devnull,
            "--syscalls",
            SYSCALLS,
            "--",
            *server,
        ]

    return command


def tracers() -> dict[str, Callable[[list[str]], list[str]]]:
    """Each way of running the server, as a function from the server's command to the full command."""
    found: dict[str, Callable[[list[str]], list[str]]] = {
        "untraced": lambda command: command,
        "harness trace": _harness(),
        "harness trace --no-seccomp": _harness("--no-seccomp"),
    }
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
        found[REFERENCE] = lambda command: [
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


def run_clients(client: Path | None, port: int, connections: int, concurrency: int) -> None:
    """Make the connections, with the C client (``client``) or the harness's Python clients (None); fails loudly."""
    if client is not None:
        done = subprocess.run(
            [str(client), str(port), str(connections), str(concurrency)], capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"echo_client: {done.stderr.strip()}")
        return
    report = drive(("127.0.0.1", port), echo_client, connections=connections, messages=1, concurrency=concurrency)
    if not report.ok:
        raise RuntimeError(f"clients: {report.failures[:3]}")


def one_run(command: list[str], port: int, connections: int, concurrency: int, client: Path | None) -> float:
    """Seconds from starting the command until the server exits, clients included; fails loudly."""
    started = time.perf_counter()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as server:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line.startswith("listening on"):
            server.kill()
            raise RuntimeError(f"{command[0]}: the server did not start ({line!r})")
        run_clients(client, port, connections, concurrency)
        status = server.wait(timeout=600)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(f"{command[0]}: exit status {status}")
    return elapsed


def stops_and_cpu(server: Path, connections: int, concurrency: int, client: Path, *, seccomp: bool) -> dict[str, float]:
    """Trace one run in this process: the stops the harness handles, and its CPU time per stop.

    The clients run in their own process (the C client), so that this
    process's user and system time is the tracer's alone.
    """
    port = free_port()
    read_end, write_end = os.pipe()
    with open(os.devnull, "w") as devnull:
        tracer = Tracer(
            [str(server), str(port), str(connections)],
            syscalls=SYSCALLS.split(","),
            stdio=(None, write_end, devnull.fileno()),
            seccomp=seccomp,
        )
        with os.fdopen(read_end) as lines:
            clients = None
            before = resource.getrusage(resource.RUSAGE_SELF)
            started = time.perf_counter()
            # The client starts once the server says it listens: its first line, read after a first stop.
            import threading

            def start_clients() -> None:
                nonlocal clients
                lines.readline()
                clients = subprocess.Popen([str(client), str(port), str(connections), str(concurrency)])

            waiter = threading.Thread(target=start_clients)
            waiter.start()
            result = tracer.run()
            elapsed = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_SELF)
            os.close(write_end)
            waiter.join()
            if clients is not None and clients.wait() != 0:
                raise RuntimeError("echo_client failed under the in-process tracer")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "seccomp": tracer.uses_seccomp,
        "stops": result.stops,
        "exits": result.exits,
        "events": len(result.trace),
        "seconds": round(elapsed, 3),
        "stops_per_connection": round(result.stops / connections, 2),
        "tracer_cpu_us_per_stop": round(cpu / result.stops * 1e6, 1),
    }


#: A wait4 line of strace that returned a task's id: a report (not a WNOHANG poll that found none).
_REPORTED = re.compile(r"^wait4\(.*\) = [1-9]\d*$")


def _median_run(server: Path, connections: int, concurrency: int, client: Path, *, seccomp: bool) -> dict[str, float]:
    """Of three in-process runs (:func:`stops_and_cpu`), the one whose CPU per stop is the median: one run varies."""
    runs = [stops_and_cpu(server, connections, concurrency, client, seccomp=seccomp) for _ in range(3)]
    return sorted(runs, key=lambda run: run["tracer_cpu_us_per_stop"])[1]


def strace_stops(server: Path, connections: int, concurrency: int, client: Path) -> dict[str, float] | None:
    """The stops ``strace -f --seccomp-bpf`` takes for the same run, counted as the harness counts its own.

    strace is watched by a second strace, attached once the server listens
    (so the server's few start-up stops are left out), which records each
    ``wait4`` of the first: a report with a stopped status is a stop, one
    with an exit status a task's end.  None where strace is missing.
    """
    strace = shutil.which("strace")
    if strace is None:
        return None
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        record = Path(scratch) / "waits"
        command = [strace, "-f", "-qq", "--seccomp-bpf", "-o", os.devnull, "-e", f"trace={SYSCALLS}"]
        with subprocess.Popen(
            [*command, str(server), str(port), str(connections)], stdout=subprocess.PIPE, text=True
        ) as traced:
            assert traced.stdout is not None
            traced.stdout.readline()  # listening on ...
            watcher = subprocess.Popen(
                [strace, "-qq", "-p", str(traced.pid), "-e", "trace=wait4", "-o", str(record)],
                stderr=subprocess.DEVNULL,
            )
            _wait_until_attached(traced.pid)
            run_clients(client, port, connections, concurrency)
            traced.stdout.read()
            traced.wait(timeout=600)
        watcher.wait(timeout=60)
        reports = [line for line in record.read_text().splitlines() if _REPORTED.search(line)]
    stops = sum("WIFSTOPPED" in line for line in reports)
    exits = sum("WIFEXITED" in line or "WIFSIGNALED" in line for line in reports)
    return {
        "stops": stops,
        "exits": exits,
        "stops_per_connection": round(stops / connections, 2),
    }


def _wait_until_attached(pid: int) -> None:
    """Until ``pid`` has a tracer (TracerPid in /proc/PID/status, proc(5)): the watcher sees every wait4 after."""
    status = Path(f"/proc/{pid}/status")
    for _ in range(2000):
        for line in status.read_text().splitlines():
            if line.startswith("TracerPid:") and int(line.split()[1]) != 0:
                return
        time.sleep(0.005)
    raise RuntimeError(f"strace -p {pid} did not attach")


def startup_pair(runs: int) -> dict[str, float]:
    """``python -c pass`` against ``harness trace -- true``, alternated, same interpreter: medians in ms.

    Both wall time and CPU time (user + system of the command and what it
    waited for): on a loaded machine the wall time mostly measures the load.
    """
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "harness trace -- true": [sys.executable, "-m", "harness", "trace", "-o", os.devnull, "--", "true"],
    }
    wall: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run(command, check=True)
            wall[name].append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    result: dict[str, float] = {}
    for name in commands:
        result[f"{name} wall (ms)"] = round(statistics.median(wall[name]) * 1000, 1)
        result[f"{name} cpu (ms)"] = round(statistics.median(cpu[name]) * 1000, 1)
    for kind in ("wall", "cpu"):
        difference = result[f"harness trace -- true {kind} (ms)"] - result[f"python -c pass {kind} (ms)"]
        result[f"difference {kind} (ms)"] = round(difference, 1)
    return result


def peak_memory(events: int) -> dict[str, float]:
    """Peak resident memory of a harness process that records ``events`` close events."""
    closer = build_c(CLOSE_LOOP_SOURCE)
    probe = (
        "import resource, sys\n"
        "from harness.running.tracer import Tracer\n"
        f"result = Tracer([{str(closer)!r}, '{events}'], syscalls=['close']).run()\n"
        "print(len(result.trace), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    recorded, max_rss_kib = map(int, done.stdout.split())
    return {
        "events": recorded,
        "peak_rss_mib": round(max_rss_kib / 1024, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _table(workloads: list[dict[str, object]], names: list[str]) -> str:
    """The results as a Markdown table: medians, ratios to untraced, paired ratios to the reference, stops, CPU."""
    header = [
        "connections, clients at a time",
        *names,
        "stops per connection (prefilter / stepped / strace --seccomp-bpf)",
        "tracer µs per stop",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for row in workloads:
        medians: dict[str, float] = row["median_seconds"]  # type: ignore[assignment]
        untraced: dict[str, float] = row["ratio_to_untraced"]  # type: ignore[assignment]
        paired: dict[str, float] = row["paired_ratio_to_reference"]  # type: ignore[assignment]
        cells = [f"{row['connections']}, {row['concurrency']}"]
        for name in names:
            cell = f"{medians[name]:.3f} s"
            if name in untraced and name != "untraced":
                cell += f" ({untraced[name]:.1f}x"
                cell += f"; {paired[name]:.2f}x strace)" if name in paired and name != REFERENCE else ")"
            cells.append(cell)
        filtered: dict[str, float] = row["harness"]  # type: ignore[assignment]
        stepped: dict[str, float] = row["harness_stepped"]  # type: ignore[assignment]
        strace: dict[str, float] | None = row["strace_seccomp_bpf"]  # type: ignore[assignment]
        strace_stops = strace["stops_per_connection"] if strace else "-"
        cells.append(f"{filtered['stops_per_connection']} / {stepped['stops_per_connection']} / {strace_stops}")
        cells.append(f"{filtered['tracer_cpu_us_per_stop']} / {stepped['tracer_cpu_us_per_stop']}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    """Run the workloads, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,300,1000", help="connection counts (default 100,300,1000)")
    parser.add_argument("--concurrency", default="1,20", help="clients at a time (default 1,20)")
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds per workload (default 7)")
    parser.add_argument("--only", help="comma-separated tracer names to run (default: all found)")
    parser.add_argument(
        "--client", choices=("c", "python"), default="c", help="the clients: the C client (default) or the harness's"
    )
    parser.add_argument("--startup-runs", type=int, default=15, help="runs of each start-up command (default 15)")
    parser.add_argument("--memory-events", type=int, default=0, help="also measure peak memory for N events")
    parser.add_argument("--json", default="bench/trace_overhead.json", help="where to write the results")
    args = parser.parse_args()

    server = build_c(find_variant("c/echo_server").source)
    c_client = build_c(CLIENT_SOURCE)
    client = c_client if args.client == "c" else None
    available = tracers()
    if args.only:
        available = {name: make for name, make in available.items() if name in args.only.split(",")}
    names = list(available)
    results: dict[str, object] = {
        "syscalls": SYSCALLS,
        "rounds": args.rounds,
        "client": args.client,
        "reference": REFERENCE,
        "load_average_at_start": os.getloadavg(),
    }
    results["startup"] = startup_pair(args.startup_runs)
    print(f"start-up: {results['startup']}")
    workloads: list[dict[str, object]] = []
    for size in map(int, args.sizes.split(",")):
        for concurrency in map(int, args.concurrency.split(",")):
            times: dict[str, list[float]] = {name: [] for name in available}
            for _ in range(args.rounds):
                for name, make in available.items():
                    port = free_port()
                    command = make([str(server), str(port), str(size)])
                    times[name].append(one_run(command, port, size, concurrency, client))
            medians = {name: statistics.median(values) for name, values in times.items()}
            base = medians.get("untraced")
            reference = times.get(REFERENCE)
            row: dict[str, object] = {
                "connections": size,
                "concurrency": concurrency,
                "median_seconds": {name: round(value, 3) for name, value in medians.items()},
                "ratio_to_untraced": {name: round(value / base, 2) for name, value in medians.items()} if base else {},
                "paired_ratio_to_reference": {
                    name: round(statistics.median(a / b for a, b in zip(values, reference, strict=True)), 3)
                    for name, values in times.items()
                }
                if reference
                else {},
                "harness": _median_run(server, size, concurrency, c_client, seccomp=True),
                "harness_stepped": _median_run(server, size, concurrency, c_client, seccomp=False),
                "strace_seccomp_bpf": strace_stops(server, size, concurrency, c_client),
            }
            workloads.append(row)
            print(f"\n{size} connections, {concurrency} at a time ({args.rounds} rounds, medians):")
            for name, value in medians.items():
                ratio = f"{value / base:6.2f}x" if base else ""
                paired = row["paired_ratio_to_reference"].get(name)  # type: ignore[attr-defined]
                versus = f"  {paired:5.2f}x {REFERENCE} (paired)" if paired is not None else ""
                print(f"  {name:28} {value:8.3f} s  {ratio}{versus}")
            print(f"  harness (prefilter): {row['harness']}")
            print(f"  harness (stepped):   {row['harness_stepped']}")
            print(f"  strace -f --seccomp-bpf: {row['strace_seccomp_bpf']}")
            sys.stdout.flush()
    results["workloads"] = workloads
    if args.memory_events:
        results["memory"] = peak_memory(args.memory_events)
        print(f"\npeak memory while recording: {results['memory']}")
    table = _table(workloads, names)
    results["table"] = table
    print("\n" + table)
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
