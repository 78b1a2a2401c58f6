"""The tracer's cost in instructions, counted by valgrind: the same figure on every run, whatever the load.

Timings on a shared two-CPU machine move by 10% from one run to the next
(steal time, frequency, the other guests), which hides a change of a few
percent.  ``valgrind --tool=callgrind`` counts the instructions the harness
process executes in user space (the kernel's part of a ptrace stop is not
counted; the traced programs run natively, outside valgrind), so a change to
the Python of the tracer shows as a change of this count, on any day.  Three
figures, each from two runs that differ only in how much is traced, so that
the start-up falls out of the difference:

* per traced call: ``harness trace --syscalls close`` of ``close_loop``
  (bench/c/close_loop.c) making N and then 6N calls, each two stops and one
  event: (I(6N) - I(N)) / 5N;
* per stop of the echo server: ``harness trace`` of the C echo server
  (the syscalls of trace_overhead.py) serving M and then 5M connections of
  the C client: (I(5M) - I(M)) / (stops(5M) - stops(M)), the stops counted by
  ``-v``.  How many accepts a SIGCHLD interrupts depends on timing, which
  valgrind slows: the count per stop holds, the stops per connection do not;
* the start-up: ``harness trace -o /dev/null -- true`` against
  ``python -c pass``.

    python bench/instructions.py
    python bench/instructions.py --calls 2000 --connections 100 --json instructions.json

Not part of the test suite, like every benchmark; it needs valgrind
(``apt-get install valgrind``) and takes about a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from trace_overhead import CLIENT_SOURCE, CLOSE_LOOP_SOURCE, SYSCALLS  # this script's neighbour in bench/

from harness.model.variants import find_variant
from harness.running.ports import free_port
from harness.running.variants import build_c

_INSTRUCTIONS = re.compile(r"I\s+refs:\s+([\d,]+)")
_STOPS = re.compile(r"harness: .*?, (\d+) ptrace stops")  # the exits are not stops


def _counted(command: list[str], *, before_wait: list[str] | None = None) -> tuple[int, str]:
    """Run ``command`` (a harness command line) under callgrind: its instruction count and its stderr.

    ``before_wait``, when given, is run once the command printed its first
    line (a server saying it listens), and must succeed.
    """
    with tempfile.TemporaryDirectory() as scratch:
        valgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={scratch}/out", *command]
        errors = Path(scratch) / "stderr"
        with (
            open(errors, "w") as stderr,
            subprocess.Popen(valgrind, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=scratch) as process,
        ):
            assert process.stdout is not None
            if before_wait is not None:
                first = process.stdout.readline()
                if not first.startswith("listening on"):
                    process.kill()
                    raise RuntimeError(f"the server did not start under valgrind ({first!r})")
                subprocess.run(before_wait, check=True, capture_output=True)
            process.stdout.read()
            status = process.wait(timeout=600)
        text = errors.read_text()
    found = _INSTRUCTIONS.search(text)
    if status != 0 or found is None:
        raise RuntimeError(f"{' '.join(command)}: exit status {status}\n{text[-2000:]}")
    return int(found.group(1).replace(",", "")), text


def _harness(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "harness", *arguments]


def per_call(calls: int) -> dict[str, float]:
    """Instructions per traced close(-1): two stops and one event."""
    loop = str(build_c(CLOSE_LOOP_SOURCE))
    trace = _harness("trace", "-o", os.devnull, "--syscalls", "close", "--", loop)
    few, _ = _counted([*trace, str(calls)])
    many, _ = _counted([*trace, str(6 * calls)])
    return {"calls": calls, "instructions_per_call": round((many - few) / (5 * calls))}


def per_stop(connections: int) -> dict[str, float]:
    """Instructions per stop of the C echo server, and the stops each run took."""
    server = str(build_c(find_variant("c/echo_server").source))
    client = str(build_c(CLIENT_SOURCE))
    counts = []
    for size in (connections, 5 * connections):
        port = str(free_port())
        command = _harness("trace", "-v", "-o", os.devnull, "--syscalls", SYSCALLS, "--", server, port, str(size))
        instructions, stderr = _counted(command, before_wait=[client, port, str(size), "1"])
        stops = _STOPS.search(stderr)
        if stops is None:
            raise RuntimeError(f"harness trace -v said no stop count:\n{stderr[-2000:]}")
        counts.append((instructions, int(stops.group(1))))
    (few, few_stops), (many, many_stops) = counts
    return {
        "connections": [connections, 5 * connections],
        "stops": [few_stops, many_stops],
        "instructions_per_stop": round((many - few) / (many_stops - few_stops)),
    }


def start_up() -> dict[str, float]:
    """Instructions of ``harness trace -o /dev/null -- true`` and of ``python -c pass``."""
    interpreter, _ = _counted([sys.executable, "-c", "pass"])
    harness, _ = _counted(_harness("trace", "-o", os.devnull, "--", "true"))
    return {
        "python -c pass": interpreter,
        "harness trace -- true": harness,
        "difference": harness - interpreter,
    }


def main() -> int:
    """Count, print, and write the JSON file when asked."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000, help="close(-1) calls of the smaller run (default 2000)")
    parser.add_argument("--connections", type=int, default=100, help="connections of the smaller run (default 100)")
    parser.add_argument("--json", metavar="FILE", help="also write the results to FILE")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("instructions.py: valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 69
    started = time.perf_counter()
    results = {"per_call": per_call(args.calls), "per_stop": per_stop(args.connections), "start_up": start_up()}
    print(f"per traced close(-1) (2 stops, 1 event): {results['per_call']['instructions_per_call']:,} instructions")
    print(
        f"per stop of the echo server: {results['per_stop']['instructions_per_stop']:,} instructions "
        f"(stops: {results['per_stop']['stops']})"
    )
    startup = results["start_up"]
    print(
        f"start-up: harness trace -- true {startup['harness trace -- true']:,}, python -c pass "
        f"{startup['python -c pass']:,}: {startup['difference']:,} more"
    )
    print(f"({time.perf_counter() - started:.0f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
