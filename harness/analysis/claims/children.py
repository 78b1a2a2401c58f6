"""Claims about a child process's end: how it ended, who killed it, who reaped it, or how long it stayed a zombie.

A zombie's account turns on who collected the child and when: a wait of
its parent, the kernel at once (SIGCHLD ignored), or the subreaper after the
parent's own exit; and on whether the parent went on serving meanwhile,
which is what makes a zombie a server's leak rather than a moment's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from harness.analysis.claims.claim import Claim


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
