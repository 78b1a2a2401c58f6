"""Hand-built traces for the unit tests: one builder, numbering ``seq`` as the tracer does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.model.events import Event, ExecEvent, ExitEvent, SignalEvent, SpawnEvent, SyscallEvent
from harness.model.kernel import errno_name
from harness.model.trace import Trace


class Story:
    """Builds a trace one event at a time: seq numbers increase, pids are handed out per role.

    ``main`` is pid 100; each spawn takes the next number, so ``main.1`` is 101,
    unless ``tids`` gives a role its own.  A call takes two numbers, its entry
    and its exit, as in a real trace; :meth:`enter` reserves the entry of a
    call that returns later, after other events (a blocking accept).
    """

    def __init__(self, main_pid: int = 100, *, tids: Mapping[str, int] | None = None) -> None:
        self.events: list[Event] = []
        self.seq = 0
        self.pids = {"main": main_pid}
        self.tids = {"main": main_pid}
        self.assigned = dict(tids or {})
        self.next_id = main_pid + 1

    def _tick(self) -> int:
        self.seq += 1
        return self.seq

    def _add(self, event: Event) -> None:
        self.events.append(event)

    def enter(self) -> int:
        """Reserve the seq of a call's entry; pass it to :meth:`call` as ``enter``."""
        return self._tick()

    def call(self, role: str, name: str, ret: int | None, /, *, enter: int | None = None, **args: Any) -> SyscallEvent:
        """A call that returned ``ret`` (raw: -512 is ERESTARTSYS; None: it never returned)."""
        entered = self._tick() if enter is None else enter
        event = SyscallEvent(
            seq=self._tick(),
            pid=self.pids[role],
            tid=self.tids[role],
            role=role,
            name=name,
            args=args,
            ret=ret,
            errno=None if ret is None else errno_name(ret),
            enter_seq=entered,
        )
        self._add(event)
        return event

    def signal(self, role: str, name: str, /, **siginfo: Any) -> SignalEvent:
        event = SignalEvent(
            seq=self._tick(),
            pid=self.pids[role],
            tid=self.tids[role],
            role=role,
            name=name,
            siginfo={"si_signo": name, **siginfo},
        )
        self._add(event)
        return event

    def spawn(self, role: str, child: str, *, thread: bool = False) -> SpawnEvent:
        tid = self.assigned.get(child)
        if tid is None:
            tid = self.next_id
            self.next_id += 1
        self.pids[child] = self.pids[role] if thread else tid
        self.tids[child] = tid
        event = SpawnEvent(
            seq=self._tick(),
            pid=self.pids[role],
            tid=self.tids[role],
            role=role,
            child_pid=self.pids[child],
            child_tid=tid,
            child_role=child,
            via="clone",
            thread=thread,
        )
        self._add(event)
        return event

    def exit(self, role: str, code: int = 0, *, signal: str | None = None) -> ExitEvent:
        event = ExitEvent(
            seq=self._tick(),
            pid=self.pids[role],
            tid=self.tids[role],
            role=role,
            code=None if signal else code,
            signal=signal,
        )
        self._add(event)
        return event

    def exec(self, role: str, filename: str = "/usr/bin/python3", argv: tuple[str, ...] = ("python3",)) -> ExecEvent:
        event = ExecEvent(
            seq=self._tick(), pid=self.pids[role], tid=self.tids[role], role=role, filename=filename, argv=argv
        )
        self._add(event)
        return event

    def trace(self) -> Trace:
        return Trace(tuple(self.events))
