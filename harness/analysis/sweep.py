"""A sweep's verdict on one site: what the signal the harness delivered there came to, read from the run's trace.

The run is compared with the baseline (the same server, the same clients,
no signal): a run that fails where the baseline passed is **broken**, with
the failure as evidence; so is one in which a task ends otherwise than in
the baseline (a child that exits 1 instead of 0, or is killed).  A run that
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
from harness.model.events import ExitEvent, SyscallEvent
from harness.model.frames import summary
from harness.model.strace_format import format_args
from harness.model.sweep import Site, SiteVerdict
from harness.model.syscalls import argument_names, timeout_of
from harness.model.trace import Trace

#: How a task ended: (exit code, killing signal), one of them None.
Ending = tuple[int | None, str | None]


def endings(trace: Trace) -> dict[str, Ending]:
    """How each process of a trace ended, by role (threads left out: their process's end is what counts)."""
    return {
        event.role: (event.code, event.signal)
        for event in trace
        if isinstance(event, ExitEvent) and event.tid == event.pid
    }


def _ending_text(ending: Ending) -> str:
    code, signal = ending
    return f"was killed by {signal}" if signal else f"exited {code}"


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
    """The signal the harness sends the server after its clients (``server.stop``): death by it, or the status a
    shell gives that (143 for SIGTERM), are the same end, as they are for the run's own verdict."""


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
    """Each process that ended otherwise than in the baseline, as a sentence."""
    return [
        f"{role} {_ending_text(now[role])} (in the run without the signal it {_ending_text(before)})"
        for role, before in sorted(baseline.items())
        if role in now and _same_end(now[role], stop) != _same_end(before, stop)
    ]


def _same_end(ending: Ending, stop: str | None) -> Ending:
    """An ending as the run's verdict counts it: after the stop signal S, exit 128+S is death by S (a shell's rule).

    A server that ends on SIGTERM may exit 143 on one run and die of the
    signal on another (socat's main did, under load, in the suite: killed
    by SIGTERM in a baseline, not in its site's run): the same end for the
    run's verdict, so no change the sweep's signal made.
    """
    if stop is not None and ending[0] == kernel.signalled_status(stop):
        return None, stop
    return ending


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
    again = next((event for event in after if event.name == call.name and event.python == call.python), None)
    if again is None:
        return None
    where = f" at {summary(call.python)}" if call.python else ""
    evidence = f"{account.task}'s {call.name} {_saw(account)}, then the same call was made again{where}"
    return evidence + _same_timeout(call, again), _who_retried(
        call, [event for event in after if event.seq < again.seq]
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
