"""What ``/proc`` says of a task the tracer does not stop to ask: whether and where it sleeps, and its signals.

The stall watch, the deterministic schedule, the injection of a signal and
a sweep all ask these of tasks that run freely (proc(5)):

* ``/proc/TID/stat``'s third field is ``S`` while the task sleeps
  interruptibly (a signal wakes it), ``D`` uninterruptibly, ``Z``/``X``
  once it has ended;
* ``/proc/TID/syscall`` is ``NR ARG1..ARG6 SP PC`` (hex) while it is in a
  call, ``-1 SP PC`` while it is blocked outside one, ``running`` when it runs;
* ``/proc/PID/task/TID/status`` holds the process's dispositions
  (``SigCgt``, ``SigIgn``) and the thread's own mask and pending signals
  (``SigBlk``, ``SigPnd``, with the process's ``ShdPnd``).

A task gone in between reads as not asleep, with no signal.
"""

from __future__ import annotations

from harness.model.record import record
from harness.model.syscalls import syscall_name


@record
class Asleep:
    """A task asleep in the kernel, as ``/proc`` shows it."""

    tid: int
    number: int
    """The call it sleeps in; -1 when it is blocked outside a call (a page fault)."""
    args: tuple[int, ...]
    """The call's six argument registers (none outside a call)."""
    interruptible: bool
    """``S``: a signal wakes it; ``D``: it sleeps until the kernel is done (a disk read)."""
    stack_pointer: int
    program_counter: int

    @property
    def call(self) -> str:
        """The call's name (its number as text when it has none here)."""
        return syscall_name(self.number)


def _state(tid: int) -> bytes | None:
    try:
        with open(f"/proc/{tid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def asleep(tid: int) -> Asleep | None:
    """Where ``tid`` sleeps now; None when it runs, is stopped, has ended or is gone."""
    state = _state(tid)
    if state not in (b"S", b"D"):
        return None
    try:
        with open(f"/proc/{tid}/syscall", "rb") as syscall:
            fields = syscall.read().split()
    except OSError:
        return None
    if len(fields) < 3 or not fields[0].lstrip(b"-").isdigit():
        return None
    return Asleep(
        tid,
        int(fields[0]),
        tuple(int(field, 16) for field in fields[1:-2]),
        state == b"S",
        int(fields[-2], 16),
        int(fields[-1], 16),
    )


def ended(tid: int) -> bool:
    """Whether ``tid`` has ended (a zombie not yet reaped) or is gone: nothing of it can move."""
    return _state(tid) in (None, b"Z", b"X")


def call_in(tid: int) -> str:
    """The call a task is in, in any state (``?`` when it cannot be read, or it is in none).

    Also for calls the run does not record (a server's ``poll`` under the seccomp prefilter).
    """
    try:
        with open(f"/proc/{tid}/syscall", "rb") as syscall:
            first = syscall.read().split()[:1]
    except OSError:
        return "?"
    return syscall_name(int(first[0])) if first and first[0].isdigit() else "?"


@record
class SignalMasks:
    """A thread's signal masks, as bit masks (bit n-1 for signal n)."""

    caught: int
    """``SigCgt``: the process has a handler for these."""
    blocked: int
    """``SigBlk``: this thread blocks these."""
    pending: int
    """``SigPnd`` | ``ShdPnd``: queued for this thread, or for its process, and not yet taken."""

    @staticmethod
    def has(mask: int, signum: int) -> bool:
        """Whether signal ``signum`` is in ``mask``."""
        return bool(mask >> (signum - 1) & 1)


def signal_masks(pid: int, tid: int | None = None) -> SignalMasks | None:
    """The masks of thread ``tid`` of process ``pid`` (its main thread by default); None once it is gone."""
    fields: dict[bytes, int] = {}
    try:
        with open(f"/proc/{pid}/task/{pid if tid is None else tid}/status", "rb") as status:
            for line in status:
                key, _, value = line.partition(b":")
                if key in (b"SigCgt", b"SigBlk", b"SigPnd", b"ShdPnd"):
                    fields[key] = int(value, 16)
    except (OSError, ValueError):
        return None
    return SignalMasks(
        fields.get(b"SigCgt", 0), fields.get(b"SigBlk", 0), fields.get(b"SigPnd", 0) | fields.get(b"ShdPnd", 0)
    )
