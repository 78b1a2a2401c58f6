"""What ``explain`` asserts about a trace: typed claims, each with the events it rests on, and its sentence.

An explanation that reads well can still be wrong: "the descriptor table
grows" of a Python server whose descriptor is closed when ``conn`` is
rebound, "never returned" of a call whose handler went on to exit.  So
``explain`` does not write prose: it makes claims, each a frozen value that
names the events it rests on (:attr:`Claim.evidence`), and renders the text
from them.  :mod:`harness.analysis.verify` checks every claim against the
trace again, from the raw events, before any is shown.

A claim is one of three sorts:

* an **observation**: an event shows it (a call returned -EINTR at #282, a
  wait returned the child's pid at #310);
* an **absence**: no event of a kind shows in a span (no wait of the parent
  ever returned the pid; no ``rt_sigreturn`` between the signal and the exit);
* an **inference**, which says so in its own words, and whose premises are
  checked (the process runs CPython and its calls carry no frames, so two
  causes fit a retry).

Each claim renders one sentence, or one clause that its finding joins; the
lessons (general knowledge, no claim about this trace) stay in
:mod:`harness.analysis.explain`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import ClassVar, Literal

from harness.analysis.facts import describe_disposition
from harness.model import kernel

#: Who sent a signal, as its siginfo says: the harness itself (its stop signal, or an injection), a child's
#: exit or death (SIGCHLD's CLD_* codes), a traced process's kill, a process the trace does not hold, or the
#: kernel (no sender pid: a fault, a timer, a pipe).
SenderKind = Literal["harness", "injection", "child-exit", "child-signalled", "kill", "untraced", "kernel"]


def _is_event_seq(name: str) -> bool:
    """A field that names an event: ``seq`` or ``*_seq``; an ``enter_seq`` is a place in the order, no event."""
    return (name == "seq" or name.endswith("_seq")) and not name.endswith("enter_seq")


@dataclass(frozen=True, slots=True)
class Claim:
    """One assertion about a trace, resting on the events whose seq numbers it names."""

    name: ClassVar[str]
    """The claim's kind, as ``explain --format json`` writes it."""

    @property
    def evidence(self) -> tuple[int, ...]:
        """The seq numbers of the events this claim rests on."""
        seqs = (getattr(self, f.name) for f in fields(self) if _is_event_seq(f.name))
        return tuple(seq for seq in seqs if isinstance(seq, int))

    def render(self) -> str:
        """The claim in words."""
        raise NotImplementedError

    def to_json(self) -> dict[str, object]:
        """The claim as JSON: its kind, its fields and its evidence."""
        return {"claim": self.name, **asdict(self), "evidence": list(self.evidence)}


# -- an interrupted call -----------------------------------------------------------------


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
EintrReader = Literal["program", "interpreter"]


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
class CalledAgain(Claim):
    """After the EINTR, the task called the same call again, first at ``seq``."""

    name: ClassVar[str] = "called-again"
    task: str
    call: str
    after_seq: int
    seq: int
    again_enter_seq: int
    between: tuple[str, ...]

    def render(self) -> str:
        count = len(self.between)
        names = ", ".join(dict.fromkeys(self.between))
        other = f" after {count} other traced call{'s' if count != 1 else ''} ({names})" if count else ""
        return f"The program then called {self.call} again at #{self.again_enter_seq}{other}."


@dataclass(frozen=True, slots=True)
class NotCalledAgain(Claim):
    """After the EINTR, the task never entered the call again: it ended, or the trace ends."""

    name: ClassVar[str] = "not-called-again"
    task: str
    call: str
    after_seq: int
    exit_seq: int | None
    how: str | None

    def render(self) -> str:
        if self.exit_seq is None:
            return f"The program never called {self.call} again in the trace."
        return f"The program did not call {self.call} again: the task {self.how} at #{self.exit_seq}."


@dataclass(frozen=True, slots=True)
class HandlesEintrItself(Claim):
    """A program that is not CPython called again after EINTR: its own code handles EINTR."""

    name: ClassVar[str] = "handles-eintr-itself"
    task: str
    program: str

    def render(self) -> str:
        return "The EINTR reached the program, which called again: it handles EINTR itself."


