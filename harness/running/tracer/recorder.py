"""Event building: what the tracer saw of a task, decoded and numbered in the run's one global order.

The loop says what happened (a call entered or returned, a task spawned,
exec'd, got a signal or ended); this part decodes the arguments, gives each
event its place in the order, keeps it, and tells the listener.  Decoding
goes through :func:`_decode_entry`, :func:`_decode_exit` and
:func:`_decode_siginfo` only, so that the model's decoder can change behind
them without the loop knowing.

Every event is stamped here, and only here (:meth:`EventRecorder._now`):
one ``clock_gettime(CLOCK_MONOTONIC)`` as it is built, in whole
microseconds since :meth:`EventRecorder.start_clock`, so that times never go
back (CLOCK_REALTIME may be stepped) and a float of seconds prints exactly.
The first event, and the first entry the listener sees, also carry
CLOCK_REALTIME at time 0, the anchor of wall-clock times.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from harness.model import kernel, record
from harness.model.decode import EXIT_READS_MEMORY, REGISTER_ONLY, decode_entry, decode_exit, decode_siginfo
from harness.model.events import (
    Event,
    Listener,
    build_exec_event,
    build_exit_event,
    build_signal_event,
    build_spawn_event,
    build_syscall_entry,
    build_syscall_event,
)
from harness.model.syscalls import argument_names, known_syscalls, syscall_name, syscall_number
from harness.running.tracer.task import Call, Task

if TYPE_CHECKING:  # read only with --python-frames: imported by the tracer then, not at start-up
    from harness.model.frames import Stack
    from harness.model.kernel_abi import ForeignAbi
    from harness.running.tracer.python_stacks import PythonStacks

#: The clock of every stamp: CLOCK_MONOTONIC (clock_gettime(2)), never stepped back, unlike CLOCK_REALTIME.
_monotonic_ns = time.monotonic_ns

#: How many distinct decoded argument sets are kept for reuse (a few per call a server makes).
_DECODED_CACHE_SIZE = 4096
_RESTART_SYSCALL = syscall_number("restart_syscall")


def _read_memory(tid: int) -> Callable[[int, int], bytes | None]:
    """The task's memory, read through /proc/TID/mem (proc(5)); None where it cannot be read (a task gone)."""

    def read(address: int, size: int) -> bytes | None:
        try:
            fd = os.open(f"/proc/{tid}/mem", os.O_RDONLY)
        except OSError:
            return None
        try:
            return os.pread(fd, size, address)
        except OSError:
            return None
        finally:
            os.close(fd)

    return read


def _decode_entry(name: str, raw: tuple[int, ...], tid: int, arg_names: tuple[str, ...]) -> dict[str, object]:
    return decode_entry(name, raw, _read_memory(tid), arg_names)


def decode_inputs(tid: int, name: str, raw: tuple[int, ...]) -> dict[str, object]:
    """A call's inputs decoded at its entry, as a recorded call's are: for a watched call the run does not record."""
    return _decode_entry(name, raw, tid, argument_names(name))


def _decode_exit(name: str, raw: tuple[int, ...], ret: int, tid: int, entered: Mapping[str, Any]) -> dict[str, object]:
    return decode_exit(name, raw, ret, _read_memory(tid), entered)


def _decode_siginfo(raw: bytes) -> dict[str, object]:
    return decode_siginfo(raw)


