"""Claims about descriptors a process held: a connection kept past the next accept, a listening socket kept.

A descriptor left open is a leak only if nothing closed it in time: these
claims say when the close came (just after the next accept, as CPython's
rebinding of ``conn`` does), whether the numbers really grow, and whether an
``execve`` closed an inherited listening socket for the process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from harness.analysis.claims.claim import Claim


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