@dataclass(frozen=True, slots=True)
class TwoRetryCausesFit(Claim):
    """Inference: a CPython process retried, and without frames the trace cannot say who retried."""

    name: ClassVar[str] = "two-retry-causes-fit"
    task: str
    program: str
    again_seq: int

    def render(self) -> str:
        return (
            "Two causes fit, and the trace cannot tell them apart: CPython 3.5+ retries a call made through its own "
            "wrappers (socket.accept) once the Python signal handlers have run (PEP 475), and the program does not "
            "see the EINTR; or the call was made outside them (ctypes, a C extension) and the program's own loop saw "
            "EINTR and called again. The program's output (an 'Interrupted system call' message) or its source "
            "tells which; --python-frames shows it."
        )


@dataclass(frozen=True, slots=True)
class RetriedByLibrary(Claim):
    """Both entries have the same Python stack, innermost in the standard library: the library retried (PEP 475)."""

    name: ClassVar[str] = "retried-by-library"
    task: str
    first_seq: int
    again_seq: int
    place: str

    def render(self) -> str:
        return (
            f"Both entries come from the same place in the standard library, {self.place}: the library's call "
            "retried it itself once the Python handlers had run (PEP 475), and the program never saw the EINTR."
        )


@dataclass(frozen=True, slots=True)
class RetriedByOwnCode(Claim):
    """Inference from frames: the retry's innermost frame is the program's own: its own loop called again."""

    name: ClassVar[str] = "retried-by-own-code"
    task: str
    again_seq: int
    frame: str
    caller: str | None

    def render(self) -> str:
        called_from = f", called from {self.caller}" if self.caller else ""
        return (
            f"The program's own code made the call again, at {self.frame}{called_from}: no standard-library frame "
            "stands between that code and the call, so no library wrapper retried it; the program's own loop saw "
            "the EINTR and called again, as Python 2's socket.accept made every program do (inferred from the "
            "frames: a C built-in called there directly, such as os.waitpid, would look the same)."
        )


@dataclass(frozen=True, slots=True)
class RetriedFrom(Claim):
    """The retry's stack differs from the first entry's, and neither rule above fits: both places said."""

    name: ClassVar[str] = "retried-from"
    task: str
    first_seq: int
    again_seq: int
    first_place: str
    again_place: str

    def render(self) -> str:
        return f"It was entered again from {self.again_place}, first from {self.first_place}."


@dataclass(frozen=True, slots=True)
class PythonHandlerRan(Claim):
    """A Python handler's frames stand on the interrupted call's: it ran between the EINTR and the retry."""

    name: ClassVar[str] = "python-handler-ran"
    task: str
    function: str
    place: str
    calls: tuple[str, ...]
    seqs: tuple[int, ...]

    @property
    def evidence(self) -> tuple[int, ...]:
        return self.seqs

    def render(self) -> str:
        return (
            f"The Python handler {self.function} ({self.place}) ran in between, on top of the interrupted call's "
            f"frames: it made {', '.join(self.calls)} at {', '.join(f'#{seq}' for seq in self.seqs)}."
        )


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


# -- a child's end ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChildEnded(Claim):
    """A child process exited, or was killed, at ``exit_seq``."""

    name: ClassVar[str] = "child-ended"
    child: str
    pid: int
    exit_seq: int
    code: int | None
    signal: str | None

    def render(self) -> str:
        return f"{self.child} (pid {self.pid}) {self.ended()}."

    def ended(self) -> str:
        """How it ended, as a clause: a killed process did not exit ("killed by SIGTERM", never "exited with")."""
        if self.signal:
            return f"was killed by {self.signal} at #{self.exit_seq}"
        return f"exited at #{self.exit_seq} with status {self.code}"


@dataclass(frozen=True, slots=True)
class KilledBy(Claim):
    """A traced process sent the signal that killed the child, with kill/tkill/tgkill at ``kill_seq``."""

    name: ClassVar[str] = "killed-by"
    child: str
    pid: int
    signal: str
    sender: str
    kill_seq: int
    exit_seq: int

    def render(self) -> str:
        return f"{self.sender} sent it {self.signal} at #{self.kill_seq}, which killed it at #{self.exit_seq}."