class EventRecorder:
    """Builds the run's events in order, keeps them, and passes each to the listener."""

    def __init__(self, listener: Listener | None, harness_pid: int, stacks: PythonStacks | None = None) -> None:
        self.events: list[Event] = []
        self.seq = 0
        """The place of the last event (or entry) in the run's order."""
        self._listener = listener
        self._harness_pid = harness_pid
        self._decoded: dict[tuple[int, tuple[int, ...]], dict[str, object]] = {}
        self._stacks = stacks
        self._start_ns = _monotonic_ns()  # until start_clock() sets time 0 where the command starts
        self._event_anchor: float | None = round(time.time(), 6)  # CLOCK_REALTIME at time 0, till an event has it
        self._entry_anchor: float | None = self._event_anchor  # the same, until the first entry carries it

    def _python(self, task: Task) -> Stack | None:
        """The task's Python stack now, while it is stopped (``--python-frames``); the one place it is read."""
        return self._stacks.read(task.pid, task.tid) if self._stacks is not None else None

    # -- the clock ----------------------------------------------------------

    def start_clock(self) -> None:
        """Time 0: the traced command starts now (called once, just before it is forked)."""
        self._start_ns = _monotonic_ns()
        self._event_anchor = self._entry_anchor = round(time.time(), 6)

    def _now_us(self) -> int:
        """Microseconds since time 0: the one place that reads the clock."""
        return (_monotonic_ns() - self._start_ns) // 1000

    def _now(self) -> float:
        """Seconds since time 0, to the microsecond."""
        return self._now_us() / 1e6

    def enter(self, task: Task, nr: int, name: str, arg_names: tuple[str, ...], raw: tuple[int, ...]) -> Call:
        """A traced call's entry: decode its inputs, and tell the listener (the trace keeps only finished calls)."""
        if name in REGISTER_ONLY:
            # A server makes the same call with the same arguments thousands of times (close(4),
            # wait4(-1, WNOHANG)): events share one decoded value, which they never mutate.
            key = (nr, raw)
            args = self._decoded.get(key)
            if args is None:
                if len(self._decoded) >= _DECODED_CACHE_SIZE:
                    self._decoded.clear()
                args = self._decoded[key] = _decode_entry(name, raw, task.tid, arg_names)
        else:
            args = _decode_entry(name, raw, task.tid, arg_names)
        if nr == _RESTART_SYSCALL:  # it resumes what ERESTART_RESTARTBLOCK interrupted, which strace names
            args = {**args, "resuming": task.restart_block_call}
        self.seq += 1
        now = self._now_us()  # the stop's time, before the stack is read
        call = Call(name, raw, self.seq, args, now, python=self._python(task))
        self._entered(task, call)
        return call

    def _entered(self, task: Task, call: Call) -> None:
        """Tell the listener a traced call was entered: the trace keeps only finished calls."""
        if self._listener is None:
            return
        anchor, self._entry_anchor = self._entry_anchor, None
        self._listener(
            build_syscall_entry(
                seq=call.enter_seq,
                pid=task.pid,
                tid=task.tid,
                role=task.role,
                time=call.entered_us / 1e6,
                start_realtime=anchor,
                name=call.name,
                args=call.args,
                python=call.python,
                abi=call.abi,
            )
        )

    def enter_foreign(self, task: Task, name: str, abi: ForeignAbi, raw: tuple[int, ...]) -> Call:
        """A traced call of another ABI (a 64-bit program's ``int $0x80``): named by that ABI, its registers raw.

        As many registers as the call's prototype has arguments, under their
        names (``close``'s ``fd``), where the x86_64 table knows the call;
        all six, ``arg1`` to ``arg6``, where it does not (i386's socketcall).
        """
        names = argument_names(name) if name in known_syscalls() else tuple(f"arg{i}" for i in range(1, len(raw) + 1))
        args: dict[str, object] = dict(zip(names, raw, strict=False))
        self.seq += 1
        call = Call(name, raw, self.seq, args, self._now_us(), abi=abi)
        self._entered(task, call)
        return call

    def finish(self, task: Task, call: Call, ret: int | None) -> None:
        """A traced call's end: its return value and outputs, or ``ret`` None when it never returned."""
        if ret == -kernel.ERESTART_RESTARTBLOCK and call.name != "restart_syscall":
            task.restart_block_call = call.name  # a restart of a restart still resumes the first call
        args = call.args
        if ret is not None and call.abi is None and call.name in EXIT_READS_MEMORY:  # no other call has outputs
            outputs = _decode_exit(call.name, call.raw, ret, task.tid, call.args)
            if outputs:
                args = {**args, **outputs}
        now = self._now_us()
        self._record(
            build_syscall_event(
                seq=self._next_seq(),
                pid=task.pid,
                tid=task.tid,
                role=task.role,
                name=call.name,
                args=args,
                ret=ret,
                errno=kernel.errno_name(ret) if ret is not None and ret < 0 else None,
                enter_seq=call.enter_seq,
                injected=call.injected,
                python=call.python,
                time=now / 1e6,
                start_realtime=None,  # the run's first event gets it in _record
                duration=(now - call.entered_us) / 1e6,
                abi=call.abi,
            )
        )

    def spawn(self, task: Task, child: Task, via: str, *, thread: bool) -> None:
        """``task`` created ``child`` (fork, vfork or clone)."""
        self._record(
            build_spawn_event(
                seq=self._next_seq(),
                pid=task.pid,
                tid=task.tid,
                role=task.role,
                child_pid=child.pid,
                child_tid=child.tid,
                child_role=child.role,
                via=via,
                thread=thread,
                python=self._python(task),
                time=self._now(),
                start_realtime=None,
            )
        )

    def exec(
        self, task: Task, filename: str, argv: tuple[str, ...], fds: tuple[int, ...] | None, former_tid: int | None
    ) -> None:
        """``task`` exec'd ``filename`` and holds ``fds`` after it; ``former_tid`` called it, when not the leader."""
        if self._stacks is not None:
            self._stacks.forget(task.pid, exec=True)
        self._record(
            build_exec_event(
                seq=self._next_seq(),
                pid=task.pid,
                tid=task.tid,
                role=task.role,
                time=self._now(),
                start_realtime=None,
                filename=filename,
                argv=argv,
                fds=fds,
                former_tid=former_tid,
            )
        )

    def signal(self, task: Task, signum: int, raw_siginfo: bytes, interrupted: tuple[int, int]) -> None:
        """A signal is delivered to ``task``; it is the injected one if the harness itself sent it.

        ``interrupted`` is the call the task was in and its return value at this
        stop (``orig_rax``, ``rax``): it names the call an EINTR ends even when
        that call is not traced.
        """
        siginfo = _decode_siginfo(raw_siginfo)
        sent_by_kill = siginfo.get("si_code") in kernel.SI_CODES_WITH_SENDER
        from_harness = sent_by_kill and siginfo.get("si_pid") == self._harness_pid
        injected = from_harness and signum == task.injected_signal
        number, value = interrupted
        in_call = syscall_name(number) if number >= 0 else None
        self._record(
            build_signal_event(
                seq=self._next_seq(),
                pid=task.pid,
                tid=task.tid,
                role=task.role,
                name=kernel.signal_name(signum),
                siginfo=siginfo,
                injected=injected,
                from_harness=from_harness,
                syscall=in_call,
                syscall_errno=kernel.errno_name(value) if in_call else None,
                python=self._python(task),
                time=self._now(),
                start_realtime=None,
            )
        )

    def exit(self, task: Task, status: int) -> None:
        """``task`` ended with the wait ``status``."""
        if self._stacks is not None:
            self._stacks.ended(task.pid, task.tid)
        killed = os.WIFSIGNALED(status)
        self._record(
            build_exit_event(
                seq=self._next_seq(),
                pid=task.pid,
                tid=task.tid,
                role=task.role,
                code=None if killed else os.WEXITSTATUS(status),
                signal=kernel.signal_name(os.WTERMSIG(status)) if killed else None,
                core_dumped=killed and os.WCOREDUMP(status),
                time=self._now(),
                start_realtime=None,
            )
        )

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def _record(self, event: Event) -> None:
        if self._event_anchor is not None:
            event = record.replace(event, start_realtime=self._event_anchor)
            self._event_anchor = None
        self.events.append(event)
        if self._listener is not None:
            self._listener(event)
