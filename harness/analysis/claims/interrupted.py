"""Claims about an interrupted call: what stopped, which signal from whom, the disposition, the call's fate.

One interruption is told in several claims, each checked on its own: the
call and its restart code, the delivery and its sender, the disposition in
force, then what the kernel made of it (EINTR, a restart, a resumption
through ``restart_syscall``, the task's death), and whether it happened only
because the process was traced.  What the program did after an EINTR is in
:mod:`harness.analysis.claims.retried`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from harness.analysis.claims.claim import Claim
from harness.analysis.facts import ProgramKind, describe_disposition
from harness.model import kernel

#: Who sent a signal, as its siginfo says: the harness itself (its stop signal, or an injection), a child's
#: exit or death (SIGCHLD's CLD_* codes), a traced process's kill, a process the trace does not hold, or the
#: kernel (no sender pid: a fault, a timer, a pipe).
SenderKind = Literal["harness", "injection", "child-exit", "child-signalled", "kill", "untraced", "kernel"]


@dataclass(frozen=True, slots=True)
class CallInterrupted(Claim):
    """A traced call returned a restart code: the kernel stopped it for a signal."""

    name: ClassVar[str] = "call-interrupted"
    task: str
    call: str
    enter_seq: int
    seq: int
    code: str
    blocked_for: str | None
    place: str | None

    def render(self) -> str:
        at = f", at {self.place}" if self.place else ""
        held = f" for {self.blocked_for}" if self.blocked_for else ""
        rule = kernel.RESTART_RULES.get(self.code, self.code)
        return (
            f"{self.task} was blocked in {self.call} (entered at #{self.enter_seq}{at}){held}; at #{self.seq} the "
            f"kernel stopped it with {self.code}, a code only a tracer sees: {rule}."
        )


@dataclass(frozen=True, slots=True)
class UntracedCallInterrupted(Claim):
    """The signal's delivery names a call the trace does not record (read from orig_rax)."""

    name: ClassVar[str] = "untraced-call-interrupted"
    task: str
    call: str
    code: str | None
    signal_seq: int

    def render(self) -> str:
        rule = (
            f": {kernel.RESTART_RULES[self.code]}"
            if self.code is not None and self.code in kernel.RESTART_RULES
            else ""
        )
        return (
            f"{self.task} was in {self.call}, a call this trace does not record; the tracer read it from the "
            f"registers at the signal's delivery (orig_rax), with {self.code or 'no restart code'}{rule}."
        )


@dataclass(frozen=True, slots=True)
class UnnamedCallInterrupted(Claim):
    """Only a handler's rt_sigreturn returning -EINTR shows that some untraced call was interrupted."""

    name: ClassVar[str] = "unnamed-call-interrupted"
    task: str
    sigreturn_seq: int

    def render(self) -> str:
        return (
            f"{self.task} was in a call this trace does not record (pause, epoll_wait, futex, a sleep...), and the "
            f"trace does not say which: only rt_sigreturn's -EINTR at #{self.sigreturn_seq} shows that a signal "
            "interrupted it. Trace more calls (--syscalls) to see it."
        )


@dataclass(frozen=True, slots=True)
class SignalDelivered(Claim):
    """A signal was delivered to the task, sent by whom its siginfo says."""

    name: ClassVar[str] = "signal-delivered"
    task: str
    signal: str
    seq: int
    sender: SenderKind
    sender_role: str | None
    sender_pid: int | None
    status: str | int | None
    """For a child's SIGCHLD: its exit status, or the signal that ended it."""
    code: str | None

    def render(self) -> str:
        return f"The signal was {self.signal} at #{self.seq}, {self.sent_by()}."

    def sent_by(self) -> str:
        """Who sent it, in words."""
        who = (
            f"{self.sender_role} (pid {self.sender_pid})"
            if self.sender_role
            else f"pid {self.sender_pid}"
            if self.sender_pid
            else "the kernel"
        )
        match self.sender:
            case "harness":
                return "sent by the harness (its stop signal, or a kill of its own)"
            case "injection":
                return "sent by the harness (--inject)"
            case "child-exit":
                return f"sent because {who} exited with status {self.status}"
            case "child-signalled":
                return f"sent because {who} was {str(self.code).removeprefix('CLD_').lower()} by {self.status}"
            case "kill":
                return f"sent by {who} with kill ({self.code})"
            case "untraced":
                return f"sent by pid {self.sender_pid} with kill ({self.code}), a process this trace does not hold"
            case _:
                return f"sent by the kernel (si_code {self.code})"


