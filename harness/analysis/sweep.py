"""A sweep's verdict on one site: what the signal the harness delivered there came to, read from the run's trace.

The run is compared with the baseline (the same server, the same clients,
no signal): a run that fails where the baseline passed is **broken**, with
the failure as evidence; so is one in which a process ends otherwise than in
the baseline (a child that exits 1 instead of 0, or is killed by a signal
the server did not send).  A run that
passes is told apart by what became of the interrupted call
(:mod:`harness.analysis.interruptions`): the kernel entered it again
(**restarted**: SA_RESTART, or a restart code no handler turns into EINTR);
the program saw EINTR and made the same call from the same code again
(**retried**; for CPython, the interpreter's own retry, PEP 475); or it
saw EINTR and went on otherwise (**safe**).  Every sentence rests on an
event of the run; where one infers (that CPython retried), it says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.analysis.facts import TraceIndex
from harness.analysis.interruptions import Interruption, interruptions
from harness.model import kernel
from harness.model.events import ExitEvent, SignalEvent, SyscallEvent
from harness.model.frames import summary
from harness.model.strace_args import format_args
from harness.model.sweep import Site, SiteVerdict
from harness.model.syscalls import argument_names, argument_order, timeout_of
from harness.model.trace import Trace


@dataclass(frozen=True, slots=True)
class Ending:
    """How a process ended: its exit status, or the signal that killed it and whether the server itself sent it."""

    code: int | None
    signal: str | None = None
    sent_by_the_server: bool = False
    """The killing signal came from a task of the traced tree, or from the harness (the stop signal): the
    server's own doing, read from the signal's ``si_pid`` at its delivery."""

    def clean(self, stop: str | None) -> bool:
        """Whether it ended as a process of a working server ends: exit 0, or stopped on purpose.

        On purpose: by a signal the server's own tasks or the harness sent (a
        socat child kills its ``cat`` at the end of a connection, racing
        with ``cat``'s own exit 0, on some runs only), or with the status a
        shell gives the stop signal (143 after SIGTERM).
        """
        if self.signal is not None:
            return self.sent_by_the_server
        return self.code == 0 or (stop is not None and self.code == kernel.signalled_status(stop))

    def __str__(self) -> str:
        if self.signal is None:
            return f"exited {self.code}"
        return f"was killed by {self.signal}" + (" (sent by the server)" if self.sent_by_the_server else "")


def endings(trace: Trace) -> dict[str, Ending]:
    """How each process of a trace ended, by role (threads left out: their process's end is what counts)."""
    pids = {event.pid for event in trace}
    last_signal: dict[int, SignalEvent] = {}
    ended: dict[str, Ending] = {}
    for event in trace:
        if isinstance(event, SignalEvent):
            last_signal[event.tid] = event
        elif isinstance(event, ExitEvent) and event.tid == event.pid:
            killer = last_signal.get(event.tid)
            sent = (
                event.signal is not None
                and killer is not None
                and killer.name == event.signal
                and (killer.from_harness or killer.siginfo.get("si_pid") in pids)
            )
            ended[event.role] = Ending(event.code, event.signal, sent)
    return ended


@dataclass(frozen=True, slots=True)
class SiteRun:
    """What one run of a sweep gives the verdict: its trace, how it went, and which tasks got the signal."""

    trace: Trace
    failure: str | None
    """Why the run failed (a client, the server's end, a file's assertion); None when it passed."""
    delivered_to: Sequence[int]
    """The tids the harness delivered the signal to, in order."""
    uncaught: str | None = None
    """Why no signal was delivered at the site although a task slept there."""
    said: str | None = None
    """The last lines of the server's output, which often name what went wrong (``read: Interrupted system call``)."""
    stop_signal: str | None = None
    """The signal the harness sends the server after its clients (``server.stop``): the status a shell gives it
    (143 for SIGTERM) is a clean end, as it is for the run's own verdict."""


def site_verdict(site: Site, run: SiteRun, baseline: Mapping[str, Ending]) -> SiteVerdict:
    """The verdict on ``site`` from its run, against the baseline's process endings."""
    deliveries = len(run.delivered_to)
    if not deliveries:
        if run.uncaught is not None:
            return SiteVerdict(site, "safe", run.uncaught)
        return SiteVerdict(site, "not reached", "no task slept at this site in the sweep's run, so no signal was sent")
    changed = _changed_endings(endings(run.trace), baseline, run.stop_signal)
    accounts = _accounts(run)
    if run.failure is not None or changed:
        saw = f"{accounts[0].task}'s {accounts[0].call_name or 'call'} {_saw(accounts[0])}" if accounts else None
        said = f"the server's output ends: {run.said}" if run.said else None
        evidence = "; ".join(part for part in (saw, run.failure, *changed, said) if part)
        return SiteVerdict(site, "broken", evidence, deliveries)
    if not accounts:
        return SiteVerdict(
            site, "safe", "the signal was delivered and the run passed; the trace shows no interrupted call", deliveries
        )
    if all(account.outcome in ("restarted", "restart_syscall") for account in accounts):
        return SiteVerdict(site, "restarted", _restarted(accounts[0]), deliveries)
    retry = next((_retry(run.trace, account) for account in accounts if account.outcome == "EINTR"), None)
    if retry is not None:
        evidence, note = retry
        return SiteVerdict(site, "retried", evidence, deliveries, note=note)
    first = accounts[0]
    return SiteVerdict(
        site,
        "safe",
        f"{first.task}'s {first.call_name or 'call'} {_saw(first)}, and the run still passed",
        deliveries,
    )


def _changed_endings(now: Mapping[str, Ending], baseline: Mapping[str, Ending], stop: str | None) -> list[str]:
    """Each process that ended otherwise than in the baseline, as a sentence.

    Two clean ends (:meth:`Ending.clean`) are the same end: which of them a
    process comes to can be the server's own race, run to run.
    """
    return [
        f"{role} {now[role]} (in the run without the signal it {before})"
        for role, before in sorted(baseline.items())
        if role in now and now[role] != before and not (now[role].clean(stop) and before.clean(stop))
    ]


def _accounts(run: SiteRun) -> list[Interruption]:
    """The interruptions the harness's signal caused, in the tasks it was delivered to."""
    delivered = set(run.delivered_to)
    return [
        account
        for account in interruptions(TraceIndex(run.trace))
        if account.signal is not None and account.signal.from_harness and account.signal.tid in delivered
    ]


def _saw(account: Interruption) -> str:
    code = f" ({account.code} to the tracer)" if account.code else ""
    return f"failed with EINTR{code}" if account.outcome == "EINTR" else f"ended: {account.outcome}{code}"


def _restarted(account: Interruption) -> str:
    code = account.code or "a restart code"
    if account.outcome == "restart_syscall":
        how = "resumed through restart_syscall"
    else:
        disposition = account.disposition
        if disposition is not None and disposition.handler == "handler" and disposition.sa_restart:
            why = "its handler has SA_RESTART"
        elif disposition is not None and disposition.handler == "handler":
            why = f"{code} restarts after any handler"
        else:
            why = "no handler ran"
        how = f"entered again by the kernel ({why})"
    return f"{account.task}'s {account.call_name} returned {code} to the tracer and was {how}; the program never saw it"


def _retry(trace: Trace, account: Interruption) -> tuple[str, str] | None:
    """(evidence, note) when the task made the interrupted call again from the same code after EINTR."""
    call = account.call
    if call is None:
        return None
    after = [
        event for event in trace if isinstance(event, SyscallEvent) and event.tid == call.tid and event.seq > call.seq
    ]
    again = next((event for event in after if _same_call(event, call)), None)
    if again is None:
        return None
    where = f" at {summary(call.python)}" if call.python else ""
    evidence = f"{account.task}'s {call.name} {_saw(account)}, then the same call was made again{where}"
    return evidence + _same_timeout(call, again), _who_retried(
        call, [event for event in after if event.seq < again.seq]
    )


def _same_call(event: SyscallEvent, call: SyscallEvent) -> bool:
    """The same call from the same code: its name, its Python line, and its first argument.

    The first argument is the descriptor a C program reads again, which tells
    its retry from a call elsewhere where no Python line does.
    """
    first = argument_order(call.name)[:1]
    return (
        event.name == call.name
        and event.python == call.python
        and all(event.args.get(name) == call.args.get(name) for name in first)
    )


def _same_timeout(call: SyscallEvent, again: SyscallEvent) -> str:
    """``, with its whole timeout again`` when the retry waits as long as the first call did.

    That is a loop that restarts its timeout from zero: the callers of select
    and poll must take off the time already waited themselves.
    """
    timeout = timeout_of(call.name)
    names = argument_names(call.name)
    if timeout is None or timeout.index >= len(names):
        return ""
    name = names[timeout.index]
    first, second = call.args.get(name), again.args.get(name)
    if first is None or first != second or first in (0, "NULL") or (isinstance(first, int) and first < 0):
        return ""
    shown = format_args(call.name, {name: first}, part="input")
    return f", with its whole timeout again ({name}={shown}): the time already waited is not taken off"


def _who_retried(call: SyscallEvent, between: list[SyscallEvent]) -> str:
    """Who made the call again: the program's own code, or CPython (PEP 475), as far as the calls between show.

    C code, and Python code through ctypes, get EINTR back and retry in a
    loop of their own; CPython retries its own calls itself once the
    signal's handler has run (PEP 475).  A Python handler runs inside the
    frame that made the call, so its calls' stacks end with that frame's
    stack; a call whose stack does not was made by the program's own code,
    back from the failed call.
    """
    if not call.python:
        return "the program's own loop made it again (C code gets EINTR back, and the C library does not retry)"
    outside = next(
        (event for event in between if not event.python or event.python[-len(call.python) :] != call.python), None
    )
    if outside is not None:
        where = f" at {summary(outside.python)}" if outside.python else ""
        return f"the program's own code ran before it ({outside.name}{where}): its own loop retried the call"
    if between:
        return "CPython retried it after the signal's handler ran (PEP 475): every call in between was the handler's"
    return "CPython retried it (PEP 475), or a loop of the program's at that line did: no call in between tells which"