@dataclass(frozen=True, slots=True)
class ReapedBy(Claim):
    """A wait of the parent returned the child's pid."""

    name: ClassVar[str] = "reaped-by"
    child: str
    pid: int
    parent: str
    call: str
    seq: int
    exit_seq: int
    lived: str | None
    path: str | None

    def render(self) -> str:
        events = self.seq - self.exit_seq
        lived = f", {self.lived} after its exit" if self.lived else ""
        later = f"{events} event{'s' if events != 1 else ''} later{lived}"
        where = f", from {self.path}" if self.path else ""
        return f"{self.parent} reaped it with {self.call} at #{self.seq} ({later}){where}."


@dataclass(frozen=True, slots=True)
class NeverReaped(Claim):
    """No wait of the parent returned the child's pid while the parent lived: a zombie until then."""

    name: ClassVar[str] = "never-reaped"
    child: str
    pid: int
    parent: str
    exit_seq: int
    parent_exit_seq: int | None
    lived: str | None

    def render(self) -> str:
        if self.parent_exit_seq is None:
            until = "until the end of the trace"
        else:
            lived = f", {self.lived} later" if self.lived else ""
            until = f"until {self.parent} exited at #{self.parent_exit_seq}{lived}"
        return f"It stayed a zombie, holding its pid and exit status, {until}: no wait of {self.parent} collected it."


@dataclass(frozen=True, slots=True)
class ReapedOnParentExit(Claim):
    """The parent exited with the zombie uncollected: the kernel re-parented it, and its new parent reaped it."""

    name: ClassVar[str] = "re-parented-at-parent-exit"
    child: str
    parent: str
    parent_exit_seq: int

    def render(self) -> str:
        return (
            f"When {self.parent} exited at #{self.parent_exit_seq}, the kernel re-parented {self.child} to the nearest "
            "child subreaper (the harness, during a run) or to init, which reaps zombies at once: it lasted no longer."
        )


@dataclass(frozen=True, slots=True)
class ServedOnWithZombie(Claim):
    """The parent accepted a connection after the child's exit without having collected it: a server at work."""

    name: ClassVar[str] = "served-on-with-zombie"
    parent: str
    child: str
    exit_seq: int
    accept_seq: int

    def render(self) -> str:
        return (
            f"{self.parent} went on serving with the zombie uncollected: it accepted a connection at "
            f"#{self.accept_seq}."
        )


@dataclass(frozen=True, slots=True)
class DefaultDoesNotReap(Claim):
    """The parent's SIGCHLD kept its default: ignored, but unlike SIG_IGN it does not ask the kernel to reap."""

    name: ClassVar[str] = "sigchld-default-does-not-reap"
    parent: str
    exit_seq: int

    def render(self) -> str:
        return (
            "SIGCHLD kept its default disposition, SIG_DFL, whose action is to ignore the signal but which, unlike "
            "SIG_IGN, does not ask the kernel to reap children."
        )


@dataclass(frozen=True, slots=True)
class HandlerDidNotReap(Claim):
    """The child's SIGCHLD reached a handler, yet the parent accepted again before any wait collected it."""

    name: ClassVar[str] = "handler-did-not-reap"
    child: str
    parent: str
    signal_seq: int
    accept_seq: int
    disposition: str

    def render(self) -> str:
        return (
            f"Its SIGCHLD was delivered to {self.parent} at #{self.signal_seq}, where {self.disposition}: the handler "
            f"ran, yet no wait collected {self.child} before {self.parent} accepted a connection at "
            f"#{self.accept_seq}. The handler does not reap (or not this child): the zombie outlives the signal meant "
            "to announce it ('reaped before the next accept' fails; 'no zombie left' may still hold)."
        )


@dataclass(frozen=True, slots=True)
class AutoReaped(Claim):
    """The parent's SIGCHLD was SIG_IGN (or SA_NOCLDWAIT): the kernel reaped the child at once."""

    name: ClassVar[str] = "auto-reaped"
    child: str
    pid: int
    exit_seq: int
    disposition: str

    def render(self) -> str:
        return (
            f"{self.child} (pid {self.pid}) exited at #{self.exit_seq}; {self.disposition}, so the kernel reaped it "
            "at once: no zombie, no SIGCHLD, and a later wait fails with ECHILD."
        )