@dataclass(frozen=True, slots=True)
class NoDelivery(Claim):
    """No signal delivery to the task follows the interrupted call in the trace."""

    name: ClassVar[str] = "no-delivery"
    task: str
    after_seq: int

    def render(self) -> str:
        return "No signal delivery follows it in the trace (the task ended, or the trace stops)."


@dataclass(frozen=True, slots=True)
class DispositionInForce(Claim):
    """The signal's disposition in the process when the call was interrupted, from its rt_sigaction history."""

    name: ClassVar[str] = "disposition"
    process: str
    signal: str
    at_seq: int
    handler: kernel.HandlerKind
    sa_restart: bool
    set_seq: int | None
    """The rt_sigaction that set it; None: none in the trace (the default)."""
    set_by: str | None
    inherited_from: str | None

    def render(self) -> str:
        return f"At that moment {self.describe()}."

    def describe(self) -> str:
        """The disposition in words, with the call that set it."""
        set_at = (self.set_seq, self.set_by or "?") if self.set_seq is not None else None
        return describe_disposition(self.signal, self.handler, self.sa_restart, set_at, self.inherited_from)


#: What ``rt_sigreturn``'s -EINTR meant for the program: it saw the failure (C, Python 2), or CPython's own C
#: code got it first and the trace alone cannot say whether the program saw it.
EintrReader = Literal["program", "interpreter", "not shown"]

#: Who reads an EINTR first, by what the trace shows the process runs: CPython's C code reads it before the
#: program does (it may retry, PEP 475); another program reads it itself; with no program shown, either.
EINTR_READER: dict[ProgramKind, EintrReader] = {"cpython": "interpreter", "other": "program", "not shown": "not shown"}


@dataclass(frozen=True, slots=True)
class ReturnedEintr(Claim):
    """The handler's rt_sigreturn returned -EINTR: the interrupted call failed with EINTR."""

    name: ClassVar[str] = "returned-eintr"
    task: str
    call: str
    sigreturn_seq: int
    code: str | None
    reader: EintrReader

    def render(self) -> str:
        made = f", which the kernel made of {self.code}" if self.code else ""
        if self.reader == "program":
            return (
                f"So the program saw {self.call} fail with EINTR: rt_sigreturn at #{self.sigreturn_seq} returned "
                f"-EINTR{made}."
            )
        if self.reader == "not shown":
            return (
                f"So {self.call} failed with EINTR: rt_sigreturn at #{self.sigreturn_seq} returned -EINTR{made}. "
                "The trace holds no exec of this process, so it does not show which program reads the EINTR: a "
                "runtime such as CPython reads it first and may retry for the program."
            )
        return (
            f"So {self.call} failed with EINTR: rt_sigreturn at #{self.sigreturn_seq} returned -EINTR{made}, to "
            "CPython's own C code first, which decides whether the program sees it."
        )


@dataclass(frozen=True, slots=True)
class RestartedBySigreturn(Claim):
    """The handler's rt_sigreturn returned the call's own number: the kernel entered it again."""

    name: ClassVar[str] = "restarted-by-sigreturn"
    task: str
    call: str
    sigreturn_seq: int
    again_seq: int | None
    """The call entered again, when it is the task's next traced call (the kernel's own re-entry)."""
    again_enter_seq: int | None

    def render(self) -> str:
        again = f" and {self.call} was entered again at #{self.again_enter_seq}" if self.again_seq else ""
        return (
            f"So the call was restarted transparently: rt_sigreturn at #{self.sigreturn_seq} returned the call's own "
            f"number (the kernel put orig_ax back){again}; the program never saw it fail."
        )


@dataclass(frozen=True, slots=True)
class RestartedWithoutHandler(Claim):
    """No handler ran (no rt_sigreturn), and the call was entered again: the kernel restarted it."""

    name: ClassVar[str] = "restarted-without-handler"
    task: str
    call: str
    interrupted_seq: int
    again_seq: int
    again_enter_seq: int

    def render(self) -> str:
        return (
            f"So the call was restarted transparently: no handler ran, and {self.call} was entered again at "
            f"#{self.again_enter_seq}; the program never saw it fail."
        )


