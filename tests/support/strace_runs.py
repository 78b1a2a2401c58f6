"""A server run under strace as the harness runs it: the same command and port, the same clients, the same stop.

The harness cannot run strace under itself (a task has one tracer), so the
strace half of a differential test starts the server under ``strace -f -o
LOG`` directly and drives it with the harness's own clients
(:mod:`harness.running.clients`).  The harness's default, deterministic
mode lets each client go only when the server is at rest; here "at rest" is
read from ``/proc`` (:mod:`harness.running.proc_tasks`): every task of the
server's tree asleep in a call, or ended.  That is a wait for a state, not a
pause: nothing here sleeps for a time to order anything.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from functools import partial
from pathlib import Path

from harness.model import kernel
from harness.model.injection import Injection
from harness.model.scenario import ClientSpec
from harness.model.syscalls import DEFAULT_SYSCALLS
from harness.running.clients import PROTOCOLS, Client, drive
from harness.running.listening import listening_sockets
from harness.running.ports import free_port
from harness.running.proc_tasks import asleep, ended
from harness.running.run import client_of
from harness.running.serving import server_argv
from harness.running.sources import RunPlan
from harness.running.tracer.ptrace_ext import child_subreaper

#: How often the state of the server is looked at while waiting for it (a poll interval, never an order).
_POLL = 0.002
#: How long killed tasks are waited for at most (a task stuck in the kernel): a fence against a hang, no pause.
_END_WITHIN = 10.0


def _tasks(pid: int, besides: Collection[int] = ()) -> list[int]:
    """Every task of the process tree under ``pid``: its threads, its children's, and so on (but ``besides``')."""
    found, pending = [], [pid]
    while pending:
        process = pending.pop()
        try:
            threads = [int(name) for name in os.listdir(f"/proc/{process}/task")]
        except OSError:
            continue
        found.extend(threads)
        for thread in threads:
            with contextlib.suppress(OSError), open(f"/proc/{process}/task/{thread}/children") as children:
                pending.extend(child for child in map(int, children.read().split()) if child not in besides)
    return found


def _descendants(besides: Collection[int] = ()) -> list[int]:
    """Every task under this process but its own threads (and but ``besides``' trees)."""
    ours = os.getpid()
    return [tid for tid in _tasks(ours, besides) if not os.path.exists(f"/proc/{ours}/task/{tid}")]


def _tasks_of_run(tracer: int, besides: Collection[int]) -> list[int]:
    """The tasks of the run: strace's tree but strace, and the orphans this process adopted (a daemon).

    ``besides``: the tasks under this process before the run (a helper of the test's), left alone.
    """
    return [tid for tid in _descendants(besides) if tid != tracer]


def _end(tasks: Callable[[], list[int]]) -> None:
    """Kill what is left of a run and reap it, also what is re-parented here as its parent dies.

    A wait on each task, not ``waitpid(-1)``: a child of the test's own is
    no part of the run.  A killed grandchild is reaped once it is ours
    (its parent killed too): until then, the loop looks again.
    """
    give_up = time.monotonic() + _END_WITHIN
    while (left := tasks()) and time.monotonic() < give_up:
        _kill(left)
        for tid in left:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(tid, 0)
        time.sleep(_POLL)  # a state looked at again (a zombie to be re-parented), never an order


def _released(tid: int) -> bool:
    """Whether an ended task is no more strace's: only then has its parent been told (SIGCHLD, a wait).

    A traced task's exit is reported to its tracer first; its parent hears of
    it once the tracer has collected it (ptrace(2), kernel/exit.c
    ``wait_task_zombie``).  Until then, the child is a zombie in ``/proc`` and
    its parent still sleeps, untold: no rest yet.
    """
    try:
        with open(f"/proc/{tid}/status") as status:
            return next((line.split()[1] == "0" for line in status if line.startswith("TracerPid:")), True)
    except OSError:
        return True  # gone


def at_rest(tasks: Sequence[int]) -> bool:
    """Whether every task sleeps in a call a signal or a client can end (``S``), or has ended and been released.

    The ended tasks are looked at first, the sleepers after: strace's release
    of a child is what sends its parent SIGCHLD, so a parent seen asleep before
    its child's release may already have been woken by it when the child is
    looked at (socat's last child, seen released while its parent was still
    counted asleep: the stop signal then came before the reap, once in a CI
    run).  Seen in this order, a parent woken by a release is no sleeper.
    """
    if not tasks:
        return False
    done = {tid for tid in tasks if ended(tid) and _released(tid)}
    return all(tid in done or ((state := asleep(tid)) is not None and state.interruptible) for tid in tasks)


def _kill(tasks: Sequence[int]) -> None:
    for tid in tasks:
        with contextlib.suppress(OSError):
            os.kill(tid, signal.SIGKILL)


def _until(condition: Callable[[], bool], deadline: float, what: str) -> None:
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the server under strace never {what}")
        time.sleep(_POLL)


def _traced_command(pid: int, deadline: float) -> int:
    """The child of strace that runs the command, once it has exec'd it (strace forks probes of its own first)."""
    path = f"/proc/{pid}/task/{pid}/children"
    strace = os.readlink(f"/proc/{pid}/exe")
    found: list[int] = []

    def started() -> bool:
        with contextlib.suppress(OSError), open(path) as children:
            for child in map(int, children.read().split()):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{child}/exe") != strace:
                        found.append(child)
                        return True
        return False

    _until(started, deadline, "started")
    return found[0]


@contextlib.contextmanager
def dispositions_as_under_the_harness() -> Iterator[None]:
    """Start strace's tracee with SIGINT and SIGTERM at SIG_DFL, as the harness starts its own.

    The harness catches both while it traces (``harness/running/tracer/loop.py``),
    and execve(2) resets a caught signal to SIG_DFL, so its tracee never
    inherits an ignored SIGINT; strace's does.  A test process started in
    the background by a non-interactive shell has SIGINT ignored (POSIX
    Shell Command Language, 2.9.3.1 "Asynchronous Lists"), and CPython
    installs no SIGINT handler then, so a Python program would call
    rt_sigaction once less at exit under strace than under the harness.  Here SIGINT is caught (so execve resets
    it) and SIGTERM default, as in a test process started from a terminal.
    """
    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
        signal.SIGTERM: signal.signal(signal.SIGTERM, signal.SIG_DFL),
    }
    try:
        yield
    finally:
        for signum, disposition in previous.items():
            signal.signal(signum, disposition)


