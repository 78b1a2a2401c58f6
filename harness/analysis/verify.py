"""Check every claim of an explanation against the trace again, from the raw events.

:mod:`harness.analysis.explain` derives its claims through the facts and
the interruption accounts; this module does not reuse them.  It reads the
events a claim names (by seq) and the spans it says something about, and
asks the plain question again: is that event a ``wait4`` of that process
returning that pid?  Is there really no ``close`` of that number between
those two events?  A claim it cannot confirm is reported with the reason,
and ``explain`` withholds it (the suite makes every such case a failure).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from typing import Any, TypeVar

from harness.analysis import claims as c
from harness.analysis.descriptors import follow
from harness.analysis.facts import TraceIndex, program_kind, program_of, reaped_pid, runs_cpython
from harness.model import kernel
from harness.model.events import Event, ExecEvent, ExitEvent, SignalEvent, SyscallEvent
from harness.model.roles import parent_role, process_role
from harness.model.syscalls import calls_that, syscall_number
from harness.model.trace import Trace

_E = TypeVar("_E", bound=Event)
_WAITS = calls_that("reaps")
_KILLS = calls_that("signals")
_ACCEPTS = calls_that("accepts")
_CLOSES = calls_that("closes")
_INSTALLS = calls_that("installs_handler")
_HANDLER_RETURNS = calls_that("returns_from_handler")
_RESUMES = calls_that("resumes")
_ENDS = calls_that("ends_task") | calls_that("ends_process")
_LISTENS = calls_that("listens")


class ClaimRefuted(AssertionError):
    """A claim the trace does not support: a bug in the explanation, never in the user's server."""