@dataclass(frozen=True, slots=True)
class OutlivedParent(Claim):
    """The parent exited while the child still ran: the child was re-parented before it ended."""

    name: ClassVar[str] = "outlived-parent"
    child: str
    pid: int
    parent: str
    parent_exit_seq: int
    ended: str

    def render(self) -> str:
        return (
            f"{self.parent} exited at #{self.parent_exit_seq} while {self.child} (pid {self.pid}) still ran; the "
            f"kernel re-parented {self.child} to the nearest child subreaper (the harness, during a run) or to init, "
            f"which reaped it when it ended: it {self.ended}."
        )


# -- descriptors ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnectionKept(Claim):
    """The process accepted a connection and had not closed it when it entered accept again (or ended)."""

    name: ClassVar[str] = "connection-kept"
    process: str
    fd: int
    accepted_seq: int
    next_accept_seq: int | None
    next_accept: str | None

    def render(self) -> str:
        if self.next_accept_seq is None:
            return f"{self.process} accepted fd {self.fd} at #{self.accepted_seq} and never closed it."
        return (
            f"{self.process} accepted fd {self.fd} at #{self.accepted_seq} and had not closed it when it entered "
            f"{self.next_accept} again at #{self.next_accept_seq}."
        )


@dataclass(frozen=True, slots=True)
class ClosedLater(Claim):
    """The kept descriptor was closed later: just after the next accept returned, or only at ``close_seq``."""

    name: ClassVar[str] = "closed-later"
    process: str
    fd: int
    close_seq: int
    accept_seq: int | None
    """The next accept that returned just before the close (nothing else of the process between); None if not so."""
    python: bool
    place: str | None

    def render(self) -> str:
        at = f" ({self.place})" if self.place else ""
        if self.accept_seq is None:
            return (
                f"It was closed only at #{self.close_seq}{at}: until then the connection's FIN waited, whatever "
                "the child did."
            )
        sentence = (
            f"It was closed at #{self.close_seq}{at}, just after the next accept returned at #{self.accept_seq}: each "
            "connection's FIN waits for the next client, not for the end of the server"
        )
        if self.python:
            sentence += (
                "; in CPython this is what rebinding does: the old socket object is freed when the name that held it "
                "(conn) is bound to the next connection, and its descriptor closed (inferred from the timing"
                + (" and the frame" if self.place else "")
                + ")"
            )
        return sentence + "."


@dataclass(frozen=True, slots=True)
class DescriptorsGrow(Claim):
    """Accept returned ever higher numbers while the earlier ones stayed open: the table grows with each client."""

    name: ClassVar[str] = "descriptors-grow"
    process: str
    fds: tuple[int, ...]
    seqs: tuple[int, ...]

    @property
    def evidence(self) -> tuple[int, ...]:
        return self.seqs

    def render(self) -> str:
        numbers = ", ".join(map(str, self.fds))
        at = ", ".join(f"#{seq}" for seq in self.seqs)
        return (
            f"{self.process}'s accepts returned fd {numbers} ({at}), none of them closed in between: its descriptor "
            "table grows with every client, until it hits the open-files limit (EMFILE)."
        )


@dataclass(frozen=True, slots=True)
class ListenerKept(Claim):
    """A process that did work never closed the listening socket it inherited."""

    name: ClassVar[str] = "listener-kept"
    process: str
    fd: int
    owner: str
    exit_seq: int | None

    def render(self) -> str:
        ended = f"; it exited at #{self.exit_seq} still holding it" if self.exit_seq is not None else ""
        return f"{self.process} never closed the listening socket fd {self.fd} it inherited from {self.owner}{ended}."


@dataclass(frozen=True, slots=True)
class ListenerClosedByExec(Claim):
    """An execve closed the inherited listening socket: it was close-on-exec."""

    name: ClassVar[str] = "listener-closed-by-exec"
    process: str
    fd: int
    owner: str
    exec_seq: int
    program: str

    def render(self) -> str:
        return (
            f"{self.process} inherited the listening socket fd {self.fd} from {self.owner}; its execve of "
            f"{self.program} at #{self.exec_seq} closed it: fd {self.fd} is not among the descriptors the new program "
            "holds (read from /proc at the exec), so it was close-on-exec."
        )