def strace_injections(injections: Sequence[Injection]) -> list[str]:
    """The plan's injections as strace's own ``--inject`` options, one per call (strace keeps one per call).

    Occurrences of one call and one fault, ``when=2`` and ``when=3``, make one
    range, ``when=2..3`` (strace(1), "Tampering"); strace counts each task's
    calls, as the harness counts each role's.
    """
    grouped: dict[tuple[str, str], list[Injection]] = {}
    for injection in injections:
        fault = (
            f"error={injection.error}"
            if injection.error
            else f"retval={injection.retval}"
            if injection.retval is not None
            else f"signal={injection.signal}"
        )
        grouped.setdefault((injection.call, fault), []).append(injection)
    options = []
    for (call, fault), same in grouped.items():
        firsts = sorted(injection.first for injection in same)
        if any(injection.every_after for injection in same):
            when = f"{firsts[0]}+"
        else:
            assert firsts == list(range(firsts[0], firsts[-1] + 1)), f"strace takes one range per call: {firsts}"
            when = f"{firsts[0]}..{firsts[-1]}" if len(firsts) > 1 else str(firsts[0])
        options.append(f"--inject={call}:{fault}:when={when}")
    return options


def _client(
    spec: ClientSpec, rest: Callable[[], None] | None, *, last_closes_at_once: bool, connections: int
) -> Client:
    """The plan's client; a protocol's closes only once the server rests, when the run is paced.

    The harness's deterministic schedule holds a connection's exit until its
    parent waits (``harness/running/schedule.py``), so a fork server's child
    that ends when its client closes ends while its parent waits in
    ``accept``: the interruption the lessons are about, on every run.  strace
    holds nothing; a client that closes only once the server rests is the
    handshake that gives the same order (without it, a parent slowed by its
    own output, as fork_sigchld_raises is after an injected EINTR, was reached
    by its child's exit before it blocked, once in a CI run).

    Not the last client of a server that ends by itself after its
    connections: its parent does not wait again but exits, which the
    schedule counts as waiting (the child's exit goes first, and is
    reaped or left a zombie); a client waiting for that rest would make
    the child an orphan instead.  That last close stays free, as it is
    under strace anyway.  A command client cannot be told when to close:
    its runs stay free.
    """
    if rest is None or not isinstance(spec, str):
        return client_of(spec)
    protocol = PROTOCOLS[spec]

    def client(address: tuple[str, int], index: int, messages: int) -> None:
        paced = index < connections - 1 or not last_closes_at_once
        protocol(address, index, messages, before_close=rest if paced else None)

    return client