class Verifier:
    """Checks claims against one trace; each check returns None, or why the claim does not hold."""

    def __init__(self, trace: Trace, index: TraceIndex | None = None) -> None:
        """``index``: the trace's events grouped by process, when the caller has them (explain has)."""
        self.trace = trace
        self._by_seq = {event.seq: event for event in trace}
        self._index = index if index is not None else TraceIndex(trace)
        self._checks: dict[type[c.Claim], Callable[[Any], str | None]] = {
            c.CallInterrupted: self._call_interrupted,
            c.UntracedCallInterrupted: self._untraced_call_interrupted,
            c.UnnamedCallInterrupted: self._unnamed_call_interrupted,
            c.SignalDelivered: self._signal_delivered,
            c.NoDelivery: self._no_delivery,
            c.DispositionInForce: self._disposition,
            c.ReturnedEintr: self._returned_eintr,
            c.RestartedBySigreturn: self._restarted_by_sigreturn,
            c.RestartedWithoutHandler: self._restarted_without_handler,
            c.ResumedByRestartSyscall: self._resumed_by_restart_syscall,
            c.RestartedUnseen: self._restarted_unseen,
            c.KilledInCall: self._killed_in_call,
            c.ExitedFromHandler: self._exited_from_handler,
            c.EndedInCall: self._ended_in_call,
            c.FateNotShown: lambda claim: None,  # an absence of evidence at the trace's end: nothing to check
            c.CalledAgain: self._called_again,
            c.NotCalledAgain: self._not_called_again,
            c.HandlesEintrItself: self._handles_eintr_itself,
            c.TwoRetryCausesFit: self._two_retry_causes_fit,
            c.RetryCauseNotShown: self._retry_cause_not_shown,
            c.RetriedByLibrary: self._retried_by_library,
            c.RetriedByOwnCode: self._retried_by_own_code,
            c.RetriedFrom: self._retried_from,
            c.PythonHandlerRan: self._python_handler_ran,
            c.OnlyUnderPtrace: self._only_under_ptrace,
            c.RuleDisagrees: lambda claim: None if claim.expected != claim.seen else "the rule and the trace agree",
            c.ChildEnded: self._child_ended,
            c.KilledBy: self._killed_by,
            c.ReapedBy: self._reaped_by,
            c.NeverReaped: self._never_reaped,
            c.ReapedOnParentExit: self._reaped_on_parent_exit,
            c.ServedOnWithZombie: self._served_on_with_zombie,
            c.DefaultDoesNotReap: self._default_does_not_reap,
            c.HandlerDidNotReap: self._handler_did_not_reap,
            c.AutoReaped: self._auto_reaped,
            c.OutlivedParent: self._outlived_parent,
            c.ConnectionKept: self._connection_kept,
            c.ClosedLater: self._closed_later,
            c.DescriptorsGrow: self._descriptors_grow,
            c.ListenerKept: self._listener_kept,
            c.ListenerClosedByExec: self._listener_closed_by_exec,
        }

    def check(self, claim: c.Claim) -> str | None:
        """None when the trace supports the claim; else why not."""
        missing = [seq for seq in claim.evidence if seq not in self._by_seq]
        if missing:
            return f"it names #{missing[0]}, which is no event of this trace"
        return self._checks[type(claim)](claim)

    def require(self, claim: c.Claim) -> None:
        """Raise :class:`ClaimRefuted` when the trace does not support the claim."""
        problem = self.check(claim)
        if problem is not None:
            raise ClaimRefuted(f"{claim.name} {claim.evidence}: {problem}")

    # -- reading events ---------------------------------------------------------------

    def _event(self, seq: int | None, kind: type[_E]) -> _E | None:
        event = self._by_seq.get(seq) if seq is not None else None
        return event if isinstance(event, kind) else None

    def _call(self, seq: int | None, role: str | None = None, names: Collection[str] = ()) -> SyscallEvent | None:
        event = self._event(seq, SyscallEvent)
        if event is None or (role is not None and event.role != role) or (names and event.name not in names):
            return None
        return event

    def _of_task(self, task: str, after: int, before: int | None = None) -> Iterator[Event]:
        """The task's events with ``after`` < seq (< ``before``)."""
        for event in self._index.events_of(process_role(task)):
            if event.role == task and event.seq > after and (before is None or event.seq < before):
                yield event

    def _of_process(self, process: str) -> list[Event]:
        return self._index.events_of(process)

    def _runs_python(self, process: str) -> bool:
        return runs_cpython(self._index, process)

    def _pid_of(self, role: str) -> int | None:
        spawn = self._index.spawns.get(role)
        return spawn.child_pid if spawn is not None else None

    def _reaps(self, parent: str, pid: int) -> list[SyscallEvent]:
        """The waits of ``parent`` that returned ``pid`` (what a wait returns is read as the facts read it)."""
        return [
            event
            for event in self._of_process(parent)
            if isinstance(event, SyscallEvent) and event.name in _WAITS and reaped_pid(event) == pid
        ]

    # -- an interrupted call ----------------------------------------------------------

    def _call_interrupted(self, claim: c.CallInterrupted) -> str | None:
        call = self._call(claim.seq, claim.task, (claim.call,))
        if call is None:
            return f"#{claim.seq} is no {claim.call} of {claim.task}"
        if call.errno != claim.code or not kernel.is_restart_code(call.errno):
            return f"#{claim.seq} returned {call.errno}, not the restart code {claim.code}"
        return None if call.enter_seq == claim.enter_seq else f"#{claim.seq} was entered at #{call.enter_seq}"

    def _untraced_call_interrupted(self, claim: c.UntracedCallInterrupted) -> str | None:
        signal = self._event(claim.signal_seq, SignalEvent)
        if signal is None or signal.role != claim.task or signal.syscall != claim.call:
            return f"the delivery at #{claim.signal_seq} does not name {claim.call} in {claim.task}"
        return None if signal.syscall_errno == claim.code else f"its code was {signal.syscall_errno}"

    def _unnamed_call_interrupted(self, claim: c.UnnamedCallInterrupted) -> str | None:
        sigreturn = self._call(claim.sigreturn_seq, claim.task, _HANDLER_RETURNS)
        return None if sigreturn is not None and sigreturn.errno == "EINTR" else "no rt_sigreturn returning -EINTR"

    def _signal_delivered(self, claim: c.SignalDelivered) -> str | None:
        signal = self._event(claim.seq, SignalEvent)
        if signal is None or signal.role != claim.task or signal.name != claim.signal:
            return f"#{claim.seq} is no delivery of {claim.signal} to {claim.task}"
        info = signal.siginfo
        code, pid = info.get("si_code"), info.get("si_pid")
        if claim.sender == "injection":
            return None if signal.injected else "the harness did not inject it"
        if claim.sender == "harness":
            return None if signal.from_harness else "the harness's process did not send it"
        if signal.from_harness:
            return "the harness sent it"
        if claim.sender_pid != (pid if isinstance(pid, int) and pid else None):
            return f"si_pid is {pid}"
        if claim.sender_role is not None and self.trace.role_of_pid(claim.sender_pid or 0) != claim.sender_role:
            return f"pid {claim.sender_pid} is not {claim.sender_role}"
        expected_codes = {
            "child-exit": code == "CLD_EXITED",
            "child-signalled": code in kernel.CLD_STATUS_IS_SIGNAL,
            "kill": code in kernel.SI_CODES_WITH_SENDER and claim.sender_role is not None,
            "untraced": code in kernel.SI_CODES_WITH_SENDER and claim.sender_role is None,
            "kernel": code not in kernel.SI_CODES_WITH_SENDER and not str(code).startswith("CLD_"),
        }
        if not expected_codes[claim.sender]:
            return f"si_code {code} does not mean {claim.sender}"
        if claim.sender.startswith("child") and info.get("si_status") != claim.status:
            return f"si_status is {info.get('si_status')}"
        return None

    def _no_delivery(self, claim: c.NoDelivery) -> str | None:
        for event in self._of_task(claim.task, claim.after_seq):
            if isinstance(event, SignalEvent):
                return f"#{event.seq} delivers {event.name}"
            if isinstance(event, SyscallEvent):
                return None  # the task went on: no delivery came for the call
        return None

    def _disposition(self, claim: c.DispositionInForce) -> str | None:
        # The last rt_sigaction for the signal in the process or an ancestor before the fork that made the next.
        process, before, last = claim.process, claim.at_seq, None
        while last is None:
            for event in self._of_process(process):
                if event.seq >= before:
                    break
                if (
                    isinstance(event, ExecEvent)
                    and last is not None
                    and last.args["act"].get("handler")
                    not in (
                        "SIG_DFL",
                        "SIG_IGN",
                    )
                ):
                    last = None  # an exec resets a handled signal to SIG_DFL
                    break
                if (
                    isinstance(event, SyscallEvent)
                    and event.name in _INSTALLS
                    and event.errno is None
                    and event.args.get("signal") == claim.signal
                    and isinstance(event.args.get("act"), dict)
                ):
                    last = event
            parent = parent_role(process)
            spawn = self._index.spawns.get(process)
            if last is not None or parent is None or spawn is None:
                break
            process, before = parent, spawn.seq
        if last is None:
            return None if claim.set_seq is None else f"no rt_sigaction of {claim.signal} is in force then"
        if last.seq != claim.set_seq:
            return f"the rt_sigaction in force is #{last.seq}, not #{claim.set_seq}"
        handler = last.args["act"].get("handler")
        kind = handler if handler in ("SIG_DFL", "SIG_IGN") else "handler"
        restart = "SA_RESTART" in (last.args["act"].get("flags") or ())
        return None if (kind, restart) == (claim.handler, claim.sa_restart) else f"#{last.seq} set {kind}, {restart}"

    def _returned_eintr(self, claim: c.ReturnedEintr) -> str | None:
        sigreturn = self._call(claim.sigreturn_seq, claim.task, _HANDLER_RETURNS)
        if sigreturn is None or sigreturn.errno != "EINTR":
            return f"#{claim.sigreturn_seq} is no rt_sigreturn of {claim.task} returning -EINTR"
        kind = program_kind(self._index, process_role(claim.task))
        return None if claim.reader == c.EINTR_READER[kind] else f"reader {claim.reader}, the program: {kind}"

    def _restarted_by_sigreturn(self, claim: c.RestartedBySigreturn) -> str | None:
        sigreturn = self._call(claim.sigreturn_seq, claim.task, _HANDLER_RETURNS)
        if sigreturn is None:
            return f"#{claim.sigreturn_seq} is no rt_sigreturn of {claim.task}"
        if sigreturn.ret != syscall_number(claim.call):
            return f"it returned {sigreturn.ret}"
        if claim.again_seq is None:
            return None
        following = next(
            (e for e in self._of_task(claim.task, claim.sigreturn_seq) if isinstance(e, SyscallEvent)), None
        )
        if following is None or following.seq != claim.again_seq or following.name != claim.call:
            return f"the task's next call after #{claim.sigreturn_seq} is not {claim.call} at #{claim.again_seq}"
        return None if following.enter_seq == claim.again_enter_seq else f"it was entered at #{following.enter_seq}"

    def _restarted_without_handler(self, claim: c.RestartedWithoutHandler) -> str | None:
        again = self._call(claim.again_seq, claim.task, (claim.call,))
        if again is None or again.enter_seq != claim.again_enter_seq:
            return f"#{claim.again_seq} is no {claim.call} of {claim.task} entered at #{claim.again_enter_seq}"
        for event in self._of_task(claim.task, claim.interrupted_seq, claim.again_enter_seq):
            if isinstance(event, SyscallEvent):
                return f"#{event.seq} ({event.name}) came between: something ran before the call was entered again"
        return None

    def _restarted_unseen(self, claim: c.RestartedUnseen) -> str | None:
        signal = self._event(claim.signal_seq, SignalEvent)
        if signal is None or signal.role != claim.task or signal.syscall != claim.call:
            return f"#{claim.signal_seq} is no delivery to {claim.task} in {claim.call}"
        if claim.code not in kernel.RESTART_RULES or claim.code == "ERESTART_RESTARTBLOCK":
            return f"{claim.code} is not restarted by entering the call again"
        following = next(iter(self._of_task(claim.task, claim.signal_seq)), None)
        if following is None or following.seq != claim.next_seq:
            return f"the task's next event is not #{claim.next_seq}"
        if isinstance(following, SyscallEvent) and following.name in _HANDLER_RETURNS | _RESUMES:
            return f"its next event is {following.name}: a handler ran, or restart_syscall resumed it"
        return None

    def _resumed_by_restart_syscall(self, claim: c.ResumedByRestartSyscall) -> str | None:
        event = self._call(claim.seq, claim.task)
        if event is None:
            return f"#{claim.seq} is no call of {claim.task}"
        # rt_sigreturn returns restart_syscall's number where the kernel resumes the call through it.
        restart = event.name in _RESUMES or (
            event.name in _HANDLER_RETURNS and any(event.ret == syscall_number(name) for name in _RESUMES)
        )
        return None if restart else f"#{claim.seq} is {event.name}"

    def _killed_in_call(self, claim: c.KilledInCall) -> str | None:
        end = self._event(claim.exit_seq, ExitEvent)
        if end is None or end.role != claim.task or end.signal != claim.signal:
            return f"#{claim.exit_seq} is no death of {claim.task} by {claim.signal}"
        return None

    def _ended_in_call(self, claim: c.EndedInCall) -> str | None:
        end = self._event(claim.exit_seq, ExitEvent)
        if end is None or end.role != claim.task:
            return f"#{claim.exit_seq} is no end of {claim.task}"
        calls = [e for e in self._of_task(claim.task, claim.interrupted_seq, end.seq) if isinstance(e, SyscallEvent)]
        return f"#{calls[0].seq} ({calls[0].name}) came after the call" if calls else None

    def _exited_from_handler(self, claim: c.ExitedFromHandler) -> str | None:
        end = self._event(claim.exit_seq, ExitEvent)
        if end is None or end.role != claim.task or end.signal is not None or end.code != claim.code:
            return f"#{claim.exit_seq} is no exit of {claim.task} with status {claim.code}"
        span = self._of_task(claim.task, claim.signal_seq, claim.exit_seq)
        between = [e for e in span if isinstance(e, SyscallEvent)]
        if any(e.name in _HANDLER_RETURNS for e in between):
            return "an rt_sigreturn came between the signal and the exit: the handler returned"
        made = tuple(dict.fromkeys(e.name for e in between if e.name not in _ENDS))
        return None if made == claim.calls else f"the calls between were {made}"

    def _next_entry(self, task: str, call: str, after: int) -> SyscallEvent | None:
        return next(
            (
                e
                for e in self._of_task(task, 0)
                if isinstance(e, SyscallEvent) and e.name == call and e.enter_seq > after
            ),
            None,
        )

    def _called_again(self, claim: c.CalledAgain) -> str | None:
        again = self._next_entry(claim.task, claim.call, claim.after_seq)
        if again is None or again.seq != claim.seq:
            return f"the next {claim.call} of {claim.task} after #{claim.after_seq} is not #{claim.seq}"
        between = tuple(
            e.name for e in self._of_task(claim.task, claim.after_seq, again.enter_seq) if isinstance(e, SyscallEvent)
        )
        return None if between == claim.between else f"the calls between were {between}"

    def _not_called_again(self, claim: c.NotCalledAgain) -> str | None:
        again = self._next_entry(claim.task, claim.call, claim.after_seq)
        if again is not None:
            return f"{claim.call} was entered again at #{again.enter_seq}"
        if claim.exit_seq is not None and self._event(claim.exit_seq, ExitEvent) is None:
            return f"#{claim.exit_seq} is no exit"
        return None

    def _handles_eintr_itself(self, claim: c.HandlesEintrItself) -> str | None:
        kind = program_kind(self._index, process_role(claim.task))
        return None if kind == "other" else f"the program: {kind}"

    def _retry_cause_not_shown(self, claim: c.RetryCauseNotShown) -> str | None:
        program = program_of(self._index, process_role(claim.task))
        if program:
            return f"the trace shows the program: {program}"
        return None if self._call(claim.again_seq, claim.task) is not None else f"#{claim.again_seq} is no call"

    def _two_retry_causes_fit(self, claim: c.TwoRetryCausesFit) -> str | None:
        if not self._runs_python(process_role(claim.task)):
            return "it does not run CPython"
        again = self._call(claim.again_seq, claim.task)
        return "the retry carries Python frames: they tell" if again is not None and again.python else None

    def _stacks(self, first: int, again: int, task: str) -> tuple[SyscallEvent, SyscallEvent] | None:
        one, two = self._call(first, task), self._call(again, task)
        if one is None or two is None or not one.python or not two.python:
            return None
        return one, two

    def _retried_by_library(self, claim: c.RetriedByLibrary) -> str | None:
        pair = self._stacks(claim.first_seq, claim.again_seq, claim.task)
        if pair is None:
            return "the two entries do not both carry Python frames"
        first, again = pair
        same = first.python == again.python and again.python is not None and again.python[0].in_stdlib
        return None if same else "the stacks differ, or the innermost frame is the program's"

    def _retried_by_own_code(self, claim: c.RetriedByOwnCode) -> str | None:
        again = self._call(claim.again_seq, claim.task)
        if again is None or not again.python:
            return "the retry carries no Python frames"
        innermost = again.python[0]
        return None if not innermost.in_stdlib and str(innermost) == claim.frame else "not the program's frame"

    def _retried_from(self, claim: c.RetriedFrom) -> str | None:
        return None if self._stacks(claim.first_seq, claim.again_seq, claim.task) else "no frames to compare"

    def _python_handler_ran(self, claim: c.PythonHandlerRan) -> str | None:
        for seq in claim.seqs:
            event = self._call(seq, claim.task)
            if event is None or not event.python or not any(f.function == claim.function for f in event.python):
                return f"#{seq} was not made under {claim.function}"
        return None

    def _only_under_ptrace(self, claim: c.OnlyUnderPtrace) -> str | None:
        signal = self._event(claim.signal_seq, SignalEvent)
        if signal is None or signal.name != claim.signal:
            return f"#{claim.signal_seq} is no delivery of {claim.signal}"
        return None if kernel.wakes_only_under_ptrace(claim.signal, claim.handler) else "the signal is not ignored"

    # -- a child's end ----------------------------------------------------------------

    def _child_ended(self, claim: c.ChildEnded) -> str | None:
        end = self._event(claim.exit_seq, ExitEvent)
        if end is None or end.role != claim.child or end.pid != claim.pid:
            return f"#{claim.exit_seq} is no end of {claim.child} (pid {claim.pid})"
        return None if (end.code, end.signal) == (claim.code, claim.signal) else f"it ended {end.code}, {end.signal}"

    def _killed_by(self, claim: c.KilledBy) -> str | None:
        kill = self._call(claim.kill_seq, None, _KILLS)
        if kill is None or process_role(kill.role) != claim.sender or kill.errno is not None:
            return f"#{claim.kill_seq} is no successful kill by {claim.sender}"
        target = kill.args.get("pid", kill.args.get("tgid"))
        if target != claim.pid or kill.args.get("signal") != claim.signal:
            return f"#{claim.kill_seq} sent {kill.args.get('signal')} to {target}, not {claim.signal} to {claim.pid}"
        end = self._event(claim.exit_seq, ExitEvent)
        return None if end is not None and end.signal == claim.signal and kill.enter_seq < end.seq else "no such death"

    def _reaped_by(self, claim: c.ReapedBy) -> str | None:
        wait = self._call(claim.seq, None, _WAITS)
        if wait is None or process_role(wait.role) != claim.parent or wait not in self._reaps(claim.parent, claim.pid):
            return f"#{claim.seq} is no wait of {claim.parent} that collected pid {claim.pid}"
        return None if wait.seq > claim.exit_seq else "the wait came before the exit"

    def _never_reaped(self, claim: c.NeverReaped) -> str | None:
        reaps = self._reaps(claim.parent, claim.pid)
        if reaps:
            return f"#{reaps[0].seq} collected it"
        if claim.parent_exit_seq is not None:
            end = self._event(claim.parent_exit_seq, ExitEvent)
            if end is None or end.role != claim.parent or end.seq < claim.exit_seq:
                return f"#{claim.parent_exit_seq} is no exit of {claim.parent} after the child's"
        return None

    def _reaped_on_parent_exit(self, claim: c.ReapedOnParentExit) -> str | None:
        end = self._event(claim.parent_exit_seq, ExitEvent)
        return None if end is not None and end.role == claim.parent else f"#{claim.parent_exit_seq} is no exit of it"

    def _served_on_with_zombie(self, claim: c.ServedOnWithZombie) -> str | None:
        accept = self._call(claim.accept_seq, None, _ACCEPTS)
        if accept is None or process_role(accept.role) != claim.parent or accept.errno is not None:
            return f"#{claim.accept_seq} is no accepted connection of {claim.parent}"
        if accept.seq < claim.exit_seq:
            return "it accepted before the child's exit"
        pid = self._pid_of(claim.child)
        reaps = self._reaps(claim.parent, pid) if pid is not None else []
        return f"#{reaps[0].seq} collected it first" if reaps and reaps[0].seq < accept.seq else None

    def _default_does_not_reap(self, claim: c.DefaultDoesNotReap) -> str | None:
        for event in self._of_process(claim.parent):
            sets = isinstance(event, SyscallEvent) and event.name in _INSTALLS and event.seq < claim.exit_seq
            if sets and event.args.get("signal") == "SIGCHLD" and isinstance(event.args.get("act"), dict):  # type: ignore[union-attr]
                return f"#{event.seq} set SIGCHLD's disposition"
        return None

    def _handler_did_not_reap(self, claim: c.HandlerDidNotReap) -> str | None:
        signal = self._event(claim.signal_seq, SignalEvent)
        if signal is None or signal.name != "SIGCHLD" or process_role(signal.role) != claim.parent:
            return f"#{claim.signal_seq} is no SIGCHLD of {claim.parent}"
        served_on = c.ServedOnWithZombie(claim.parent, claim.child, signal.seq, claim.accept_seq)
        return self._served_on_with_zombie(served_on)

    def _auto_reaped(self, claim: c.AutoReaped) -> str | None:
        parent = parent_role(claim.child)
        if parent is not None and self._reaps(parent, claim.pid):
            return "a wait collected it"
        end = self._event(claim.exit_seq, ExitEvent)
        return None if end is not None and end.role == claim.child else f"#{claim.exit_seq} is no end of {claim.child}"

    def _outlived_parent(self, claim: c.OutlivedParent) -> str | None:
        end = self._event(claim.parent_exit_seq, ExitEvent)
        child_end = self._index.exits.get(claim.child)
        if end is None or end.role != claim.parent:
            return f"#{claim.parent_exit_seq} is no exit of {claim.parent}"
        return None if child_end is None or child_end.seq > end.seq else "the child ended first"

    # -- descriptors ----------------------------------------------------------------------

    def _accepted(self, seq: int, process: str, fd: int) -> str | None:
        accept = self._call(seq, None, _ACCEPTS)
        if accept is None or process_role(accept.role) != process or accept.ret != fd:
            return f"#{seq} is no accept of {process} returning fd {fd}"
        return None

    def _closes(self, process: str, fd: int, after: int, before: int | None) -> list[Event]:
        """The event that freed the last number referring to what ``fd`` held, within the span (a close, an exec)."""
        table = {fd: fd}
        for event in self._of_process(process):
            if event.seq <= after or (before is not None and event.seq >= before):
                continue
            if follow(table, event) and not table:
                return [event]
        return []

    def _connection_kept(self, claim: c.ConnectionKept) -> str | None:
        problem = self._accepted(claim.accepted_seq, claim.process, claim.fd)
        if problem:
            return problem
        if claim.next_accept_seq is not None:
            entry = self._call(claim.next_accept_seq, None, _ACCEPTS)
            if entry is None or process_role(entry.role) != claim.process:
                return f"#{claim.next_accept_seq} is no accept of {claim.process}"
            closes = self._closes(claim.process, claim.fd, claim.accepted_seq, entry.enter_seq)
        else:
            closes = self._closes(claim.process, claim.fd, claim.accepted_seq, None)
        return f"#{closes[0].seq} closed it" if closes else None

    def _closed_later(self, claim: c.ClosedLater) -> str | None:
        close = self._call(claim.close_seq, None, _CLOSES)
        if close is None or process_role(close.role) != claim.process or close.args.get("fd") != claim.fd:
            return f"#{claim.close_seq} is no close of fd {claim.fd} by {claim.process}"
        if claim.accept_seq is not None:
            accept = self._call(claim.accept_seq, None, _ACCEPTS)
            if accept is None or process_role(accept.role) != claim.process or accept.ret is None or accept.ret < 0:
                return f"#{claim.accept_seq} is no accepted connection of {claim.process}"
            between = [
                e
                for e in self._of_process(claim.process)
                if accept.seq < e.seq < close.seq and isinstance(e, SyscallEvent) and e.tid == close.tid
            ]
            if between:
                return f"#{between[0].seq} ({between[0].name}) came between the accept and the close"
        if claim.python != self._runs_python(claim.process):
            return "the claim is wrong about CPython"
        return None

    def _descriptors_grow(self, claim: c.DescriptorsGrow) -> str | None:
        if len(claim.fds) < 3 or list(claim.fds) != sorted(set(claim.fds)):
            return "fewer than three numbers, or not growing"
        for seq, fd in zip(claim.seqs, claim.fds, strict=True):
            problem = self._accepted(seq, claim.process, fd)
            if problem:
                return problem
        for seq, fd in zip(claim.seqs, claim.fds, strict=True):
            closes = self._closes(claim.process, fd, seq, claim.seqs[-1])
            if closes:
                return f"#{closes[0].seq} closed fd {fd} in between"
        return None

    def _listener_kept(self, claim: c.ListenerKept) -> str | None:
        listens = [
            e
            for e in self._of_process(claim.owner)
            if isinstance(e, SyscallEvent) and e.name in _LISTENS and e.args.get("fd") == claim.fd
        ]
        if not listens:
            return f"{claim.owner} never listened on fd {claim.fd}"
        closes = self._closes(claim.process, claim.fd, 0, None)
        return f"#{closes[0].seq} closed it" if closes else None

    def _listener_closed_by_exec(self, claim: c.ListenerClosedByExec) -> str | None:
        exec_event = self._event(claim.exec_seq, ExecEvent)
        if exec_event is None or process_role(exec_event.role) != claim.process or exec_event.fds is None:
            return f"#{claim.exec_seq} is no exec of {claim.process} with its descriptors"
        if claim.fd in exec_event.fds:
            return f"fd {claim.fd} is still held after it"
        earlier = self._closes(claim.process, claim.fd, 0, claim.exec_seq)
        return f"#{earlier[0].seq} closed it first" if earlier else None
