"""One run of a sweep in a process of its own: a pickled job on stdin, the pickled verdict on stdout.

Started by :func:`harness.running.sweep.runs.sweep_plan` for each site when
runs go in parallel; never by a person.
"""

from __future__ import annotations

import pickle
import sys

from harness.model.errors import Interrupted
from harness.running.sweep.runs import verdict_at


def main() -> int:
    """Read the job, run it, write the verdict; an interrupted run exits as the signal would."""
    job = pickle.loads(sys.stdin.buffer.read())
    try:
        verdict = verdict_at(*job)
    except Interrupted as interrupted:
        return interrupted.exit_status
    sys.stdout.buffer.write(pickle.dumps(verdict))
    return 0


if __name__ == "__main__":
    sys.exit(main())
