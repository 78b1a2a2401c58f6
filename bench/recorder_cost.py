"""The recorder's CPU time per stop: 100,000 close(4) calls (an entry and an exit stop each) built into events.

No ptrace: this is the Python the tracer runs per stop besides its two ptrace
calls, so a change to the events (timestamps, say) can be costed on a loaded
machine.  CPU time (process_time) leaves out the time spent descheduled.
Prints the best of 7 rounds, in µs per stop; run it with PYTHONPATH set to
each tree to compare.
"""

from __future__ import annotations

import gc
import time

from harness.running.tracer.recorder import EventRecorder
from harness.running.tracer.task import Task

CALLS = 100_000


def one_round() -> float:
    """CPU microseconds per stop of one round."""
    recorder = EventRecorder(None, 1)
    task = Task(10, 10, "main", recording=True, new=False)
    gc.disable()
    start = time.process_time()
    for _ in range(CALLS):
        call = recorder.enter(task, 3, "close", ("fd",), (4, 0, 0, 0, 0, 0))
        recorder.finish(task, call, 0)
    elapsed = time.process_time() - start
    gc.enable()
    return elapsed / (2 * CALLS) * 1e6


if __name__ == "__main__":
    print(f"{min(one_round() for _ in range(7)):.3f} us per stop")
