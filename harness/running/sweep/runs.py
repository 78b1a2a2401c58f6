"""``harness sweep``'s runs: a baseline, then one run per site with a signal delivered there.

The baseline runs the server as the plan says, with the interruptible calls
traced (:data:`~harness.model.syscalls.INTERRUPTIBLE_CALLS`) and Python
frames read, under a :class:`~harness.running.sweep.probe.SweepProbe` that
notes where it sleeps.  A baseline that fails stops the sweep: there is
nothing to compare a signal's damage with.  Each site then gets a run of its
own, which is independent of the others, so they go ``jobs`` at a time in
worker processes (one tracer each: ptrace belongs to the thread that
attached, and a ``waitpid`` for any child would take another run's tasks).
With ``sa_restart``, each broken site is run once more with SA_RESTART added
to every handler install, and the verdict says whether that alone fixes it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from harness.analysis.sweep import Ending, SiteRun, endings, site_verdict
from harness.model import kernel
from harness.model.errors import HarnessError, Interrupted, PortInUse, RunFailed, UsageError
from harness.model.record import replace
from harness.model.sweep import DEFAULT_SIGNAL, At, Site, SiteVerdict, SweepResult, in_verdict_order
from harness.model.syscalls import INTERRUPTIBLE_CALLS
from harness.model.trace import Trace
from harness.running.run_result import RunResult
from harness.running.serving import run_spec
from harness.running.sources import RunPlan
from harness.running.sweep.probe import SweepProbe

#: A check of a run's trace beyond the run itself (an expectation file's assertions): the first failure, or None.
TraceCheck = Callable[[Trace], "str | None"]

#: One site's run, as a worker takes it: the plan, the site, the signal, at, SA_RESTART, the baseline, the check.
_Job = tuple[RunPlan, Site, str, At, bool, dict[str, Ending], "TraceCheck | None"]

#: How many times a run whose drawn port was taken at bind is made again (each on a new port).
_PORT_DRAWS = 3


class BaselineFailed(RunFailed):
    """The run without a signal fails: a sweep has nothing to compare with (status 3, not a broken site's 1)."""

    exit_status = 3


@dataclass(frozen=True, slots=True)
class SweepOptions:
    """How to sweep: which signal, at which occurrences, with the SA_RESTART experiment, how many runs at once."""

    signal: str = DEFAULT_SIGNAL
    at: At = "first"
    sa_restart: bool = False
    jobs: int = 0
    """Runs at once; 0: the number of cores."""

    @property
    def workers(self) -> int:
        """The number of runs made at once."""
        return self.jobs or os.cpu_count() or 1


def sweep_plan(
    plan: RunPlan,
    options: SweepOptions = SweepOptions(),
    *,
    check: TraceCheck | None = None,
    progress: Callable[[str], None] | None = None,
) -> SweepResult:
    """Sweep a plan's server: find its sites in a baseline run, then deliver the signal at each in a run of its own.

    ``check`` holds each run's trace to more than the run (a file's
    assertions).  ``progress`` is told of each finished run.
    """
    if plan.injections:
        raise UsageError(
            f"{plan.label}: a sweep delivers its own signals; it cannot also inject "
            f"({', '.join(map(str, plan.injections))}): leave --inject out, or sweep a file without inject:"
        )
    started = time.monotonic()
    swept = replace(
        plan,
        scenario=replace(plan.scenario, python_frames=True),
        syscalls=tuple(dict.fromkeys([*plan.syscalls, *INTERRUPTIBLE_CALLS])),
    )
    sites, baseline = _baseline(swept, check)
    say = progress or (lambda line: None)
    say(f"baseline: {len(sites)} site{'s' if len(sites) != 1 else ''} where the server sleeps")
    verdicts = _each(swept, sites, options, baseline, check, sa_restart=False, say=say)
    runs = 1 + len(sites)
    if options.sa_restart:
        broken = [verdict.site for verdict in verdicts if verdict.verdict == "broken"]
        fixed = {
            verdict.site: verdict
            for verdict in _each(swept, broken, options, baseline, check, sa_restart=True, say=say)
        }
        runs += len(broken)
        verdicts = [_with_sa_restart(verdict, fixed.get(verdict.site)) for verdict in verdicts]
    return SweepResult(
        plan.label, options.signal, options.at, in_verdict_order(verdicts), runs, time.monotonic() - started
    )


def _with_sa_restart(verdict: SiteVerdict, rerun: SiteVerdict | None) -> SiteVerdict:
    if rerun is None:
        return verdict
    if not rerun.deliveries:  # no signal in the rerun: it says nothing of SA_RESTART
        return replace(verdict, sa_restart_evidence=f"could not be tried: {rerun.evidence}")
    fixes = rerun.verdict != "broken"
    evidence = f"{rerun.verdict}: {rerun.evidence}"
    return replace(verdict, sa_restart_fixes=fixes, sa_restart_evidence=evidence)


def _baseline(plan: RunPlan, check: TraceCheck | None) -> tuple[list[Site], dict[str, Ending]]:
    """The sites of a run without a signal, and how its processes ended; a failed run stops the sweep."""
    probe, run = _run(plan, lambda: SweepProbe())
    failure = _failure(run, check)
    if failure is not None:
        raise BaselineFailed(
            f"{plan.label}: the run without a signal fails, so a sweep has nothing to compare with: {failure}"
        )
    return list(probe.sites), endings(run.trace)


def _each(
    plan: RunPlan,
    sites: Sequence[Site],
    options: SweepOptions,
    baseline: dict[str, Ending],
    check: TraceCheck | None,
    *,
    sa_restart: bool,
    say: Callable[[str], None],
) -> list[SiteVerdict]:
    """A verdict per site, each from a run of its own; ``options.workers`` runs at once."""
    arguments: list[_Job] = [(plan, site, options.signal, options.at, sa_restart, baseline, check) for site in sites]
    if options.workers <= 1 or len(sites) <= 1:
        verdicts = []
        for argument in arguments:
            verdicts.append(verdict_at(*argument))
            say(_progress_line(verdicts[-1], sa_restart))
        return verdicts
    workers = _Workers()
    try:
        with ThreadPoolExecutor(max_workers=min(options.workers, len(sites)), thread_name_prefix="sweep") as pool:
            futures = [pool.submit(workers.verdict, argument) for argument in arguments]
            try:
                for future in as_completed(futures):
                    say(_progress_line(future.result(), sa_restart))
            except BaseException:  # Ctrl-C, SIGTERM, a failed run: no run goes on without the sweep
                for future in futures:
                    future.cancel()
                workers.stop()
                raise
            return [future.result() for future in futures]
    finally:
        workers.close()


class _Workers:
    """The processes that make a sweep's runs in parallel: one per thread of the pool, each making run after run.

    A process, not a thread: a tracer's ptrace requests belong to the thread
    that attached, and its ``waitpid`` for any child would take another run's
    tasks.  A process started anew (``python -m harness.running.sweep.worker``),
    not forked from this one (whose other threads hold locks) nor by
    ``multiprocessing`` (which imports the user's main module again); and
    kept for the next run, so that the interpreter's start is paid once per
    worker, not once per site.  A worker sent SIGTERM ends its run as
    ``harness run`` does, killing its tree.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mine = threading.local()
        self._all: list[subprocess.Popen[bytes]] = []
        self._stopped = False

    def verdict(self, job: _Job) -> SiteVerdict:
        """Run one site in this thread's worker: its verdict."""
        worker = self._worker()
        assert worker.stdin is not None and worker.stdout is not None
        try:
            pickle.dump(job, worker.stdin)
            worker.stdin.flush()
            verdict = pickle.load(worker.stdout)
        except (EOFError, OSError, pickle.UnpicklingError):
            raise self._ended(worker, job) from None
        assert isinstance(verdict, SiteVerdict)
        return verdict

    def _worker(self) -> subprocess.Popen[bytes]:
        worker: subprocess.Popen[bytes] | None = getattr(self._mine, "worker", None)
        if worker is not None:
            return worker
        with self._lock:
            if self._stopped:
                raise Interrupted("the sweep was stopped", kernel.SIGNAL_NUMBERS["SIGTERM"])
            # A process group of its own: a terminal's Ctrl-C reaches the harness, which stops every worker
            # itself (stop()); a worker between runs would otherwise die of it with a traceback.
            worker = subprocess.Popen(
                [sys.executable, "-m", "harness.running.sweep.worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                process_group=0,
            )
            self._all.append(worker)
        self._mine.worker = worker
        return worker

    @staticmethod
    def _ended(worker: subprocess.Popen[bytes], job: _Job) -> HarnessError:
        """Why a worker gave no verdict: the signal that stopped it (Ctrl-C, SIGTERM), or its status."""
        status = worker.wait()
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            if status in (-kernel.SIGNAL_NUMBERS[name], kernel.signalled_status(name)):
                return Interrupted(
                    f"{name} received: the sweep was stopped and its runs' processes killed",
                    kernel.SIGNAL_NUMBERS[name],
                )
        return HarnessError(f"a sweep's run of {job[1]} ended with status {status}")

    def stop(self) -> None:
        """End every run under way (each worker kills its own tree) and start no other."""
        with self._lock:
            self._stopped = True
            for worker in self._all:
                if worker.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        worker.send_signal(signal.SIGTERM)

    def close(self) -> None:
        """No more runs: each worker ends once its input does; wait for them all."""
        for worker in self._all:
            with contextlib.suppress(OSError):
                if worker.stdin is not None:
                    worker.stdin.close()
        for worker in self._all:
            worker.wait()
            if worker.stdout is not None:
                worker.stdout.close()


def _progress_line(verdict: SiteVerdict, sa_restart: bool) -> str:
    return f"{'with SA_RESTART: ' if sa_restart else ''}{verdict.site}: {verdict.verdict}"


def verdict_at(
    plan: RunPlan,
    site: Site,
    signal: str,
    at: At,
    sa_restart: bool,
    baseline: dict[str, Ending],
    check: TraceCheck | None,
) -> SiteVerdict:
    """One site's run and verdict (in a worker process, or here)."""
    probe, run = _run(plan, lambda: SweepProbe(target=site, signal=signal, at=at, sa_restart=sa_restart))
    delivered = [delivery.tid for delivery in probe.deliveries]
    lines = [line.strip() for line in run.server_output.splitlines() if line.strip()]
    said = " | ".join(lines[-3:]) or None  # the server's processes share one output: its end, not one process's
    outcome = SiteRun(run.trace, _failure(run, check), delivered, probe.uncaught, said, plan.server.stop.signal)
    return site_verdict(site, outcome, baseline)


def _run(plan: RunPlan, new_probe: Callable[[], SweepProbe]) -> tuple[SweepProbe, RunResult]:
    """One run under a fresh probe; made again on a new port when the drawn one was taken at bind."""
    for _draw in range(_PORT_DRAWS):
        probe = new_probe()
        run = run_spec(
            plan.server,
            plan.scenario,
            timeout=plan.timeout,
            syscalls=plan.syscalls,
            probe=probe,
        )
        if run.interrupted_status is not None:
            error = run.failure()
            assert isinstance(error, HarnessError)
            raise error
        if not isinstance(run.failure(), PortInUse):
            break
    return probe, run


def _failure(run: RunResult, check: TraceCheck | None) -> str | None:
    """Why a run failed, in one line: the run's own failure, else the first failed check of its trace."""
    error = run.failure()
    if error is None:
        return check(run.trace) if check is not None else None
    ended_otherwise = run.timed_out or run.stalled is not None or run.serving_on is not None or not run.ended_as_asked
    if run.clients.failures and not ended_otherwise:  # the clients' own words say what went wrong
        return "; ".join(run.clients.failures[:2])
    return str(error)
