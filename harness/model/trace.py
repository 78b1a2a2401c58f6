"""A recorded trace: the ordered events of one run, and its JSON Lines form."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, overload

from harness.model.events import (
    Event,
    ExecEvent,
    ExitEvent,
    SignalEvent,
    SpawnEvent,
    SyscallEvent,
    TraceFormatError,
    event_from_dict,
    event_to_dict,
)
from harness.model.record import field, record

#: The largest JSON Lines trace read: a run of thousands of connections writes tens of MiB.
MAX_TRACE_BYTES = 1 << 30


class TraceFileError(ValueError):
    """A JSON Lines trace that cannot be read, with the file and line at fault."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line


@record
class Trace(Sequence[Event]):
    """The events of one run in completion order, with the queries everyone needs."""

    events: tuple[Event, ...]
    _roles_by_tid: dict[int, str] | None = field(default=None, init=False, repr=False, compare=False)

    @overload
    def __getitem__(self, index: int) -> Event: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Event]: ...
    def __getitem__(self, index: int | slice) -> Event | Sequence[Event]:
        return self.events[index]

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    @classmethod
    def recorded(cls, events: Sequence[Event]) -> Trace:
        """The trace of a run, its roles tied to the program that serves (:mod:`harness.model.launcher`).

        Both a run's end and a JSON Lines file read back go through here, so
        that a launcher's processes are named alike in both.
        """
        from harness.model.launcher import name_the_launcher

        return cls(tuple(name_the_launcher(events)))

    def roles(self) -> list[str]:
        """Every role in the order it first appears."""
        return list(dict.fromkeys(event.role for event in self.events))

    def for_role(self, role: str) -> list[Event]:
        """The events of one task, in order."""
        return [event for event in self.events if event.role == role]

    def role_of_pid(self, pid: int) -> str | None:
        """Resolve a pid or tid seen in an argument or a siginfo to the role that had it."""
        if self._roles_by_tid is None:
            roles: dict[int, str] = {}
            for event in self.events:
                roles.setdefault(event.tid, event.role)
                if isinstance(event, SpawnEvent):
                    roles.setdefault(event.child_tid, event.child_role)
            object.__setattr__(self, "_roles_by_tid", roles)  # a cache: the trace itself stays frozen
            assert self._roles_by_tid is not None
        return self._roles_by_tid.get(pid)

    def exit_of(self, role: str) -> ExitEvent | None:
        """How a task ended, if it did within the trace."""
        for event in reversed(self.events):
            if isinstance(event, ExitEvent) and event.role == role:
                return event
        return None

    def outline(self) -> dict[str, list[str]]:
        """Each role's story without pids, addresses or arguments, for comparing runs.

        One token per event: ``accept4``, ``accept4 -> ERESTARTSYS``,
        ``--- SIGCHLD``, ``spawn main.1``, ``exec``, ``+++ exited 0``,
        ``+++ killed SIGTERM``.  Two runs of a deterministic program have the
        same outline; so do the harness and strace (spawn and exec aside).
        """
        stories: dict[str, list[str]] = {}
        for event in self.events:
            stories.setdefault(event.role, []).append(outline_token(event))
        return stories

    # -- JSON Lines --------------------------------------------------------

    def write_jsonl(self, stream: IO[str]) -> None:
        """Write one JSON object per event, in completion order."""
        for event in self.events:
            stream.write(event_to_json(event))

    @classmethod
    def read_jsonl(cls, path: str | Path) -> Trace:
        """Read a JSON Lines trace, naming the line of any malformed event."""
        from harness.model.files import Unreadable, read_bounded

        path = Path(path)
        try:
            text = read_bounded(path, MAX_TRACE_BYTES).decode("utf-8")
        except Unreadable as refused:
            raise TraceFileError(str(path), 0, f"cannot read the trace: {refused.reason}") from None
        except UnicodeDecodeError:
            raise TraceFileError(str(path), 0, "not a text file (expected UTF-8 JSON Lines)") from None
        return cls.from_lines(text.splitlines(), source=str(path))

    @classmethod
    def from_lines(cls, lines: Iterable[str], *, source: str = "<trace>") -> Trace:
        """Parse JSON Lines; blank lines are allowed, anything else must be an event."""
        import json  # here, like the contract: a run that only records (harness trace) starts without them

        from harness.model.event_contract import check_event

        events = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as error:
                raise TraceFileError(source, number, f"not JSON: {error.msg} at column {error.colno}") from None
            except (ValueError, RecursionError) as error:  # a 5000-digit number, brackets nested too deep
                raise TraceFileError(source, number, f"not JSON this reader accepts: {error}") from None
            try:
                event = event_from_dict(data)
                check_event(event)
            except TraceFormatError as error:
                raise TraceFileError(source, number, str(error)) from None
            events.append(event)
        return cls.recorded(events)


def outline_token(event: Event) -> str:
    """The token of one event in :meth:`Trace.outline`."""
    match event:
        case SyscallEvent():
            return f"{event.name} -> {event.errno}" if event.errno else event.name
        case SignalEvent():
            return f"--- {event.name}"
        case SpawnEvent():
            return f"spawn {event.child_role}"
        case ExecEvent():
            return "exec"
        case ExitEvent():
            return f"+++ killed {event.signal}" if event.signal else f"+++ exited {event.code}"


def event_to_json(event: Event) -> str:
    """One line of the JSON Lines format, newline included."""
    import json  # imported by the first line written (--jsonl), not by every start

    return json.dumps(event_to_dict(event), separators=(", ", ": ")) + "\n"
