"""``harness sweep``: deliver a signal at every place a server sleeps, one run each, and say what breaks.

:mod:`.runs` makes the runs, :mod:`.probe` watches each from inside (the
sites, the one signal), :mod:`.relay` holds the clients' bytes until the
server stands still, and :mod:`.sites` reads where a sleeping task is.
"""

from harness.running.sweep.runs import BaselineFailed, SweepOptions, sweep_plan

__all__ = ["BaselineFailed", "SweepOptions", "sweep_plan"]