def run_under_strace(plan: RunPlan, strace: Path, log: Path, options: Sequence[str] = ()) -> int:
    """Run the plan's server under ``strace -f -o LOG``, its clients and stop as the harness does; strace's status.

    The calls traced are the harness's (its default set and the plan's own),
    and execve, whose success is the exec event the harness records; the
    plan's injections are strace's own (:func:`strace_injections`).
    """
    scenario, server = plan.scenario, plan.server
    port = free_port()
    argv = server_argv(server, port, scenario.connections)
    traced = ",".join(dict.fromkeys([*DEFAULT_SYSCALLS, *plan.syscalls, "execve"]))
    deadline = time.monotonic() + plan.timeout
    # -q, not -qq: -qq leaves out the "+++ exited with N +++" lines too.
    injected = strace_injections(plan.injections)
    command = [str(strace), "-f", "-q", "-o", str(log), "-e", f"trace={traced}", *injected, *options, "--", *argv]
    # The server's standard output and error as the harness gives them (harness/running/run.py): one file,
    # open for reading and writing (glibc's perror dups it and fdopens it "w+", which a pipe would refuse).
    with (
        child_subreaper(),
        dispositions_as_under_the_harness(),
        tempfile.TemporaryFile() as output,
        open(os.devnull, "rb") as nothing,
    ):
        besides = set(_descendants())
        tracer = subprocess.Popen(command, stdin=nothing, stdout=output, stderr=output)
        main = 0
        tasks = partial(_tasks_of_run, tracer.pid, besides)

        def rest() -> None:
            _until(lambda: at_rest(tasks()), deadline, "came to rest")

        try:
            main = _traced_command(tracer.pid, deadline)
            ours = [port]
            _until(lambda: any(s.port in ours for s in listening_sockets(tasks())), deadline, "listened")
            rest()
            deterministic = scenario.mode == "deterministic" and scenario.concurrency == 1
            report = drive(
                ("127.0.0.1", port),
                _client(
                    server.client,
                    rest if deterministic else None,
                    last_closes_at_once=server.stop.signal is None,
                    connections=scenario.connections,
                ),
                connections=scenario.connections,
                messages=scenario.messages,
                concurrency=scenario.concurrency,
                before_each=(lambda _index: rest()) if deterministic else None,
            )
            assert report.ok, report.failures
            if server.stop.signal is not None:
                rest()
                os.kill(main, kernel.SIGNAL_NUMBERS[server.stop.signal])
            status = tracer.wait(timeout=max(deadline - time.monotonic(), 1.0))
        finally:
            if tracer.poll() is None:  # a failed run: its tree goes first, strace's SIGKILL would free it
                _kill(tasks())
                tracer.kill()
                tracer.wait()
            # strace -f waits for every tracee, so what is left is a failed run's tree, or a task strace
            # no longer traced (adopted here as the subreaper): each is killed and reaped, the test's own
            # children left alone.
            _end(tasks)
    return status
