"""Runs of a sweep in a process of its own: pickled jobs on stdin, one pickled verdict on stdout for each.

Started by :func:`harness.running.sweep.runs.sweep_plan`, one per run made
at once, when runs go in parallel; never by a person.  It ends when its
input does.
"""

from __future__ import annotations

import pickle
import sys

from harness.model.errors import Interrupted
from harness.running.sweep.runs import verdict_at


def main() -> int:
    """Read each job, run it, write its verdict; an interrupted run exits as the signal would."""
    while True:
        try:
            job = pickle.load(sys.stdin.buffer)
        except EOFError:
            return 0
        try:
            verdict = verdict_at(*job)
        except Interrupted as interrupted:
            return interrupted.exit_status
        pickle.dump(verdict, sys.stdout.buffer)
        sys.stdout.buffer.flush()


if __name__ == "__main__":
    sys.exit(main())