@dataclass(frozen=True, slots=True)
class RestartedUnseen(Claim):
    """Inference from the rule: no handler ran, so the kernel entered the untraced call again; the task went on."""

    name: ClassVar[str] = "restarted-unseen"
    task: str
    call: str
    code: str | None
    signal_seq: int
    next_seq: int
    next_event: str

    def render(self) -> str:
        return (
            f"No handler ran, so the kernel entered {self.call} again, as it does for {self.code or 'this code'} "
            f"without one; the trace does not record {self.call}, and the task's next event is {self.next_event} "
            f"at #{self.next_seq} (inferred from the rule and from the task going on); the program never saw it fail."
        )


@dataclass(frozen=True, slots=True)
class ResumedByRestartSyscall(Claim):
    """The call resumed through restart_syscall, with the time it had left."""

    name: ClassVar[str] = "resumed-by-restart-syscall"
    task: str
    seq: int

    def render(self) -> str:
        return (
            f"So the call resumed through restart_syscall at #{self.seq}, with the time it had left; "
            "the program never saw it fail."
        )


@dataclass(frozen=True, slots=True)
class KilledInCall(Claim):
    """The task was killed before the call's fate was decided: it never returned."""

    name: ClassVar[str] = "killed-in-call"
    task: str
    call: str
    exit_seq: int
    signal: str

    def render(self) -> str:
        return f"The task was killed by {self.signal} at #{self.exit_seq} before {self.call} returned: it never did."


@dataclass(frozen=True, slots=True)
class EndedInCall(Claim):
    """The task ended, with no call of its own after the interrupted one (another thread's exit_group, say)."""

    name: ClassVar[str] = "ended-in-call"
    task: str
    call: str
    interrupted_seq: int
    exit_seq: int

    def render(self) -> str:
        return f"The task ended at #{self.exit_seq} with no call of its own after it: {self.call} never returned."


@dataclass(frozen=True, slots=True)
class ExitedFromHandler(Claim):
    """The task exited after the signal with no rt_sigreturn between: the handler (or code it called) exited."""

    name: ClassVar[str] = "exited-from-handler"
    task: str
    call: str
    signal_seq: int
    exit_seq: int
    code: int | None
    calls: tuple[str, ...]

    def render(self) -> str:
        made = f", after {', '.join(self.calls)}" if self.calls else ""
        return (
            f"The handler did not return: {self.task} exited with status {self.code} at #{self.exit_seq}{made}, with "
            f"no rt_sigreturn after the signal at #{self.signal_seq}, so {self.call} never returned to the code that "
            "called it (the exit came from the handler, or from code it called)."
        )


@dataclass(frozen=True, slots=True)
class FateNotShown(Claim):
    """The trace ends before the interrupted call's fate shows."""

    name: ClassVar[str] = "fate-not-shown"
    task: str

    def render(self) -> str:
        return "What followed is not in the trace: it ends before the call's fate shows."


@dataclass(frozen=True, slots=True)
class OnlyUnderPtrace(Claim):
    """The signal is ignored: untraced, the kernel would have discarded it and the call would not have stopped."""

    name: ClassVar[str] = "only-under-ptrace"
    task: str
    signal: str
    signal_seq: int
    handler: kernel.HandlerKind

    def render(self) -> str:
        why = "SIG_IGN" if self.handler == "SIG_IGN" else "its default action is to ignore it, signal(7)"
        return (
            f"This interruption happens only because the process is traced: {self.signal} is ignored here ({why}), "
            "and the kernel discards an ignored signal when it is sent, without waking anyone, unless the task is "
            "ptraced (kernel/signal.c, sig_ignored). Untraced, the call would have gone on blocking undisturbed."
        )


@dataclass(frozen=True, slots=True)
class RuleDisagrees(Claim):
    """The kernel's rule predicts another outcome for the disposition the trace shows."""

    name: ClassVar[str] = "rule-disagrees"
    task: str
    expected: str
    seen: str

    def render(self) -> str:
        return (
            f"(The rule predicts {self.expected} for this disposition; the trace shows {self.seen}: the disposition "
            "may have been set before the trace began, or by a call the trace does not record.)"
        )
